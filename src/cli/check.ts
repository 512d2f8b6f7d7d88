import { Exploration, type ExploreResult, exploreAsync } from '../explore/explorer.ts';
import { BoundedStrategy } from '../explore/strategies/bounded.ts';
import { DporStrategy } from '../explore/strategies/dpor.ts';
import { PctStrategy } from '../explore/strategies/pct.ts';
import { RandomStrategy } from '../explore/strategies/random.ts';
import type { Strategy } from '../explore/strategy.ts';
import { buildFindingReport, type FindingReport, renderFindingReport } from '../report/finding.ts';
import { verdict } from '../report/text.ts';
import type { LoadedScenario } from '../scenario/load.ts';
import type { Design } from '../vgic/designs.ts';
import { type CommonOptions, colors, printJson, programOf, say, writePerfetto } from './context.ts';
import { EXIT, UsageError } from './errors.ts';
import { Progress } from './progress.ts';

export interface CheckOptions extends CommonOptions {
  strategy: string;
  preemptions?: number;
  maxExecutions?: number;
  timeLimit?: number;
  seed: number;
  allViolations?: boolean;
}

export const STRATEGIES = ['dpor', 'bounded', 'pct', 'random'];

/** Checkers whose findings are not kernel reports. */
export const FUNCTIONAL = ['ghost', 'oracle', 'expect', 'guest', 'arch'];

export function makeStrategy(name: string, preemptions: number | undefined, seed: number): Strategy {
  switch (name) {
    case 'dpor':
      return new DporStrategy(preemptions ?? Number.POSITIVE_INFINITY);
    case 'bounded':
      return new BoundedStrategy(preemptions ?? Number.POSITIVE_INFINITY);
    case 'pct':
      return new PctStrategy(seed, 3);
    case 'random':
      return new RandomStrategy(seed);
    default:
      throw new UsageError(`unknown strategy "${name}"`, `strategies: ${STRATEGIES.join(', ')}`);
  }
}

/** Explores one scenario on one design; Ctrl-C ends the exploration and reports what was explored. */
export async function explorationOf(
  s: LoadedScenario,
  d: Design,
  o: CheckOptions,
  interrupted: { on: () => void },
) {
  const program = programOf(s, d);
  const strategy = makeStrategy(o.strategy, o.preemptions ?? s.explore.preemptions, o.seed);
  let violations = 0;
  const progress = new Progress(!o.quiet && !o.json && process.stderr.isTTY === true, () => violations);
  const x = new Exploration(program, strategy, {
    maxSteps: s.explore.maxSteps ?? 10_000,
    // Random strategies never exhaust: without a bound they stop after 10,000 executions.
    maxExecutions:
      o.maxExecutions ??
      s.explore.maxExecutions ??
      (o.strategy === 'pct' || o.strategy === 'random' ? 10_000 : undefined),
    timeLimitMs: o.timeLimit !== undefined ? o.timeLimit * 1000 : undefined,
    allViolations: o.allViolations,
    // The search stops at the first kernel report; functional findings, architecture findings and ghost
    // assertions are collected and reported too, but do not end it.
    stopOn: (v) => !FUNCTIONAL.includes(v.checker),
    progressEvery: 50,
    onProgress: (st) => progress.update(st),
    onExecution: (e) => {
      violations += e.violations.length;
    },
  });
  interrupted.on = () => x.interrupt();
  const result = await exploreAsync(x);
  progress.clear();
  return { program, result };
}

export function checkDocument(
  s: LoadedScenario,
  ref: string,
  d: Design,
  r: ExploreResult,
  reports: FindingReport[],
  o: CheckOptions,
) {
  return {
    command: 'check',
    scenario: ref,
    design: d.id,
    strategy: o.strategy,
    bounds: {
      preemptions: o.preemptions ?? s.explore.preemptions ?? null,
      maxSteps: s.explore.maxSteps ?? 10_000,
      maxExecutions: o.maxExecutions ?? null,
      timeLimitSeconds: o.timeLimit ?? null,
    },
    verdict: verdict(r.stats, r.findings),
    // Timings are left out so that the same inputs give the same document, byte for byte.
    stats: (({ elapsedMs: _e, executionsPerSec: _x, stepsPerSec: _s, ...rest }) => rest)(r.stats),
    findings: reports,
  };
}

/** vgic-lab check: explore, then print the minimised counterexample of each finding. */
export async function check(
  s: LoadedScenario,
  ref: string,
  d: Design,
  o: CheckOptions,
  interrupted: { on: () => void },
): Promise<number> {
  const c = colors(o);
  const { program, result } = await explorationOf(s, d, o, interrupted);
  // Kernel reports first; ghost assertions (model-only) last.
  const ordered = [...result.findings].sort(
    (a, b) => Number(a.violation.checker === 'ghost') - Number(b.violation.checker === 'ghost'),
  );
  const reports = ordered.map((f) =>
    buildFindingReport(program, f, {
      design: d.id,
      scenario: ref,
      maxSteps: s.explore.maxSteps ?? 10_000,
      minimise: true,
    }),
  );
  if (o.perfetto && reports[0])
    writePerfetto(o.perfetto, reports[0].interleaving, `${reports[0].title} (${s.spec.name} on ${d.id})`);
  if (o.json) printJson(checkDocument(s, ref, d, result, reports, o));
  else {
    for (const r of reports) {
      say(o, c.red(renderFindingReport(r)));
      say(o, '');
    }
    say(o, c.bold(`${s.spec.name} on ${d.id}: ${verdict(result.stats, result.findings)}`));
    for (const n of result.stats.notes) say(o, n);
    if (result.stats.stoppedBy === 'interrupted')
      say(o, 'interrupted: the numbers above are what was explored before Ctrl-C');
  }
  if (result.stats.stoppedBy === 'interrupted') return EXIT.INTERRUPTED;
  return result.findings.length > 0 ? EXIT.VIOLATION : EXIT.OK;
}
