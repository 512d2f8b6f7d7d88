import assert from 'node:assert/strict';
import { it } from 'node:test';
import { DporStrategy } from '../../src/explore/strategies/dpor.ts';
import { ReplayStrategy } from '../../src/explore/strategies/replay.ts';
import type { ScenarioSpec } from '../../src/scenario/builder.ts';
import { check } from './util.ts';

/**
 * A case passes when no execution violates an assertion, an oracle or a sanitizer (conformance.md §8.4)
 * and none reaches the step bound. Ghost assertions (model-only P-LOCK checks) are not kernel reports:
 * they are checked by the race tests, not here.
 */
export function passes(s: ScenarioSpec, design: string, mode: 'default' | 'dpor', maxSteps = 200_000): void {
  const strategy = mode === 'dpor' ? new DporStrategy() : new ReplayStrategy({ decisions: [] });
  const r = check(s, design, strategy, { maxSteps, maxExecutions: 5000 });
  assert.deepEqual([...r.sanitizer, ...r.oracle], [], `${s.name} on ${design}`);
  assert.equal(r.result.stats.boundHits, 0, 'no execution reached the step bound (liveness)');
  if (mode === 'dpor') assert.ok(r.result.stats.exhaustive, 'DPOR exhausted the scenario');
}

export function caseIt(s: ScenarioSpec, design: string, mode: 'default' | 'dpor'): void {
  it(`${s.name} (${mode})`, () => passes(s, design, mode));
}
