import { Exploration, type ExploreResult, type Finding } from '../explore/explorer.ts';
import { MINIMISE_BUDGET } from '../explore/minimise.ts';
import type { Stop } from '../explore/stop.ts';
import { BoundedStrategy } from '../explore/strategies/bounded.ts';
import { DporStrategy } from '../explore/strategies/dpor.ts';
import { PctStrategy } from '../explore/strategies/pct.ts';
import { RandomStrategy } from '../explore/strategies/random.ts';
import type { Strategy } from '../explore/strategy.ts';
import { bySeverity, fails, isKernelReport } from '../report/classes.ts';
import { buildFindingReport, type FindingReport, renderFindingReport } from '../report/finding.ts';
import { verdict } from '../report/text.ts';
import type { LoadedScenario } from '../scenario/load.ts';
import { kernelConfigOf } from '../scenario/schema.ts';
import type { Design } from '../vgic/designs.ts';
import {
  type CommonOptions,
  checkWritable,
  colors,
  printJson,
  programOf,
  say,
  writePerfetto,
} from './context.ts';
import { EXIT, UsageError } from './errors.ts';
import { Progress, progressMode } from './progress.ts';
import { type ResolvedScenario, tokenTarget } from './resolve.ts';

export interface CheckOptions extends CommonOptions {
  strategy: string;
  preemptions?: number;
  maxExecutions?: number;
  timeLimit?: number;
  seed: number;
  /** When the search ends before it is exhaustive (docs/cli.md). */
  stopOn: StopOn;
  /** Lock-discipline notes count as failures (exit status 1). */
  strict?: boolean;
  /** Which findings get the full minimisation budget (docs/cli.md, "Minimisation"). */
  minimise?: Minimise;
}

export const STRATEGIES = ['dpor', 'bounded', 'pct', 'random'];

/**
 * `fatal`: at the first fatal kernel report (the modelled kernel is dead: oops, BUG, deadlock), so the
 * crash that a KCSAN or KASAN report announces is reached too; `kernel`: at the first kernel report of
 * any kind; `never`: explore everything and report every distinct finding.
 */
export const STOP_ON = ['fatal', 'kernel', 'never'] as const;
export type StopOn = (typeof STOP_ON)[number];

/**
 * `kernel`: kernel reports, what a developer reads first, are minimised in full; functional findings and
 * lock-discipline notes get a short search; `all`: every finding in full; `none`: the schedules as
 * found.
 */
export const MINIMISE = ['kernel', 'all', 'none'] as const;
export type Minimise = (typeof MINIMISE)[number];

function minimiseBudget(f: Finding, how: Minimise): number {
  if (how === 'none') return 0;
  if (how === 'all' || isKernelReport(f.violation.checker)) return MINIMISE_BUDGET.full;
  return MINIMISE_BUDGET.brief;
}

const STOPPED_AT: Record<StopOn, string> = {
  fatal: 'stopped at the first fatal kernel report',
  kernel: 'stopped at the first kernel report',
  never: 'stopped',
};

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
    maxSteps: s.explore.maxSteps,
    // Random strategies never exhaust: without a bound they stop after 10,000 executions.
    maxExecutions:
      o.maxExecutions ??
      s.explore.maxExecutions ??
      (o.strategy === 'pct' || o.strategy === 'random' ? 10_000 : null),
    timeLimitSeconds: o.timeLimit ?? null,
  };
}

/**
 * Explores one scenario on one design until its stop condition, the budget, or `stop` (a signal or
 * the time limit, which then cut the rest of the command short too).
 */
export function explorationOf(s: LoadedScenario, d: Design, o: CheckOptions, stop: Stop) {
  const program = programOf(s, d);
  const limits = limitsOf(s, o);
  const strategy = makeStrategy(o.strategy, limits.preemptions ?? undefined, o.seed);
  let violations = 0;
  const progress = new Progress(progressMode(o), () => violations);
  const x = new Exploration(program, strategy, {
    maxSteps: limits.maxSteps,
    maxExecutions: limits.maxExecutions ?? undefined,
    stop,
    allViolations: o.stopOn === 'never',
    // Functional findings and lock-discipline notes are collected on the way but never end the search.
    stopOn: (v) => isKernelReport(v.checker) && (v.fatal || o.stopOn === 'kernel'),
    progressEvery: 50,
    onProgress: (st) => progress.update(st),
    onExecution: (e) => {
      violations += e.violations.length;
    },
  });
  progress.begin(`${s.spec.name} on ${d.id}`);
  while (x.step()) {}
  const result = x.result();
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
    seed: o.strategy === 'pct' || o.strategy === 'random' ? o.seed : null,
    bounds: limits,
    stopOn: o.stopOn,
    verdict: checkVerdict(r, o),
    exhaustive: r.stats.exhaustive,
    // Timings are left out so that the same inputs give the same document, byte for byte.
    stats: (({ elapsedMs: _e, executionsPerSec: _x, stepsPerSec: _s, ...rest }) => rest)(r.stats),
    findings: reports,
  };
}

/**
 * vgic-lab check: explore, then print the minimised counterexample of each finding. `stop` carries
 * the signals; the time limit, counted from `started`, bounds the whole command, reports included.
 */
export function check(
  scenario: ResolvedScenario,
  d: Design,
  o: CheckOptions,
  signals: Stop,
  started: number,
): number {
  const { loaded: s, ref } = scenario;
  const c = colors(o);
  if (o.perfetto) checkWritable(o.perfetto);
  const limits0 = limitsOf(s, o);
  const stop =
    limits0.timeLimitSeconds === null ? signals : signals.until(started + limits0.timeLimitSeconds * 1000);
  const { program, result, limits } = explorationOf(s, d, o, stop);
  result.findings = bySeverity(result.findings, (f) => f.violation);
  const progress = new Progress(progressMode(o), () => result.findings.length);
  const reports = result.findings.map((f, i) => {
    progress.say(`minimising finding ${i + 1} of ${result.findings.length}: ${f.violation.title}`);
    return buildFindingReport(program, f, {
      design: d,
      kernel: kernelConfigOf(s.spec),
      target: tokenTarget(scenario, d),
      scenario: ref,
      maxSteps: limits.maxSteps,
      minimiseBudget: minimiseBudget(f, o.minimise ?? 'kernel'),
      stop,
    });
  });
  // A signal during the exploration, or after it (minimisation, reports).
  const interrupted = result.stats.stoppedBy === 'interrupted' || stop.reason() === 'interrupted';
  if (o.perfetto)
    writePerfetto(
      o.perfetto,
      reports.map((r, i) => ({ name: `finding ${i + 1}: ${r.title}`, il: r.interleaving })),
      `${s.spec.name} on ${d.id}`,
    );
  if (o.json) printJson(checkDocument(ref, d, result, reports, limits, o));
  else {
    reports.forEach((r, i) => {
      say(o, c.red(renderFindingReport(r, i + 1, reports.length)));
      say(o, '');
    });
    say(o, c.bold(`${s.spec.name} on ${d.id}: ${checkVerdict(result, o)}`));
    for (const n of result.stats.notes) say(o, n);
    if (interrupted) say(o, 'interrupted: the numbers above are what was done before the signal');
  }
  if (interrupted) return EXIT.INTERRUPTED;
  return result.findings.some((f) => fails(f.violation, o.strict === true)) ? EXIT.VIOLATION : EXIT.OK;
}

/** The summary line, findings already ordered most severe first. */
function checkVerdict(r: ExploreResult, o: CheckOptions): string {
  return verdict(r.stats, r.findings, { strict: o.strict === true, stoppedAt: STOPPED_AT[o.stopOn] });
}
