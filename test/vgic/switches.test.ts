import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  switchCacheInvalidatePutsErasedOnly,
  switchFlushLpisClearsPending,
  switchHaltOnLpiDisable,
  switchLpiReleaseUnderXaLock,
  switchMovallFilterSource,
  switchOutsideGuestModeAfterSync,
  switchPauseIsCounter,
  switchPruneCheckStillOurs,
  switchPruneRefAcrossMigration,
} from '../../src/scenario/catalogue/switches.ts';
import type { ScenarioSpec } from '../../src/scenario/schema.ts';
import { FIX_SWITCHES, parseDesignExpression } from '../../src/vgic/design-expr.ts';
import type { FixSwitches } from '../../src/vgic/designs.ts';
import { check, type Run } from './util.ts';

/**
 * Every fix switch against the race it closed (src/scenario/catalogue/switches.ts, docs/scenarios.md
 * "Fix switches"): exhaustive DPOR of its scenario on two designs that differ in that switch alone.
 * With the switch off the finding is there; with it on, no finding of that kind is, among every
 * Mazurkiewicz trace.
 */

interface Flip {
  switch: keyof FixSwitches;
  scenario: ScenarioSpec;
  /** The design with the switch off, and with it on. */
  off: string;
  on: string;
  /** The finding the switch off shows (its title), and the title prefix that must be gone with it on. */
  finding: string;
  kind: string;
  /** Its class: a kernel report or a functional finding. */
  cls: 'sanitizer' | 'oracle';
}

const FLIPS: Flip[] = [
  {
    switch: 'PRUNE_REF_ACROSS_MIGRATION',
    scenario: switchPruneRefAcrossMigration,
    // The LPI lifetime before v6.9 (rcuFreedLpis off), which the stable backports of this fix run on:
    // the final put frees at once. With kfree_rcu the IRQs-off prune is an RCU read side and the
    // reference is redundant (the test below).
    off: 'V3-rcuFreedLpis-PRUNE_REF_ACROSS_MIGRATION',
    on: 'V3-rcuFreedLpis',
    finding: 'BUG: KASAN: slab-use-after-free in vgic_prune_ap_list',
    kind: 'BUG: KASAN',
    cls: 'sanitizer',
  },
  {
    switch: 'PRUNE_CHECK_STILL_OURS',
    scenario: switchPruneCheckStillOurs,
    // FLUSH_LPIS_CLEARS_PENDING off on both sides: with it the flushed LPI is not pending, the target
    // oracle answers NULL and prune never reaches the missing check.
    off: 'V3-FLUSH_LPIS_CLEARS_PENDING-PRUNE_CHECK_STILL_OURS',
    on: 'V3-FLUSH_LPIS_CLEARS_PENDING',
    finding: 'list_del corruption in vgic_prune_ap_list',
    kind: 'list_del corruption',
    cls: 'sanitizer',
  },
  {
    switch: 'FLUSH_LPIS_CLEARS_PENDING',
    scenario: switchFlushLpisClearsPending,
    off: 'V3-FLUSH_LPIS_CLEARS_PENDING',
    on: 'V3',
    finding: 'P-LPI-PENDING: an LPI stays pending on no AP list after EnableLPIs was cleared',
    kind: 'P-LPI-PENDING',
    cls: 'oracle',
  },
  {
    switch: 'CACHE_INVALIDATE_PUTS_ERASED_ONLY',
    scenario: switchCacheInvalidatePutsErasedOnly,
    off: 'V3-CACHE_INVALIDATE_PUTS_ERASED_ONLY',
    on: 'V3',
    finding: 'refcount_t: underflow; use-after-free in vgic_put_irq',
    kind: 'refcount_t',
    cls: 'sanitizer',
  },
  {
    switch: 'LPI_RELEASE_UNDER_XA_LOCK',
    scenario: switchLpiReleaseUnderXaLock,
    off: 'V3',
    on: 'V3+LPI_RELEASE_UNDER_XA_LOCK',
    finding: 'P-REF: an LPI with no reference was never freed',
    kind: 'P-REF',
    cls: 'oracle',
  },
  {
    switch: 'MOVALL_FILTER_SOURCE',
    scenario: switchMovallFilterSource,
    off: 'V3',
    on: 'V3+MOVALL_FILTER_SOURCE',
    finding: 'expect: vCPU 2 acknowledged other interrupts',
    kind: 'expect:',
    cls: 'oracle',
  },
  {
    switch: 'HALT_ON_LPI_DISABLE',
    scenario: switchHaltOnLpiDisable,
    off: 'V3',
    on: 'V3+HALT_ON_LPI_DISABLE',
    finding: 'BUG: KASAN: slab-use-after-free in vgic_v3_fold_lr_state',
    kind: 'BUG: KASAN',
    cls: 'sanitizer',
  },
  {
    switch: 'OUTSIDE_GUEST_MODE_AFTER_SYNC',
    scenario: switchOutsideGuestModeAfterSync,
    off: 'V3',
    on: 'V3+OUTSIDE_GUEST_MODE_AFTER_SYNC',
    finding: 'P-STATE-WRITE: the fold undid a completed guest write to ICACTIVER',
    kind: 'P-STATE-WRITE',
    cls: 'oracle',
  },
  {
    switch: 'PAUSE_IS_COUNTER',
    scenario: switchPauseIsCounter,
    // HALT_ON_LPI_DISABLE on on both sides: it makes the second halter.
    off: 'V3+HALT_ON_LPI_DISABLE',
    on: 'V3+HALT_ON_LPI_DISABLE+PAUSE_IS_COUNTER',
    finding: 'P-HALT: a vCPU entered the guest while the VM was halted',
    kind: 'P-HALT',
    cls: 'oracle',
  },
];

