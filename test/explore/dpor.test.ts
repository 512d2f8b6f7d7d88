import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Execution } from '../../src/explore/execution.ts';
import { explore } from '../../src/explore/explorer.ts';
import { BoundedStrategy } from '../../src/explore/strategies/bounded.ts';
import { DporStrategy } from '../../src/explore/strategies/dpor.ts';
import { CORPUS, independentWriters, indexer, lastzero } from '../../src/kernel/corpus/programs.ts';
import { summarise, traceSignature } from '../helpers.ts';

describe('DPOR against naive enumeration', () => {
  const small = [...CORPUS, lastzero(4), independentWriters(4)];
  for (const p of small) {
    it(`${p.name}: same final states and violations as every interleaving`, () => {
      const naive = summarise(p, new BoundedStrategy());
      const dpor = summarise(p, new DporStrategy());
      assert.ok(naive.exhaustive && dpor.exhaustive);
      assert.deepEqual([...dpor.finals].sort(), [...naive.finals].sort());
      assert.deepEqual([...dpor.titles].sort(), [...naive.titles].sort());
      assert.ok(dpor.executions <= naive.executions);
    });
  }
});

function traceCount(p: ReturnType<typeof lastzero>): number {
  const sigs = new Set<string>();
  explore(p, new BoundedStrategy(), {
    allViolations: true,
    onExecution: (e: Execution) => sigs.add(traceSignature(e)),
  });
  return sigs.size;
}

describe('DPOR execution counts against Mazurkiewicz trace counts', () => {
  it('independent writers: one execution', () => {
    for (const n of [2, 3, 5, 8]) {
      const r = summarise(independentWriters(n), new DporStrategy());
      assert.equal(r.executions, 1, `n=${n}`);
    }
  });

  for (const n of [2, 3, 4]) {
    it(`lastzero(${n}): every complete execution is a distinct trace, all traces covered`, () => {
      const truth = traceCount(lastzero(n));
      const sigs = new Set<string>();
      let complete = 0;
      explore(lastzero(n), new DporStrategy(), {
        onExecution: (e) => {
          if (e.outcome === 'sleep-blocked') return;
          complete++;
          sigs.add(traceSignature(e));
        },
      });
      assert.equal(sigs.size, truth, 'covers every trace');
      assert.equal(complete, truth, 'no redundant complete execution');
    });
  }

  // Flanagan & Godefroid's indexer: 1 trace below 12 threads, then 8, 64 (Abdulla et al. 2014, Table 1).
  for (const [n, traces] of [
    [11, 1],
    [12, 8],
    [13, 64],
  ] as const) {
    it(`indexer(${n}): ${traces} executions`, () => {
      const r = summarise(indexer(n), new DporStrategy());
      assert.equal(r.complete, traces);
      assert.equal(r.executions, traces, 'no sleep-set-blocked executions');
    });
  }
});

describe('preemption-bounded DPOR', () => {
  for (const p of CORPUS) {
    it(`${p.name}: with bound 1 it reaches every state that bound-1 enumeration reaches`, () => {
      const naive = summarise(p, new BoundedStrategy(1));
      const dpor = summarise(p, new DporStrategy(1));
      for (const f of naive.finals) assert.ok(dpor.finals.has(f), `missing final state ${f}`);
      for (const t of naive.titles) assert.ok(dpor.titles.has(t), `missing finding ${t}`);
    });
  }
});
