import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { Execution, Program } from '../../src/explore/execution.ts';
import { explore } from '../../src/explore/explorer.ts';
import { BoundedStrategy } from '../../src/explore/strategies/bounded.ts';
import { OptimalStrategy } from '../../src/explore/strategies/optimal.ts';
import { CORPUS, indexer, lastzero } from '../corpus/programs.ts';
import { runCli } from '../fuzz/run.ts';
import { summarise, traceSignature } from '../helpers.ts';
import { programOf, randomProgram } from './random-programs.ts';

function outcomes(p: Program, s: OptimalStrategy | BoundedStrategy): string {
  const r = summarise(p, s, { maxSteps: 500 });
  assert.ok(r.exhaustive);
  return `finals: ${[...r.finals].sort().join(' ; ')}\nfindings: ${[...r.titles].sort().join(' ; ')}`;
}

function traceCount(p: Program): number {
  const sigs = new Set<string>();
  explore(p, new BoundedStrategy(), {
    allViolations: true,
    onExecution: (e: Execution) => sigs.add(traceSignature(e)),
  });
  return sigs.size;
}

describe('optimal DPOR (--strategy optimal)', () => {
  for (const p of [...CORPUS, lastzero(4)]) {
    it(`${p.name}: the final states and findings of every interleaving, one execution per trace`, () => {
      assert.equal(outcomes(p, new OptimalStrategy()), outcomes(p, new BoundedStrategy()));
      const s = new OptimalStrategy();
      const r = explore(p, s, { allViolations: true });
      assert.equal(r.stats.executions, traceCount(p), 'executions = Mazurkiewicz traces');
      assert.equal(r.stats.sleepBlocked, 0);
    });
  }

  for (const [n, traces] of [
    [11, 1],
    [12, 8],
    [13, 64],
  ] as const) {
    it(`indexer(${n}): ${traces} executions`, () => {
      assert.equal(summarise(indexer(n), new OptimalStrategy()).executions, traces);
    });
  }

  it('random programs (fast-check, fixed seeds): the outcomes of naive enumeration', () => {
    for (const seed of [20261202, 11]) {
      fc.assert(
        fc.property(randomProgram(), (rp) => {
          const p = programOf(rp);
          assert.equal(outcomes(p, new OptimalStrategy()), outcomes(p, new BoundedStrategy()));
        }),
        { numRuns: 100, seed },
      );
    }
  });
});

describe('vgic-lab check --strategy optimal', () => {
  it('finds the seed race and refuses a preemption bound', async () => {
    const r = await runCli(['check', 'lpi-disable-vs-eoicount-replay', '--strategy', 'optimal', '--json']);
    assert.equal(r.code, 1, r.err);
    const doc = JSON.parse(r.out);
    assert.equal(doc.strategy, 'optimal');
    assert.ok(doc.findings.some((f: { class: string }) => f.class === 'kernel'));
    const bad = await runCli(['check', 'happy-sgi', '--strategy', 'optimal', '--preemptions', '2']);
    assert.equal(bad.code, 2);
    assert.match(bad.err, /--strategy optimal has no preemption bound/);
  });
});
