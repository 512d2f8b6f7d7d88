import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { headWalk } from '../../src/scenario/catalogue/head-walk.ts';
import { lrOverflow } from '../../src/scenario/catalogue/lr-overflow.ts';
import {
  seedRace,
  seedRaceDiscarded,
  seedRaceDiscardedNoEoi,
} from '../../src/scenario/catalogue/seed-race.ts';
import { vgic_v3_fold_lr_state } from '../../src/vgic/fold.ts';
import { atRe } from '../helpers.ts';
import { check, runDefault } from './util.ts';

// Bounds of every exploration here: exhaustive DPOR, no preemption bound, 10,000 steps per execution,
// at most one (seed race) or two (head walk, LR overflow) guest instructions after an MI asserts.

describe('the seed race', () => {
  it('V3: DPOR finds the poisoned-pointer fault in the lockless tail walk, and the racing list_del', () => {
    const r = check(seedRace, 'V3');
    assert.ok(r.result.stats.exhaustive);
    assert.ok(r.titles.includes('Unable to handle kernel paging request in vgic_v3_fold_lr_state'));
    assert.ok(r.titles.includes('BUG: KCSAN: data-race in vgic_flush_pending_lpis / vgic_v3_fold_lr_state'));
    const fault = r.result.findings.find((f) => f.violation.checker === 'fault')!;
    const text = fault.violation.text();
    assert.match(text, /^Unable to handle kernel paging request at virtual address dead0000000000b8$/m);
    assert.match(text, new RegExp(`^pc : ${atRe(vgic_v3_fold_lr_state, 'replay_lock')}$`, 'm'));
    const kcsan = r.result.findings.find((f) => f.violation.checker === 'kcsan')!.violation.text();
    assert.ok(
      kcsan.includes(' vgic_flush_pending_lpis+') && kcsan.includes(' vgic_v3_fold_lr_state+'),
      'names both sides',
    );
  });

  it('V3, after a DISCARD: the replay reads the freed LPI (KASAN slab-use-after-free with the kfree_rcu site)', () => {
    const r = check(seedRaceDiscarded, 'V3');
    const kasan = r.result.findings.find(
      (f) => f.violation.title === 'BUG: KASAN: slab-use-after-free in vgic_v3_fold_lr_state',
    );
    assert.ok(kasan, `found ${r.titles.join(' | ')}`);
    const text = kasan.violation.text();
    assert.ok(
      text.includes(
        'Last potentially related work creation:\n kvfree_call_rcu+0x0/0x1\n vgic_release_deleted_lpis+',
      ),
    );
    assert.ok(text.includes('Freed by task 21:\n kfree+0x0/0x1\n rcu_do_batch+'));
  });

  it('V4a (list_del_rcu) is not clean: the unlocked walk (a P-LOCK note) and, after a DISCARD, use-after-free', () => {
    const r = check(seedRace, 'V4a');
    assert.deepEqual(r.notes, ['P-LOCK: vgic_v3_fold_lr_state reads the AP list without ap_list_lock']);
    assert.ok(
      !r.titles.some((t) => t.startsWith('Unable to handle')),
      'list_del_rcu keeps next valid: no poison fault',
    );
    const d = check(seedRaceDiscarded, 'V4a');
    assert.ok(
      d.sanitizer.includes('BUG: KASAN: slab-use-after-free in vgic_v3_fold_lr_state'),
      d.titles.join(' | '),
    );
  });

  for (const s of [seedRace, seedRaceDiscarded]) {
    it(`V4b (locked fold), ${s.name}: no sanitizer fires under exhaustive DPOR; the functional oracles report the lost EOI`, () => {
      const r = check(s, 'V4b');
      assert.ok(r.result.stats.exhaustive);
      assert.equal(r.result.stats.boundHits, 0);
      assert.deepEqual(r.sanitizer, [], 'no fault, KASAN, KCSAN, list, refcount or lockdep report');
      assert.deepEqual(r.notes, [], 'the locked fold holds ap_list_lock: no lock-discipline note');
      // When vgic_flush_pending_lpis unlinked last_lr_irq, V4b skips the whole replay: the guest's EOI
      // of SPI 35 outside the LRs is never replayed and SPI 35 stays active (reported, not hidden).
      // And, as on every design, the LPI that sat in vCPU 0's LR comes back pending at the fold, after
      // the EnableLPIs write completed (flush_pending_lpis does not look at the LRs).
      // (After the DISCARD the LPI is freed instead.)
      assert.deepEqual(r.oracle.sort(), [
        'P-ACTIVE: an interrupt stays active after the guest deactivated it',
        'P-EOI: a deactivation outside the LRs was lost',
        ...(s === seedRace
          ? ['P-LPI-PENDING: an LPI stays pending on no AP list after EnableLPIs was cleared']
          : []),
      ]);
    });
  }

  it('V3 shares the LPI that comes back pending from the LR after EnableLPIs was cleared', () => {
    assert.ok(
      check(seedRace, 'V3').oracle.includes(
        'P-LPI-PENDING: an LPI stays pending on no AP list after EnableLPIs was cleared',
      ),
    );
  });

  it('under the default schedule V3 shows only the unlocked walk (the race needs the interleaving)', () => {
    const r = runDefault(seedRace, 'V3');
    assert.deepEqual(r.sanitizer, []);
    assert.deepEqual(r.oracle, []);
    assert.deepEqual(r.notes, ['P-LOCK: vgic_v3_fold_lr_state reads the AP list without ap_list_lock']);
  });
});

