import { Execution, type Outcome, type Program, Session } from './execution.ts';
import { encodeDeviations } from './schedule.ts';
import type { Strategy } from './strategy.ts';
import type { Violation } from './violation.ts';

export interface ExploreOptions {
  /** Step bound per execution; an execution reaching it ends as "bound reached", not as a violation. */
  maxSteps?: number;
  maxExecutions?: number;
  /** Wall-clock limit in milliseconds (the only non-deterministic input; off by default). */
  timeLimitMs?: number;
  /** Keep exploring after the first violation and collect the distinct ones. */
  allViolations?: boolean;
  /** Called every `progressEvery` executions (default 1000) and at the end. */
  onProgress?: (stats: ExploreStats) => void;
  progressEvery?: number;
  /** Called after every execution (tests use it to collect final states). */
  onExecution?: (exec: Execution) => void;
}

export interface Finding {
  violation: Violation;
  /** The execution's full decision list and its token. */
  decisions: number[];
  token: string;
  execution: number;
  steps: number;
  preemptions: number;
  /** Later executions that produced the same title. */
  repeats: number;
}

export interface ExploreStats {
  strategy: string;
  executions: number;
  steps: number;
  sleepBlocked: number;
  boundHits: number;
  deadlocks: number;
  elapsedMs: number;
  executionsPerSec: number;
  stepsPerSec: number;
  exhaustive: boolean;
  coverage: string;
  stoppedBy: 'exhausted' | 'first-violation' | 'max-executions' | 'time-limit' | 'interrupted';
  notes: string[];
}

export interface ExploreResult {
  stats: ExploreStats;
  findings: Finding[];
}

export function tokenOf(exec: Execution): string {
  return encodeDeviations(exec.deviations, exec.decisions.length);
}

/** Runs executions of `program` under `strategy` until it is exhausted or a stop condition holds. */
export function explore(program: Program, strategy: Strategy, opts: ExploreOptions = {}): ExploreResult {
  const session = new Session();
  const limits = { maxSteps: opts.maxSteps ?? 10_000 };
  const maxExec = opts.maxExecutions ?? Number.POSITIVE_INFINITY;
  const every = opts.progressEvery ?? 1000;
  const start = performance.now();
  const findings = new Map<string, Finding>();
  const stats: ExploreStats = {
    strategy: strategy.name,
    executions: 0,
    steps: 0,
    sleepBlocked: 0,
    boundHits: 0,
    deadlocks: 0,
    elapsedMs: 0,
    executionsPerSec: 0,
    stepsPerSec: 0,
    exhaustive: false,
    coverage: '',
    stoppedBy: 'exhausted',
    notes: [],
  };
  const refresh = () => {
    stats.elapsedMs = performance.now() - start;
    const s = stats.elapsedMs / 1000;
    stats.executionsPerSec = s > 0 ? stats.executions / s : 0;
    stats.stepsPerSec = s > 0 ? stats.steps / s : 0;
  };

  for (;;) {
    if (stats.executions >= maxExec) {
      stats.stoppedBy = 'max-executions';
      break;
    }
    if (opts.timeLimitMs !== undefined && performance.now() - start >= opts.timeLimitMs) {
      stats.stoppedBy = 'time-limit';
      break;
    }
    const scheduler = strategy.next();
    if (!scheduler) break;
    const exec = new Execution(stats.executions + 1, session, scheduler, limits);
    const outcome: Outcome = exec.run((e) => program.build(e));
    stats.executions++;
    stats.steps += exec.stepCount;
    if (outcome === 'sleep-blocked') stats.sleepBlocked++;
    if (outcome === 'bound') stats.boundHits++;
    if (outcome === 'deadlock') stats.deadlocks++;
    strategy.done(exec);
    opts.onExecution?.(exec);
    for (const v of exec.violations) {
      const known = findings.get(v.title);
      if (known) known.repeats++;
      else
        findings.set(v.title, {
          violation: v,
          decisions: [...exec.decisions],
          token: tokenOf(exec),
          execution: exec.index,
          steps: exec.stepCount,
          preemptions: exec.preemptions,
          repeats: 0,
        });
    }
    if (opts.onProgress && stats.executions % every === 0) {
      refresh();
      opts.onProgress(stats);
    }
    if (findings.size > 0 && !opts.allViolations) {
      stats.stoppedBy = 'first-violation';
      break;
    }
  }
  refresh();
  stats.exhaustive = strategy.exhausted;
  stats.coverage = strategy.exhausted ? strategy.coverage() : 'not exhaustive';
  stats.notes = strategy.notes();
  opts.onProgress?.(stats);
  return { stats, findings: [...findings.values()] };
}
