import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DporStrategy } from '../../src/explore/strategies/dpor.ts';
import { ReplayStrategy } from '../../src/explore/strategies/replay.ts';
import { fail, inj, kutIpi, pre, rst } from '../../src/scenario/catalogue/conformance.ts';
import { kutActiveGicv2, kutIpiGicv2, onGicv2 } from '../../src/scenario/catalogue/gicv2.ts';
import { conformanceSuite } from '../../src/scenario/catalogue/suite.ts';
import type { ScenarioSpec } from '../../src/scenario/schema.ts';
import { FULL } from '../tier.ts';
import { check } from './util.ts';

/**
 * A case passes when no execution violates an assertion, an oracle or a sanitizer and none reaches
 * the step bound. Lock-discipline notes do not fail a case (they are vgic-lab's hints, checked by the
 * race tests).
 */
export function passes(
  s: ScenarioSpec,
  design: string,
  mode: 'default' | 'dpor',
  maxSteps = 200_000,
  known: readonly string[] = [],
): void {
  const strategy = mode === 'dpor' ? new DporStrategy() : new ReplayStrategy({ decisions: [] });
  const r = check(s, design, strategy, { maxSteps, maxExecutions: 5000 });
  const kernel = r.sanitizer.filter((t) => !known.includes(t));
  assert.deepEqual([...kernel, ...r.oracle], [], `${s.name} on ${design}`);
  assert.equal(r.result.stats.boundHits, 0, 'no execution reached the step bound (liveness)');
  if (mode === 'dpor') assert.ok(r.result.stats.exhaustive, 'DPOR exhausted the scenario');
}

export function caseIt(
  s: ScenarioSpec,
  design: string,
  mode: 'default' | 'dpor',
  known: readonly string[] = [],
): void {
  it(`${s.name} (${mode})`, () => passes(s, design, mode, 200_000, known));
}

/**
 * The conformance suite (docs/scenarios.md, "Conformance suite") on one design: every case for nLR 1,
 * 2, 4 and 16 under the default schedule (both PRE and RST size variants), and the small cases (one
 * interrupt, four interrupts, FAIL, the IPI tests) under exhaustive DPOR. `known` are kernel reports
 * that belong to the design rather than to any case (a data race of its fold, say): the cases must
 * pass apart from those.
 *
 * The quick tier (`npm test`) takes nLR 1 (every interrupt overflows) and 4 under the default
 * schedule, and leaves out the DPOR cases whose search is long (nLR 1 with EOImode 1: up to 7 s
 * each); with `quick: 'overflow'` it takes nLR 1 under the default schedule alone. `npm run
 * test:full` runs the whole matrix.
 */
export function conformanceFor(
  design: string,
  known: readonly string[] = [],
  quick: 'reduced' | 'overflow' = 'reduced',
  gic: 'v3' | 'v2' = 'v3',
): void {
  const v2 = gic === 'v2';
  const on = (s: ScenarioSpec) => (v2 ? onGicv2(s) : s);
  const ipi = (kind: 'self' | 'target-list' | 'broadcast', nrLr: number) =>
    v2 ? kutIpiGicv2(kind, 4, nrLr) : kutIpi(kind, 4, nrLr);
  const label = v2 ? `${design} on GICv2` : design;
  for (const nrLr of FULL ? [1, 2, 4, 16] : quick === 'reduced' ? [1, 4] : [1]) {
    describe(`${label}, nLR ${nrLr}, default schedule`, () => {
      for (const s of conformanceSuite([nrLr], ['full', 'legacy-4'])) {
        if (v2 && !appliesToGicv2(s)) continue;
        caseIt(s.name.startsWith('kut-') && v2 ? ipiOf(s, nrLr, ipi) : on(s), design, 'default', known);
      }
      if (v2) caseIt(kutActiveGicv2(nrLr), design, 'default', known);
    });
  }
  if (!FULL && quick === 'overflow') return;
  describe(`${label}, DPOR`, () => {
    for (const trigger of ['edge', 'level'] as const) {
      for (const eoimode of [0, 1] as const) {
        for (const nrLr of [1, 4]) {
          if (!FULL && nrLr === 1 && eoimode === 1) continue;
          const c = { trigger, eoimode, nrLr };
          const m = trigger === 'edge' ? 'EDGE_IRQ_LINE' : 'SET_IRQ_LINE_HIGH';
          caseIt(on(inj('INJ-SPI-1', [32], m, c)), design, 'dpor', known);
          caseIt(on(pre('PRE-SPI-4', 32, 4, [], m, c)), design, 'dpor', known);
          caseIt(on(rst('RST-SPI-4', 32, 4, c)), design, 'dpor', known);
          caseIt(on(fail(m, c)), design, 'dpor', known);
        }
      }
    }
    for (const kind of ['self', 'target-list', 'broadcast'] as const)
      caseIt(ipi(kind, 4), design, 'dpor', known);
    if (v2) caseIt(kutActiveGicv2(4), design, 'dpor', known);
  });
}

/**
 * The selftest's cases a GICv2 VM can run: all but those that make SGIs pending through ISPENDR,
 * which ignores a GICv2 VM's SGIs (their sources come from GICD_SGIR).
 */
function appliesToGicv2(s: ScenarioSpec): boolean {
  return !/^(inj-sgi|pre-sgi)/.test(s.name);
}

/** The GICv2 IPI case that stands for the GICv3 one `s` of the suite. */
function ipiOf(
  s: ScenarioSpec,
  nrLr: number,
  ipi: (kind: 'self' | 'target-list' | 'broadcast', nrLr: number) => ScenarioSpec,
): ScenarioSpec {
  const kind = (['self', 'target-list', 'broadcast'] as const).find((k) =>
    s.name.startsWith(`kut-ipi-${k}-`),
  );
  if (!kind) throw new Error(`${s.name}: not an IPI case`);
  return ipi(kind, nrLr);
}
