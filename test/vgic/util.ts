import type { Execution } from '../../src/explore/execution.ts';
import { type ExploreOptions, type ExploreResult, explore } from '../../src/explore/explorer.ts';
import { DporStrategy } from '../../src/explore/strategies/dpor.ts';
import { ReplayStrategy } from '../../src/explore/strategies/replay.ts';
import type { Strategy } from '../../src/explore/strategy.ts';
import { buildProgram, type ScenarioSpec, type World } from '../../src/scenario/builder.ts';
import { type Design, designById } from '../../src/vgic/designs.ts';

export function design(id: string): Design {
  const d = designById(id);
  if (!d) throw new Error(`no design ${id}`);
  return d;
}

export interface Run {
  result: ExploreResult;
  titles: string[];
  /** Findings of the kernel's sanitizers (not functional oracles, expectations or ghost assertions). */
  sanitizer: string[];
  oracle: string[];
  ghost: string[];
  /** The worlds of the executions that ran to their end (sleep-set-blocked ones are cut short). */
  worlds: World[];
}

/** Explores a scenario on a design; by default exhaustive DPOR collecting every distinct finding. */
export function check(
  s: ScenarioSpec,
  d: string | Design,
  strategy: Strategy = new DporStrategy(),
  opts: ExploreOptions = {},
): Run {
  const built: { w: World; exec: Execution }[] = [];
  const p = buildProgram(s, typeof d === 'string' ? design(d) : d, (w, exec) => built.push({ w, exec }));
  const result = explore(p, strategy, { allViolations: true, ...opts });
  const worlds = built.filter((b) => b.exec.outcome !== 'sleep-blocked').map((b) => b.w);
  const f = result.findings;
  const by = (pred: (c: string) => boolean) =>
    f.filter((x) => pred(x.violation.checker)).map((x) => x.violation.title);
  return {
    result,
    titles: f.map((x) => x.violation.title),
    sanitizer: by((c) => !['oracle', 'expect', 'ghost', 'guest', 'arch'].includes(c)),
    oracle: by((c) => c === 'oracle' || c === 'expect' || c === 'guest' || c === 'arch'),
    ghost: by((c) => c === 'ghost'),
    worlds,
  };
}

/** One execution under the default schedule. */
export function runDefault(s: ScenarioSpec, d: string): Run {
  return check(s, d, new ReplayStrategy({ decisions: [] }));
}