function exhaustive(s: ScenarioSpec, expr: string): Run {
  const r = check(s, parseDesignExpression(expr));
  assert.ok(r.result.stats.exhaustive, `${s.name} on ${expr}: exhaustive`);
  assert.equal(r.result.stats.boundHits, 0, `${s.name} on ${expr}: no execution cut at the step bound`);
  return r;
}

describe('each fix switch flips the verdict of its race', () => {
  for (const f of FLIPS) {
    it(`${f.switch}: ${f.scenario.name} shows "${f.finding}" on ${f.off}, nothing of the kind on ${f.on}`, () => {
      const off = parseDesignExpression(f.off);
      const on = parseDesignExpression(f.on);
      // The pair differs in this switch alone.
      for (const n of FIX_SWITCHES) assert.equal(off.fixes[n] === on.fixes[n], n !== f.switch, n);
      assert.equal(off.fixes[f.switch], false);

      const without = exhaustive(f.scenario, f.off);
      assert.ok(without[f.cls].includes(f.finding), `${f.off}: ${without.titles.join(' | ')}`);
      const withFix = exhaustive(f.scenario, f.on);
      assert.ok(!withFix.titles.some((t) => t.startsWith(f.kind)), `${f.on}: ${withFix.titles.join(' | ')}`);
    });
  }

  it('PRUNE_CHECK_STILL_OURS: the corrupted list also leaves the LPI counted wrong (P-REF)', () => {
    const r = exhaustive(switchPruneCheckStillOurs, 'V3-FLUSH_LPIS_CLEARS_PENDING-PRUNE_CHECK_STILL_OURS');
    assert.ok(r.oracle.includes('P-REF: an LPI refcount does not match its holders'), r.titles.join(' | '));
    const f = r.result.findings.find((x) => x.violation.title.startsWith('list_del corruption'))!;
    assert.match(f.violation.text(), /->next is LIST_POISON1 \(dead000000000100\)/);
  });

  it('LPI_RELEASE_UNDER_XA_LOCK: the release walk reads the new object while MAPTI configures it (KCSAN)', () => {
    const r = exhaustive(switchLpiReleaseUnderXaLock, 'V3');
    assert.ok(
      r.sanitizer.includes('BUG: KCSAN: data-race in update_lpi_config / vgic_release_deleted_lpis'),
      r.titles.join(' | '),
    );
    assert.deepEqual(exhaustive(switchLpiReleaseUnderXaLock, 'V3+LPI_RELEASE_UNDER_XA_LOCK').titles, []);
  });

  it('HALT_ON_LPI_DISABLE leaves the unlocked walk racing the flush (KCSAN): the halt does not wait for a vCPU outside guest mode', () => {
    const r = exhaustive(switchHaltOnLpiDisable, 'V3+HALT_ON_LPI_DISABLE');
    assert.deepEqual(r.sanitizer, [
      'BUG: KCSAN: data-race in vgic_flush_pending_lpis / vgic_v3_fold_lr_state',
    ]);
  });

  it('PRUNE_REF_ACROSS_MIGRATION is redundant on RCU-freed LPIs: the LPI freed in window WM outlives prune, whose IRQs-off stretch is an RCU read side', () => {
    // vgic_flush_pending_lpis drops the last reference and kfree_rcu()s the LPI while prune is in
    // window WM without a reference of its own; but kvm_vgic_sync_hwstate runs prune with IRQs off, so
    // the grace period cannot end (and the LPI cannot be freed) before prune is done with it.
    // PRUNE_CHECK_STILL_OURS, on here, keeps prune from re-linking the unlinked LPI.
    for (const expr of ['V3', 'V3-PRUNE_REF_ACROSS_MIGRATION']) {
      const r = exhaustive(switchPruneRefAcrossMigration, expr);
      assert.deepEqual(r.sanitizer, [], `${expr}: ${r.titles.join(' | ')}`);
      assert.deepEqual(r.oracle, [], `${expr}: ${r.titles.join(' | ')}`);
    }
  });

  it('every fix switch has its scenario here', () => {
    const covered = new Set(FLIPS.map((f) => f.switch));
    assert.deepEqual(
      FIX_SWITCHES.filter((n) => !covered.has(n)),
      [],
    );
  });
});
