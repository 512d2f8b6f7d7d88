import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { explore } from '../../src/explore/explorer.ts';
import { BoundedStrategy } from '../../src/explore/strategies/bounded.ts';
import { DporStrategy } from '../../src/explore/strategies/dpor.ts';
import { PctStrategy } from '../../src/explore/strategies/pct.ts';
import { RandomStrategy } from '../../src/explore/strategies/random.ts';
import { CORPUS } from '../corpus/programs.ts';
import { summarise } from '../helpers.ts';

/** Runs a randomised strategy needs at most to find each expected finding (docs/explorer.md). */
const RANDOMISED_RUNS = 2000;

function covers(found: Set<string>, expected: readonly string[]): string[] {
  return expected.filter((e) => ![...found].some((t) => t.startsWith(e)));
}

describe('corpus: known answers', () => {
  assert.ok(CORPUS.length >= 15, 'the corpus has at least 15 programs');
  for (const p of CORPUS) {
    describe(p.name, () => {
      for (const make of [() => new DporStrategy(), () => new BoundedStrategy()]) {
        const s = make();
        it(`${s.name} ${p.expect.length ? 'finds' : 'clears'} it exhaustively`, () => {
          const r = summarise(p, s);
          assert.ok(r.exhaustive, 'search is exhaustive');
          assert.deepEqual(
            covers(r.titles, p.expect),
            [],
            `missing findings; got ${[...r.titles].join(' | ')}`,
          );
          if (p.expect.length === 0) assert.deepEqual([...r.titles], [], 'no false positive');
        });
      }
      for (const make of [() => new PctStrategy(7, 3), () => new RandomStrategy(7)]) {
        const s = make();
        it(`${s.name} finds every expected finding within ${RANDOMISED_RUNS} runs`, () => {
          const r = explore(p, s, { allViolations: true, maxExecutions: RANDOMISED_RUNS });
          const found = new Set(r.findings.map((f) => f.violation.title));
          assert.deepEqual(covers(found, p.expect), []);
          if (p.expect.length === 0) assert.deepEqual([...found], [], 'no false positive');
        });
      }
    });
  }
});