describe('the tail walk loads last_lr_irq->ap_list.next before it tests EOIcount', () => {
  it('V3, after a DISCARD, with a guest that exits without an EOI: KASAN reads the freed last_lr_irq', () => {
    const r = check(seedRaceDiscardedNoEoi, 'V3');
    assert.ok(r.result.stats.exhaustive);
    const kasan = r.result.findings.find(
      (f) => f.violation.title === 'BUG: KASAN: slab-use-after-free in vgic_v3_fold_lr_state',
    );
    assert.ok(kasan, r.titles.join(' | '));
    // The read of the ap_list.next field (offset 0x48) of the freed LPI, in the loop header.
    assert.match(kasan.violation.text(), /^Read of size 8 at addr [0-9a-f]{16} by task CPU 0\/KVM\/1000$/m);
    assert.match(kasan.violation.text(), new RegExp(`^ ${atRe(vgic_v3_fold_lr_state, 'walk_next')}$`, 'm'));
  });

  it('V4b: its reference on last_lr_irq and the locked fold keep it alive (no kernel report)', () => {
    const r = check(seedRaceDiscardedNoEoi, 'V4b');
    assert.ok(r.result.stats.exhaustive);
    assert.deepEqual(r.sanitizer, []);
  });

  it('V1 walks its private overflow list: no lock-discipline note', () => {
    assert.deepEqual(check(lrOverflow(0), 'V1').notes, []);
  });
});

describe('head-walk wrong deactivation', () => {
  it('V2 fails P-EOI: the replay from the head deactivates P1, A2 stays active', () => {
    const r = check(headWalk, 'V2');
    assert.ok(r.oracle.includes('P-EOI: the EOIcount replay deactivated an IRQ the guest did not'));
    assert.ok(r.oracle.includes('P-ACTIVE: an interrupt stays active after the guest deactivated it'));
    const peoi = r.result.findings.find((f) => f.violation.title.startsWith('P-EOI: the EOIcount replay'))!;
    assert.match(peoi.violation.text(), /guest deactivated outside the LRs \(EOIcount\): \[34\]/);
    assert.match(peoi.violation.text(), /EOIcount replay deactivated: +\[32\]/);
  });

  it('V3 passes P-EOI (the walk starts after last_lr_irq = A3)', () => {
    const r = check(headWalk, 'V3');
    assert.ok(r.result.stats.exhaustive);
    assert.deepEqual(r.oracle, []);
    assert.deepEqual(r.sanitizer, []);
  });
});

describe('LR overflow before the rework', () => {
  it('V0 fails: a deactivation outside the LRs is lost and the interrupt stays active', () => {
    const r = check(lrOverflow(0), 'V0');
    assert.ok(r.oracle.includes('P-ACTIVE: an interrupt stays active after the guest deactivated it'));
    assert.ok(r.oracle.includes('P-EOI: a deactivation outside the LRs was lost'));
  });

  for (const d of ['V2', 'V3', 'V4b']) {
    for (const mode of [0, 1] as const) {
      it(`${d} passes with EOImode ${mode}`, () => {
        const r = check(lrOverflow(mode), d);
        assert.ok(r.result.stats.exhaustive);
        assert.equal(r.result.stats.boundHits, 0);
        assert.deepEqual(r.oracle, []);
        assert.deepEqual(r.sanitizer, []);
      });
    }
  }
});
