import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { explore } from '../../src/explore/explorer.ts';
import { BoundedStrategy } from '../../src/explore/strategies/bounded.ts';
import { DporStrategy } from '../../src/explore/strategies/dpor.ts';
import { buildProgram } from '../../src/scenario/builder.ts';
import { catalogue } from '../../src/scenario/catalogue/index.ts';
import type { ScenarioSpec } from '../../src/scenario/schema.ts';
import { DESIGNS } from '../../src/vgic/designs.ts';
import { FULL } from '../tier.ts';
import { design, runDefault } from './util.ts';

/**
 * Preemption-bounded DPOR must find every violation that some schedule within the bound reaches: on
 * every catalogue scenario small enough to enumerate, for bounds 0 to 3, its distinct findings equal
 * those of bounded enumeration (which runs every schedule within the bound). "Small enough": one
 * execution of at most STEPS steps and an enumeration of at most BUDGET executions; a bound whose
 * enumeration exceeds the budget is skipped with the bounds above it. The seed-race scenarios run on
 * every design in the full tier and on V3 (the race) in the quick tier.
 */
const BUDGET = 500;
const STEPS = 2000;

function titles(s: ScenarioSpec, designId: string, strategy: DporStrategy | BoundedStrategy) {
  const r = explore(buildProgram(s, design(designId)), strategy, {
    allViolations: true,
    maxExecutions: BUDGET,
  });
  return {
    exhaustive: r.stats.exhaustive,
    executions: r.stats.executions,
    titles: r.findings.map((f) => f.violation.title).sort(),
  };
}

const cases: { s: ScenarioSpec; design: string }[] = [];
for (const s of catalogue()) {
  // Too long to enumerate here (inj-sgi-all: 5,520 steps an execution).
  if (runDefault(s, 'V3').result.stats.steps > STEPS) continue;
  const seed = s.name.startsWith('lpi-disable-vs');
  for (const d of seed ? (FULL ? DESIGNS.map((x) => x.id) : ['V3']) : ['V3']) cases.push({ s, design: d });
}

describe('bounded DPOR finds what bounded enumeration finds (catalogue)', () => {
  let compared = 0;
  for (const c of cases) {
    it(`${c.s.name} on ${c.design}`, () => {
      for (const b of [0, 1, 2, 3]) {
        const naive = titles(c.s, c.design, new BoundedStrategy(b));
        if (!naive.exhaustive) break;
        const dpor = titles(c.s, c.design, new DporStrategy(b));
        assert.ok(dpor.exhaustive);
        assert.deepEqual(dpor.titles, naive.titles, `bound ${b}`);
        assert.ok(
          dpor.executions <= naive.executions,
          `bound ${b}: ${dpor.executions} > ${naive.executions}`,
        );
        compared++;
      }
    });
  }
  it('compared enough to mean something', () => {
    assert.ok(
      compared >= (FULL ? 120 : 90),
      `only ${compared} (scenario, design, bound) cases were small enough`,
    );
  });
});
