import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { Execution, Program } from '../../src/explore/execution.ts';
import { explore } from '../../src/explore/explorer.ts';
import { BoundedStrategy } from '../../src/explore/strategies/bounded.ts';
import { DporStrategy } from '../../src/explore/strategies/dpor.ts';
import { CORPUS, independentWriters, indexer, lastzero } from '../corpus/programs.ts';
import { summarise, traceSignature } from '../helpers.ts';
import {
  describe as describeProgram,
  programOf,
  type RandomProgram,
  randomProgram,
} from './random-programs.ts';

/** Final states and findings, as one comparable string. */
function outcomes(p: Program, s: DporStrategy | BoundedStrategy): { text: string; executions: number } {
  const r = summarise(p, s, { maxSteps: 500 });
  assert.ok(r.exhaustive, `${s.name} is exhaustive`);
  return {
    text: `finals: ${[...r.finals].sort().join(' ; ')}\nfindings: ${[...r.titles].sort().join(' ; ')}`,
    executions: r.executions,
  };
}

const BOUNDS = [0, 1, 2, 3];

describe('DPOR against naive enumeration', () => {
  const small = [...CORPUS, lastzero(4), independentWriters(4)];
  for (const p of small) {
    it(`${p.name}: same final states and violations as every interleaving`, () => {
      const naive = outcomes(p, new BoundedStrategy());
      const dpor = outcomes(p, new DporStrategy());
      assert.equal(dpor.text, naive.text);
      assert.ok(dpor.executions <= naive.executions);
    });
  }
});

/**
 * Programs where an earlier DPOR went wrong, each shrunk by fast-check from a random program: critical
 * sections spanning several steps (the release conflicted with the next acquisition, hiding the race
 * between the two acquisitions), a failed trylock doing the same, a wait whose window only a blocked
 * thread's pending step reveals, and a race whose reversing thread sleeps where the race is.
 */
const REGRESSIONS: RandomProgram[] = [
  // Bounded DPOR needs the race of a release with the next acquisition (its last context switch).
  {
    threads: [
      [
        { k: 'read', v: 0 },
        { k: 'cs', l: 0, body: [] },
        { k: 'write', v: 0, c: 1 },
      ],
      [
        { k: 'cs', l: 0, body: [{ k: 'write', v: 0, c: 2 }] },
        { k: 'write', v: 0, c: 1 },
      ],
    ],
  },
  {
    threads: [
      [{ k: 'cs', l: 0, body: [{ k: 'write', v: 0, c: 1 }] }],
      [{ k: 'cs', l: 0, body: [{ k: 'read', v: 0 }] }],
    ],
  },
  { threads: [[{ k: 'try', l: 0, body: [] }], [{ k: 'cs', l: 0, body: [] }]] },
  {
    threads: [
      [
        { k: 'write', v: 1, c: 2 },
        { k: 'cs', l: 0, body: [{ k: 'write', v: 1, c: 1 }] },
      ],
      [{ k: 'wait', v: 1, c: 2 }],
    ],
  },
  {
    threads: [
      [{ k: 'try', l: 0, body: [{ k: 'wait', v: 0, c: 1 }] }],
      [
        { k: 'cs', l: 0, body: [{ k: 'wait', v: 0, c: 1 }] },
        { k: 'write', v: 0, c: 1 },
      ],
      [{ k: 'cs', l: 0, body: [] }],
    ],
  },
  {
    threads: [
      [{ k: 'write', v: 1, c: 1 }],
      [{ k: 'cs', l: 0, body: [{ k: 'read', v: 1 }] }],
      [
        { k: 'read', v: 1 },
        { k: 'wait', v: 1, c: 1 },
      ],
    ],
  },
  {
    threads: [
      [
        { k: 'read', v: 0 },
        { k: 'cs', l: 0, body: [] },
      ],
      [
        { k: 'read', v: 0 },
        { k: 'try', l: 0, body: [] },
      ],
      [{ k: 'write', v: 0, c: 1 }],
    ],
  },
];

describe('DPOR on programs that once defeated it', () => {
  for (const rp of REGRESSIONS) {
    it(describeProgram(rp), () => {
      const p = programOf(rp);
      assert.equal(outcomes(p, new DporStrategy()).text, outcomes(p, new BoundedStrategy()).text);
      for (const b of BOUNDS)
        assert.equal(
          outcomes(p, new DporStrategy(b)).text,
          outcomes(p, new BoundedStrategy(b)).text,
          `bound ${b}`,
        );
    });
  }
});

describe('DPOR on random programs (fast-check, fixed seed)', () => {
  it('reaches the final states and findings of every interleaving', () => {
    fc.assert(
      fc.property(randomProgram(), (rp) => {
        const p = programOf(rp);
        assert.equal(outcomes(p, new DporStrategy()).text, outcomes(p, new BoundedStrategy()).text);
      }),
      { numRuns: 200, seed: 20261202 },
    );
  });

  for (const b of BOUNDS) {
    it(`with preemption bound ${b}: those of every schedule within the bound, and no more`, () => {
      fc.assert(
        fc.property(randomProgram(), (rp) => {
          const p = programOf(rp);
          assert.equal(outcomes(p, new DporStrategy(b)).text, outcomes(p, new BoundedStrategy(b)).text);
        }),
        { numRuns: 100, seed: 20261202 + b },
      );
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
    it(`${p.name}: with bounds 0 to 3, the final states and findings of bounded enumeration`, () => {
      for (const b of BOUNDS) {
        const naive = outcomes(p, new BoundedStrategy(b));
        const dpor = outcomes(p, new DporStrategy(b));
        assert.equal(dpor.text, naive.text, `bound ${b}`);
        assert.ok(dpor.executions <= naive.executions, `bound ${b}: no more executions than enumeration`);
      }
    });
  }
});
