import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { explore, type Finding } from '../../src/explore/explorer.ts';
import { minimise } from '../../src/explore/minimise.ts';
import { decodeToken, encodeDeviations, TokenError } from '../../src/explore/schedule.ts';
import { DporStrategy } from '../../src/explore/strategies/dpor.ts';
import { RandomStrategy } from '../../src/explore/strategies/random.ts';
import { ReplayStrategy } from '../../src/explore/strategies/replay.ts';
import { CORPUS, corpusProgram } from '../corpus/programs.ts';

/**
 * Lockdep's graph accumulates over an exploration (docs/explorer.md): a report that cites an edge
 * recorded in another execution cannot be reproduced from its own schedule. Every other finding must.
 */
function needsEarlierExecution(f: Finding): boolean {
  for (const m of f.violation.text().matchAll(/\(edge recorded in execution (\d+)\)/g))
    if (Number(m[1]) !== f.execution) return true;
  return false;
}

describe('schedule tokens', () => {
  it('encode and decode round trip', () => {
    const devs = [
      { at: 3, value: 1 },
      { at: 4, value: 0 },
      { at: 900, value: 17 },
    ];
    assert.deepEqual(decodeToken(encodeDeviations(devs, 1234)), { length: 1234, deviations: devs });
  });

  it('rejects other versions and garbage clearly', () => {
    assert.throws(
      () => decodeToken('S2.AAAA'),
      (e: Error) => e instanceof TokenError && /version S2/.test(e.message),
    );
    assert.throws(
      () => decodeToken('hello'),
      (e: Error) => e instanceof TokenError && /not a schedule token/.test(e.message),
    );
    assert.throws(() => decodeToken('S1.!!'), TokenError);
    assert.throws(() => decodeToken('S1.gA'), /truncated/);
  });

  for (const p of CORPUS.filter((c) => c.expect.length > 0)) {
    it(`${p.name}: each finding's token replays the same violation`, () => {
      const r = explore(p, new DporStrategy(), { allViolations: true });
      let checked = 0;
      for (const f of r.findings) {
        if (needsEarlierExecution(f)) continue;
        checked++;
        const { deviations } = decodeToken(f.token);
        const again = explore(p, new ReplayStrategy({ deviations }), { allViolations: true });
        const norm = (s: string) => s.replace(/ #\d+ /g, ' #N ');
        const same = again.findings.find((g) => g.violation.title === f.violation.title);
        assert.ok(same, `replaying ${f.token} gives ${f.violation.title}`);
        assert.equal(norm(same.violation.text()), norm(f.violation.text()), 'the same report, byte for byte');
        assert.equal(same.violation.step, f.violation.step);
      }
      assert.ok(checked > 0, 'at least one finding replayed');
    });
  }
});

describe('minimisation', () => {
  for (const p of CORPUS.filter((c) => c.expect.length > 0)) {
    it(`${p.name}: never more preemptions or steps, same violation`, () => {
      const r = explore(p, new RandomStrategy(3), { allViolations: true, maxExecutions: 300 });
      let checked = 0;
      for (const f of r.findings) {
        if (needsEarlierExecution(f)) continue;
        checked++;
        const m = minimise(p, f.decisions, f.violation.title);
        assert.ok(m, 'the original schedule reproduces');
        assert.equal(m.title, f.violation.title);
        assert.ok(m.preemptions <= f.preemptions, `preemptions ${m.preemptions} <= ${f.preemptions}`);
        assert.ok(m.step <= f.violation.step, `step ${m.step} <= ${f.violation.step}`);
      }
      assert.ok(checked > 0, 'at least one finding minimised');
    });
  }

  it('finds the one-preemption schedule of the guest-window use-after-free', () => {
    const p = corpusProgram('rcu-guest-window-uaf');
    const r = explore(p, new RandomStrategy(11), { maxExecutions: 500 });
    const f = r.findings[0];
    const m = minimise(p, f.decisions, f.violation.title)!;
    assert.equal(m.preemptions, 1);
  });
});

describe('determinism', () => {
  it('same seed, byte-identical reports and tokens (the CLI test checks the command output)', () => {
    const run = () => {
      const r = explore(corpusProgram('double-free'), new RandomStrategy(5), {
        allViolations: true,
        maxExecutions: 200,
      });
      return r.findings.map((f) => `${f.token}\n${f.violation.text()}`).join('\n');
    };
    const a = run();
    assert.ok(a.includes('BUG: KASAN: double-free'));
    assert.equal(a, run());
  });
});
