import type { Worker } from 'node:worker_threads';
import type { Program } from '../explore/execution.ts';
import { Exploration, type ExploreOptions, type ExploreResult, type Finding } from '../explore/explorer.ts';
import { MINIMISE_BUDGET } from '../explore/minimise.ts';
import { DEFAULT_SPLIT_DEPTH, SplitExploration } from '../explore/split.ts';
import type { Stop } from '../explore/stop.ts';
import { BoundedStrategy } from '../explore/strategies/bounded.ts';
import { DporStrategy } from '../explore/strategies/dpor.ts';
import { OptimalStrategy } from '../explore/strategies/optimal.ts';
import { PctStrategy } from '../explore/strategies/pct.ts';
import { RandomStrategy } from '../explore/strategies/random.ts';
import type { Strategy } from '../explore/strategy.ts';
import type { Violation } from '../explore/violation.ts';
import { bySeverity, fails, isKernelReport } from '../report/classes.ts';
import { buildFindingReport, type FindingReport, renderFindingReport } from '../report/finding.ts';
import { checkPage } from '../report/html/pages.ts';
import { verdict } from '../report/text.ts';
import type { World } from '../scenario/builder.ts';
import { kernelConfigOf } from '../scenario/kernel-config.ts';
import type { LoadedScenario } from '../scenario/load.ts';
import type { Design } from '../vgic/designs.ts';
import {
  type CommonOptions,
  checkHtmlTarget,
  checkWritable,
  colors,
  printJson,
  programOf,
  say,
  writeHtml,
  writePerfetto,
} from './context.ts';
import { EXIT, UsageError } from './errors.ts';
import { exploreInParallel, type UnitWorkerSetup } from './parallel.ts';
import { Progress, progressMode } from './progress.ts';
import { packageVersion, type ResolvedScenario, tokenTarget } from './resolve.ts';
import { startWorker } from './spawn.ts';
import { terminal } from './tty.ts';

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
  /** Threads that share a split exploration (docs/scale.md); 1 by default. */
  jobs?: number;
  /** Depth of the split (docs/scale.md); DEFAULT_SPLIT_DEPTH by default, 0 for plain DPOR. */
  splitDepth?: number;
  /** What a worker of --jobs needs to build the same program: the command line as given. */
  origin?: Origin;
  /** Also write the findings as one HTML page (docs/html.md). */
  html?: string;
}

/** The scenario, design and configuration as the command line named them, for workers and shards. */
export interface Origin {
  argv: string[];
  scenario: string;
  design: string;
  config?: string;
}

export const STRATEGIES = ['dpor', 'optimal', 'bounded', 'pct', 'random'];

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
    case 'optimal':
      return new OptimalStrategy();
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

/** When a search ends (`--stop-on`): functional findings and lock-discipline notes never end it. */
export function endsWhen(stopOn: StopOn): Pick<ExploreOptions, 'allViolations' | 'stopOn'> {
  return {
    allViolations: stopOn === 'never',
    stopOn: (v: Violation) => isKernelReport(v.checker) && (v.fatal || stopOn === 'kernel'),
  };
}

/** How `--jobs` starts a worker that builds the same program as this command line. */
export function workerSpawner(origin: Origin, o: CheckOptions, limits: Limits, stop: Stop): () => Worker {
  const setup: UnitWorkerSetup = {
    ...origin,
    maxSteps: limits.maxSteps,
    stopOn: o.stopOn,
    signal: stop.cell,
    // Each thread has its own clock origin: the deadline travels as epoch milliseconds.
    deadline: stop.deadline === Number.POSITIVE_INFINITY ? null : performance.timeOrigin + stop.deadline,
  };
  return () => startWorker({ units: setup, terminal: terminal() });
}

/**
 * The depth of the split an exploration runs with (docs/scale.md): DPOR without a preemption bound is
 * split, every other search runs whole (0).
 */
export function splitDepthOf(o: CheckOptions, limits: Limits): number {
  if (o.strategy !== 'dpor' || limits.preemptions !== null) return 0;
  return o.splitDepth ?? DEFAULT_SPLIT_DEPTH;
}

/**
 * Explores one scenario on one design until its stop condition, the budget, or `stop` (a signal or
 * the time limit, which then cut the rest of the command short too).
 */
export async function explorationOf(s: LoadedScenario, d: Design, o: CheckOptions, stop: Stop) {
  if (o.strategy === 'optimal' && o.preemptions !== undefined)
    throw new UsageError(
      '--strategy optimal has no preemption bound',
      'leave out --preemptions, or use --strategy dpor --preemptions N',
    );
  const program = programOf(s, d);
  const limits = limitsOf(s, o);
  const depth = splitDepthOf(o, limits);
  let violations = 0;
  const progress = new Progress(progressMode(o), () => violations);
  const opts: ExploreOptions<World> = {
    maxSteps: limits.maxSteps,
    maxExecutions: limits.maxExecutions ?? undefined,
    stop,
    ...endsWhen(o.stopOn),
    progressEvery: 50,
    onProgress: (st) => progress.update(st),
    onExecution: (e) => {
      violations += e.violations.length;
    },
  };
  progress.begin(`${s.spec.name} on ${d.id}`);
  let result: ExploreResult;
  const jobs = o.jobs ?? 1;
  if (depth > 0 && jobs > 1 && o.origin) {
    const spawn = workerSpawner(o.origin, o, limits, stop);
    ({ result } = await exploreInParallel(program, {
      ...opts,
      jobs,
      depth,
      stop,
      spawn,
    }));
  } else {
    const x =
      depth > 0
        ? new SplitExploration(program, depth, opts)
        : new Exploration(program, makeStrategy(o.strategy, limits.preemptions ?? undefined, o.seed), opts);
    while (x.step()) {}
    result = x.result();
  }
  progress.clear();
  return { program, result, limits, depth };
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
    // The HTML report's step details stay out of the document.
    findings: reports.map(({ detail: _, ...r }) => r),
  };
}

