import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Program } from '../../src/explore/execution.ts';
import { explore } from '../../src/explore/explorer.ts';
import { choose, POINT } from '../../src/explore/ops.ts';
import { runExecution } from '../../src/explore/record.ts';
import { ReplayScheduler } from '../../src/explore/schedule.ts';
import { BoundedStrategy } from '../../src/explore/strategies/bounded.ts';
import { DporStrategy } from '../../src/explore/strategies/dpor.ts';
import { PctStrategy } from '../../src/explore/strategies/pct.ts';
import { RandomStrategy } from '../../src/explore/strategies/random.ts';
import { ReplayStrategy } from '../../src/explore/strategies/replay.ts';
import { rd, wr } from '../../src/kernel/access.ts';
import {
  initLock,
  might_lock,
  raw_spin_lock,
  raw_spin_trylock,
  raw_spin_unlock,
} from '../../src/kernel/locks.ts';
import { StructType } from '../../src/kernel/mem.ts';
import { kernelProgram } from '../corpus/program.ts';
import { corpusProgram } from '../corpus/programs.ts';

const S = new StructType('s', 32, [{ name: 'x' }, { name: 'l', size: 4 }, { name: 'm', size: 4 }]);
const X = S.field<number>('x');

describe('executions', () => {
  it('a thread that never stops ends at the step bound, which is not a violation', () => {
    const p = kernelProgram('spin', 'loops forever', [], (k) => {
      const o = k.alloc(S, 's', {}, null, false);
      k.spawn({ comm: 'spinner', pid: 1000, cpu: 0 }, function* (t) {
        for (;;) {
          yield POINT;
          wr(t, o, X, rd(t, o, X) + 1);
        }
      });
    });
    const r = explore(p, new DporStrategy(), { maxSteps: 50 });
    assert.equal(r.stats.boundHits, 1);
    assert.deepEqual(r.findings, []);
  });

  it('value choices are explored exhaustively and recorded in the schedule', () => {
    const seen = new Set<string>();
    const p: Program = {
      name: 'values',
      build(exec) {
        let final = '';
        exec.spawn('chooser', function* () {
          const a = (yield choose(3, 'a')) as number;
          const b = (yield choose(2, 'b')) as number;
          final = `${a}${b}`;
        });
        return { world: null, observer: { finalState: () => final } };
      },
    };
    for (const s of [new DporStrategy(), new BoundedStrategy()]) {
      seen.clear();
      explore(p, s, { onExecution: (e) => seen.add(e.finalState()) });
      assert.deepEqual([...seen].sort(), ['00', '01', '10', '11', '20', '21']);
    }
    const replayed = explore(p, new ReplayStrategy({ decisions: [2, 0, 1, 0] }), {
      onExecution: (e) => assert.equal(e.finalState(), '21'),
    });
    assert.equal(replayed.stats.executions, 1);
  });

  it('a schedule that does not fit the program is an error, not a silent divergence', () => {
    assert.throws(
      () => runExecution(corpusProgram('lost-update'), new ReplayScheduler([5]), { maxSteps: 10 }),
      /not enabled/,
    );
  });

  it('stops at the first violation unless asked for all, and reports progress', () => {
    const p = corpusProgram('lost-update');
    const first = explore(p, new DporStrategy());
    assert.equal(first.stats.stoppedBy, 'first-violation');
    assert.equal(first.findings.length, 1);
    let calls = 0;
    const all = explore(p, new DporStrategy(), {
      allViolations: true,
      progressEvery: 1,
      onProgress: () => calls++,
    });
    assert.equal(all.findings.length, 2);
    assert.equal(all.stats.stoppedBy, 'exhausted');
    assert.ok(calls >= all.stats.executions);
    assert.ok(all.stats.steps > 0 && all.stats.executions === 4);
  });

  it('max-executions stops a search that is not exhaustive', () => {
    const r = explore(corpusProgram('lastzero-3'), new BoundedStrategy(), { maxExecutions: 10 });
    assert.equal(r.stats.stoppedBy, 'max-executions');
    assert.equal(r.stats.exhaustive, false);
  });

  it('PCT states its probability guarantee; random is reproducible by seed', () => {
    const pct = new PctStrategy(1, 2);
    explore(corpusProgram('lost-update'), pct, { maxExecutions: 5 });
    assert.match(
      pct.notes()[0],
      /^PCT depth 2: each execution finds any bug of depth <= 2 with probability >= 1\/\(n\*k\^\(d-1\)\) = 1\/\(2\*4\^1\)/,
    );
    const a = explore(corpusProgram('double-free'), new RandomStrategy(9), {
      maxExecutions: 50,
      allViolations: true,
    });
    const b = explore(corpusProgram('double-free'), new RandomStrategy(9), {
      maxExecutions: 50,
      allViolations: true,
    });
    assert.ok(a.findings.length > 0, 'the random walk finds the double free within 50 executions');
    assert.deepEqual(
      a.findings.map((f) => f.token),
      b.findings.map((f) => f.token),
    );
    const other = explore(corpusProgram('double-free'), new RandomStrategy(10), {
      maxExecutions: 50,
      allViolations: true,
    });
    assert.notDeepEqual(
      other.findings.map((f) => f.token),
      a.findings.map((f) => f.token),
      'another seed walks other schedules',
    );
  });

  it('lockdep reports the ABBA inversion in an execution that does not deadlock', () => {
    const r = explore(corpusProgram('abba'), new ReplayStrategy({ decisions: [] }), { allViolations: true });
    assert.equal(r.findings.length, 1);
    assert.match(r.findings[0].violation.title, /^WARNING: possible circular locking dependency detected/);
    assert.equal(r.stats.deadlocks, 0);
  });
});

describe('trylock and might_lock', () => {
  it('trylock fails on a held lock without blocking and records no dependency; might_lock validates', () => {
    const results: boolean[] = [];
    const p = kernelProgram('try', 'trylock', [], (k) => {
      const o = k.alloc(S, 's', {}, null, false);
      const l = initLock(k, 'raw', o, S.field('l'), 'l', '&l');
      const m = initLock(k, 'raw', o, S.field('m'), 'm', '&m');
      k.spawn({ comm: 'a', pid: 1000, cpu: 0 }, function* (t) {
        yield raw_spin_lock(t, l);
        results.push((yield raw_spin_trylock(t, l)) as boolean);
        might_lock(t, m);
        raw_spin_unlock(t, l);
        results.push((yield raw_spin_trylock(t, m)) as boolean);
        raw_spin_unlock(t, m);
      });
    });
    const r = explore(p, new DporStrategy(), { allViolations: true });
    assert.deepEqual(results, [false, true]);
    assert.deepEqual(r.findings, []);
  });
});
