import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { levelResample } from '../../src/scenario/catalogue/resample.ts';
import { eventfd_signal } from '../../src/vgic/notify.ts';
import { atRe } from '../helpers.ts';
import { check, design, knownRaces } from './util.ts';

describe('kvm_notify_acked_irq and irqfd resampling', () => {
  for (const d of ['V2', 'V3', 'V4b']) {
    it(`${d}: the resampler lowers the line and signals its eventfd outside every raw lock`, () => {
      const r = check(levelResample, d);
      assert.ok(r.result.stats.exhaustive);
      assert.deepEqual([...r.sanitizer.filter((t) => !knownRaces(d).includes(t)), ...r.oracle], []);
      for (const w of r.worlds) {
        const fd = w.vm.resamplers[0].resamplefd;
        assert.equal(fd.loc(fd.type.field('count')).value, 1, 'the resample eventfd was signalled once');
      }
    });
  }

  it('V4b without its deferral: eventfd_signal takes a spinlock_t under the raw ap_list_lock', () => {
    const r = check(levelResample, { ...design('V4b'), deferNotify: false });
    assert.ok(r.sanitizer.includes('[ BUG: Invalid wait context ]'), r.titles.join(' | '));
    const text = r.result.findings
      .find((f) => f.violation.title === '[ BUG: Invalid wait context ]')!
      .violation.text();
    assert.match(
      text,
      new RegExp(
        `is trying to lock:\\n[0-9a-f]{16} \\(&ctx->wqh\\)\\{\\.\\.\\.\\.\\}-\\{3:3\\}, at: ${atRe(eventfd_signal, 'lock')}`,
      ),
    );
    assert.match(text, / #0: [0-9a-f]{16} \(&vgic_cpu->ap_list_lock\)/);
  });
});