/**
 * vgic-lab check: explore, then print the minimised counterexample of each finding. `stop` carries
 * the signals; the time limit, counted from `started`, bounds the whole command, reports included.
 */
export async function check(
  scenario: ResolvedScenario,
  d: Design,
  o: CheckOptions,
  signals: Stop,
  started: number,
): Promise<number> {
  if (o.perfetto) checkWritable(o.perfetto);
  if (o.html) checkHtmlTarget(o.html);
  const stop = stopOf(scenario, o, signals, started);
  const { program, result, limits } = await explorationOf(scenario.loaded, d, o, stop);
  return reportCheck(scenario, d, o, { program, result, limits }, stop);
}

/** The signals, and the time limit counted from `started` when there is one. */
export function stopOf(scenario: ResolvedScenario, o: CheckOptions, signals: Stop, started: number): Stop {
  const seconds = limitsOf(scenario.loaded, o).timeLimitSeconds;
  return seconds === null ? signals : signals.until(started + seconds * 1000);
}

/**
 * The findings of an exploration, most severe first, each minimised and turned into its report (with
 * a line on the terminal's progress while it is minimised).
 */
export function findingReports(
  scenario: ResolvedScenario,
  d: Design,
  o: CheckOptions,
  explored: { program: Program<World>; result: ExploreResult; limits: Limits },
  stop: Stop,
): FindingReport[] {
  const { program, result, limits } = explored;
  result.findings = bySeverity(result.findings, (f) => f.violation);
  const progress = new Progress(progressMode(o), () => result.findings.length);
  return result.findings.map((f, i) => {
    progress.say(`minimising finding ${i + 1} of ${result.findings.length}: ${f.violation.title}`);
    return buildFindingReport(program, f, {
      design: d,
      kernel: kernelConfigOf(scenario.loaded.spec),
      target: tokenTarget(scenario, d),
      scenario: scenario.ref,
      maxSteps: limits.maxSteps,
      minimiseBudget: minimiseBudget(f, o.minimise ?? 'kernel'),
      stop,
      detail: o.html !== undefined,
    });
  });
}

/** The exit status of a check: 130 when a signal cut it, 1 when a finding fails it, else 0. */
export function checkStatus(result: ExploreResult, o: CheckOptions, stop: Stop): number {
  if (result.stats.stoppedBy === 'interrupted' || stop.reason() === 'interrupted') return EXIT.INTERRUPTED;
  return result.findings.some((f) => fails(f.violation, o.strict === true)) ? EXIT.VIOLATION : EXIT.OK;
}

/**
 * The second half of `check` (and of `merge`, which joins the explorations of shards): minimises each
 * finding and prints the reports and the verdict; returns the exit status.
 */
export function reportCheck(
  scenario: ResolvedScenario,
  d: Design,
  o: CheckOptions,
  explored: { program: Program<World>; result: ExploreResult; limits: Limits },
  stop: Stop,
): number {
  const { loaded: s, ref } = scenario;
  const { result, limits } = explored;
  const c = colors(o);
  const reports = findingReports(scenario, d, o, explored, stop);
  const status = checkStatus(result, o, stop);
  if (o.perfetto)
    writePerfetto(
      o.perfetto,
      reports.map((r, i) => ({ name: `finding ${i + 1}: ${r.title}`, il: r.interleaving })),
      `${s.spec.name} on ${d.id}`,
    );
  if (o.html)
    writeHtml(
      o.html,
      checkPage({
        scenario: ref,
        design: d.id,
        verdict: checkVerdict(result, o),
        notes: result.stats.notes,
        reports,
        version: packageVersion(),
      }),
    );
  if (o.json) printJson(checkDocument(ref, d, result, reports, limits, o));
  else {
    reports.forEach((r, i) => {
      const view = { width: terminal().columns, verbose: o.verbose === true };
      say(o, c.red(renderFindingReport(r, i + 1, reports.length, view)));
      say(o, '');
    });
    say(o, c.bold(`${s.spec.name} on ${d.id}: ${checkVerdict(result, o)}`));
    for (const n of result.stats.notes) say(o, n);
    if (o.html) say(o, `HTML report: ${o.html}`);
    // A signal during the exploration, or after it (minimisation, reports).
    if (status === EXIT.INTERRUPTED)
      say(o, 'interrupted: the numbers above are what was done before the signal');
  }
  return status;
}

/** The summary line, findings already ordered most severe first. */
function checkVerdict(r: ExploreResult, o: CheckOptions): string {
  return verdict(r.stats, r.findings, { strict: o.strict === true, stoppedAt: STOPPED_AT[o.stopOn] });
}
