import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PROLOGUE_STEP } from '../../src/explore/execution.ts';
import { POINT } from '../../src/explore/ops.ts';
import { rd, wr } from '../../src/kernel/access.ts';
import { head, initListHead, list_add_tail, list_del } from '../../src/kernel/list.ts';
import { FN, runOnce, T, vcpu } from './util.ts';

const VAL = T.field('val');

// What docs/explorer.md promises of Kernel.runPrologue / prologueDone.
describe('prologue', () => {
  it('runs checks outside the schedule: a report there fires at no step (PROLOGUE_STEP) and adds none', () => {
    let stepsInPrologue = -1;
    const r = runOnce((k) => {
      const owner = k.alloc(T, 'owner', {}, null, false);
      const h = head(owner, 'head');
      initListHead(h);
      const n = head(k.alloc(T, 'item'), 'ap_list');
      const t0 = k.task(vcpu(0));
      k.runPrologue(
        t0,
        (function* () {
          t0.enter(FN);
          list_add_tail(t0, n, h);
          yield POINT;
          list_del(t0, n);
          list_del(t0, n);
          t0.leave();
        })(),
      );
      stepsInPrologue = k.exec.stepCount;
      k.prologueDone();
    });
    assert.equal(stepsInPrologue, 0);
    assert.equal(r.violations.length, 1);
    assert.equal(r.violations[0].title, 'list_del corruption in test_fn');
    assert.equal(r.violations[0].step, PROLOGUE_STEP);
  });

  it('prologueDone orders the prologue before every later step (KCSAN)', () => {
    for (const done of [true, false]) {
      const r = runOnce((k) => {
        const o = k.alloc(T, 'x', {}, null, false);
        const writer = k.task(vcpu(0));
        const reader = k.task(vcpu(1));
        k.runPrologue(
          writer,
          (function* () {
            writer.enter(FN);
            yield POINT;
            wr(writer, o, VAL, 1);
            writer.leave();
          })(),
        );
        if (done) k.prologueDone();
        k.start(reader, function* (t) {
          t.enter(FN);
          yield POINT;
          rd(t, o, VAL);
        });
      });
      assert.equal(
        r.violations.some((v) => v.title.startsWith('BUG: KCSAN: data-race')),
        !done,
        `prologueDone ${done ? 'called' : 'not called'}`,
      );
    }
  });
});
