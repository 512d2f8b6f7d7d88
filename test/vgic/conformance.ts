import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DporStrategy } from '../../src/explore/strategies/dpor.ts';
import { ReplayStrategy } from '../../src/explore/strategies/replay.ts';
import { fail, inj, kutIpi, pre, rst } from '../../src/scenario/catalogue/conformance.ts';
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
): void {
  for (const nrLr of FULL ? [1, 2, 4, 16] : quick === 'reduced' ? [1, 4] : [1]) {
    describe(`${design}, nLR ${nrLr}, default schedule`, () => {
      for (const s of conformanceSuite([nrLr], ['full', 'legacy-4'])) caseIt(s, design, 'default', known);
    });
  }
  if (!FULL && quick === 'overflow') return;
  describe(`${design}, DPOR`, () => {
    for (const trigger of ['edge', 'level'] as const) {
      for (const eoimode of [0, 1] as const) {
        for (const nrLr of [1, 4]) {
          if (!FULL && nrLr === 1 && eoimode === 1) continue;
          const c = { trigger, eoimode, nrLr };
          const m = trigger === 'edge' ? 'EDGE_IRQ_LINE' : 'SET_IRQ_LINE_HIGH';
          caseIt(inj('INJ-SPI-1', [32], m, c), design, 'dpor', known);
          caseIt(pre('PRE-SPI-4', 32, 4, [], m, c), design, 'dpor', known);
          caseIt(rst('RST-SPI-4', 32, 4, c), design, 'dpor', known);
          caseIt(fail(m, c), design, 'dpor', known);
        }
      }
    }
    for (const kind of ['self', 'target-list', 'broadcast'] as const)
      caseIt(kutIpi(kind, 4, 4), design, 'dpor', known);
  });
}
