import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Program } from '../../src/explore/execution.ts';
import { Exploration, type ExploreResult, explore } from '../../src/explore/explorer.ts';
import { Frontier, Join, Lineage, SplitExploration, unitExploration } from '../../src/explore/split.ts';
import { DporStrategy } from '../../src/explore/strategies/dpor.ts';
import { abbaAcross, CORPUS } from '../corpus/programs.ts';

const CIRCULAR = 'WARNING: possible circular locking dependency detected';

function split(p: Program, depth: number): { result: ExploreResult; units: number } {
  const x = new SplitExploration(p, depth, { allViolations: true });
  while (x.step()) {}
  const result = x.result();
  return { result, units: (x as unknown as { join: Join }).join.units };
}

/** What a user reads of an exploration: counts, and each finding with where it was found. */
function shape(r: ExploreResult) {
  return {
    executions: r.stats.executions,
    steps: r.stats.steps,
    sleepBlocked: r.stats.sleepBlocked,
    exhaustive: r.stats.exhaustive,
    findings: r.findings.map((f) => [f.violation.title, f.token, f.execution, f.repeats]),
  };
}

/**
 * The way workers and shards join units (parallel.ts, merge.ts): every unit explored from a fresh
 * session, each admitted by the lineage or explored again from the state the units before it left.
 */
function joinFresh(p: Program, depth: number): { result: ExploreResult; reruns: number } {
  const frontier = new Frontier(p, depth, { maxSteps: 10_000 });
  const join = new Join();
  const lineage = new Lineage();
  let reruns = 0;
  for (let unit = frontier.next(); unit; unit = frontier.next()) {
    const fresh = unitExploration(p, unit, { allViolations: true });
    while (fresh.step()) {}
    const outcome = {
      result: fresh.result(),
      learned: fresh.session.learned(),
      saved: fresh.session.save(),
    };
    let r = outcome.result;
    if (!lineage.stands(outcome, Number.POSITIVE_INFINITY, Number.POSITIVE_INFINITY)) {
      reruns++;
      const again = unitExploration(p, unit, {
        allViolations: true,
        session: lineage.session,
        firstExecution: join.stats.executions,
      });
      while (again.step()) {}
      r = again.result();
    }
    join.add(r);
  }
  if (!join.ended) join.end('exhausted');
  return { result: join.result(0), reruns };
}

describe('split exploration (docs/scale.md)', () => {
  for (const p of CORPUS) {
    it(`${p.name}: depth 0 is plain DPOR, and every depth finds the same findings`, () => {
      const plain = explore(p, new DporStrategy(), { allViolations: true });
      assert.deepEqual(shape(split(p, 0).result), shape(plain));
      const titles = new Set(plain.findings.map((f) => f.violation.title));
      for (const depth of [1, 2, 4]) {
        const r = split(p, depth).result;
        assert.ok(r.stats.exhaustive, `depth ${depth} is exhaustive`);
        assert.deepEqual(new Set(r.findings.map((f) => f.violation.title)), titles, `depth ${depth}`);
      }
    });

    it(`${p.name}: units explored from fresh state and joined by the lineage give the split's result`, () => {
      for (const depth of [1, 3]) {
        assert.deepEqual(shape(joinFresh(p, depth).result), shape(split(p, depth).result), `depth ${depth}`);
      }
    });
  }

  it("lockdep's graph goes on from unit to unit: a cycle whose halves lie in different units is found", () => {
    const { result, units } = split(abbaAcross, 2);
    assert.ok(units > 1, `the split has ${units} units`);
    assert.ok(result.findings.some((f) => f.violation.title.startsWith(CIRCULAR)));
    // Each unit on its own, from a fresh graph, would not see it.
    const frontier = new Frontier(abbaAcross, 2, { maxSteps: 10_000 });
    for (let unit = frontier.next(); unit; unit = frontier.next()) {
      const x = unitExploration(abbaAcross, unit, { allViolations: true });
      while (x.step()) {}
      const alone = x.result().findings.map((f) => f.violation.title);
      assert.ok(!alone.some((t) => t.startsWith(CIRCULAR)), 'no unit alone has both orders');
    }
    // Joined from fresh units, the lineage explores the one that closes the cycle again.
    const joined = joinFresh(abbaAcross, 2);
    assert.ok(joined.reruns >= 1);
    assert.deepEqual(shape(joined.result), shape(result));
  });

  it('an execution budget counts executions across units', () => {
    const p = CORPUS.find((c) => c.name === 'lastzero-3') ?? CORPUS[CORPUS.length - 1];
    const x = new SplitExploration(p, 2, { allViolations: true, maxExecutions: 5 });
    while (x.step()) {}
    assert.equal(x.result().stats.executions, 5);
    assert.equal(x.result().stats.stoppedBy, 'max-executions');
    assert.equal(x.result().stats.exhaustive, false);
  });

  it('the whole tree in one Exploration numbers executions from firstExecution', () => {
    const x = new Exploration(CORPUS[0], new DporStrategy(), { allViolations: true, firstExecution: 10 });
    while (x.step()) {}
    assert.equal(x.result().findings[0].execution, 1, 'findings count executions within the exploration');
  });
});
