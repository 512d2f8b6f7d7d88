import { Exploration, type ExploreResult, exploreAsync } from '../explore/explorer.ts';
import { BoundedStrategy } from '../explore/strategies/bounded.ts';
import { DporStrategy } from '../explore/strategies/dpor.ts';
import { PctStrategy } from '../explore/strategies/pct.ts';
import { RandomStrategy } from '../explore/strategies/random.ts';
import type { Strategy } from '../explore/strategy.ts';
import {
  buildFindingReport,
  byFindingClass,
  type FindingReport,
  isKernelReport,
  renderFindingReport,
} from '../report/finding.ts';
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

/** The bounds an exploration actually runs with, after the scenario's and the strategy's defaults. */
export interface Limits {
  /** null: unbounded (dpor and bounded), or not a parameter of the strategy (pct and random). */
  preemptions: number | null;
  maxSteps: number;
  maxExecutions: number | null;
  timeLimitSeconds: number | null;
}

export function limitsOf(s: LoadedScenario, o: CheckOptions): Limits {
  const bounded = o.strategy === 'dpor' || o.strategy === 'bounded';
  return {
    preemptions: bounded ? (o.preemptions ?? s.explore.preemptions ?? null) : null,
    maxSteps: s.explore.maxSteps ?? 10_000,
    // Random strategies never exhaust: without a bound they stop after 10,000 executions.
    maxExecutions:
      o.maxExecutions ??
      s.explore.maxExecutions ??
      (o.strategy === 'pct' || o.strategy === 'random' ? 10_000 : null),
    timeLimitSeconds: o.timeLimit ?? null,
  };
}

/** Explores one scenario on one design; Ctrl-C ends the exploration and reports what was explored. */
export async function explorationOf(
  s: LoadedScenario,
  d: Design,
  o: CheckOptions,
  interrupted: { on: () => void },
) {
  const program = programOf(s, d);
  const limits = limitsOf(s, o);
  const strategy = makeStrategy(o.strategy, limits.preemptions ?? undefined, o.seed);
  let violations = 0;
  const progress = new Progress(!o.quiet && !o.json && process.stderr.isTTY === true, () => violations);
  const x = new Exploration(program, strategy, {
    maxSteps: limits.maxSteps,
    maxExecutions: limits.maxExecutions ?? undefined,
    timeLimitMs: limits.timeLimitSeconds !== null ? limits.timeLimitSeconds * 1000 : undefined,
    allViolations: o.allViolations,
    // The search stops at the first kernel report; functional findings, architecture findings and ghost
    // assertions are collected and reported too, but do not end it.
    stopOn: (v) => isKernelReport(v.checker),
    progressEvery: 50,
    onProgress: (st) => progress.update(st),
    onExecution: (e) => {
      violations += e.violations.length;
    },
  });
  interrupted.on = () => x.interrupt();
  const result = await exploreAsync(x);
  progress.clear();
  return { program, result, limits };
}

export function checkDocument(
  ref: string,
  d: Design,
  r: ExploreResult,
  reports: FindingReport[],
  limits: Limits,
  o: CheckOptions,
) {
  return {
    command: 'check',
    scenario: ref,
    design: d.id,
    strategy: o.strategy,
    bounds: limits,
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
  const { program, result, limits } = await explorationOf(s, d, o, interrupted);
  // What a real kernel would print comes first (and is what --perfetto traces); model-only ghost
  // assertions come last, as in compare's cells.
  const ordered = byFindingClass(result.findings, (f) => f.violation.checker);
  const reports = ordered.map((f) =>
    buildFindingReport(program, f, {
      design: d.id,
      scenario: ref,
      maxSteps: limits.maxSteps,
      minimise: true,
    }),
  );
  if (o.perfetto && reports[0])
    writePerfetto(o.perfetto, reports[0].interleaving, `${reports[0].title} (${s.spec.name} on ${d.id})`);
  if (o.json) printJson(checkDocument(ref, d, result, reports, limits, o));
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
