import {
  DEFAULT_MAX_STEPS,
  Execution,
  type ExecutionLimits,
  type Outcome,
  type Program,
  Session,
} from './execution.ts';
import { encodeDeviations } from './schedule.ts';
import type { Stop } from './stop.ts';
import type { Strategy } from './strategy.ts';
import type { Violation } from './violation.ts';

export interface ExploreOptions<W = unknown> {
  /** Step bound per execution; an execution reaching it ends as "bound reached", not as a violation. */
  maxSteps?: number;
  maxExecutions?: number;
  /**
   * Ends the exploration early (a signal, a time limit: the only non-deterministic inputs). An
   * execution it cuts short is dropped: it proves nothing.
   */
  stop?: Stop;
  /** Keep exploring after the first violation and collect the distinct ones. */
  allViolations?: boolean;
  /** Which findings end the search when `allViolations` is off (default: any). Others are still collected. */
  stopOn?: (v: Violation) => boolean;
  /** Called every `progressEvery` executions (default 1000) and at the end. */
  onProgress?: (stats: ExploreStats) => void;
  progressEvery?: number;
  /** Called after every execution (tests use it to collect final states). */
  onExecution?: (exec: Execution, world: W) => void;
  /**
   * The state that outlives executions to start from (a split exploration passes the state its earlier
   * units left, docs/scale.md); a fresh one by default.
   */
  session?: Session;
  /** Executions before this exploration's first (a split's earlier units): executions are numbered on. */
  firstExecution?: number;
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

/** The statistics of an exploration that has not run yet. */
export function emptyStats(strategy: string): ExploreStats {
  return {
    strategy,
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
}

export interface ExploreResult {
  stats: ExploreStats;
  findings: Finding[];
}

/** A crash inside the model (a bug of vgic-lab, not of the design): carries the schedule that hit it. */
export class InternalError extends Error {
  constructor(
    readonly original: unknown,
    readonly token: string,
    readonly execution: number,
  ) {
    super(original instanceof Error ? original.message : String(original));
  }
}

export function tokenOf(exec: Execution): string {
  return encodeDeviations(exec.deviations, exec.decisions.length);
}

/**
 * One exploration: runs executions of `program` under `strategy` until the strategy is exhausted or a
 * stop condition holds. `step` runs one execution, so callers can interleave their own work (the CLI
 * yields to the event loop to honour Ctrl-C).
 */
export class Exploration<W = unknown> {
  readonly session: Session;
  private readonly base: number;
  private readonly limits: ExecutionLimits;
  private readonly maxExec: number;
  private readonly every: number;
  private readonly start = performance.now();
  private readonly found = new Map<string, Finding>();
  private finished = false;
  readonly stats: ExploreStats;

  constructor(
    private readonly program: Program<W>,
    private readonly strategy: Strategy,
    private readonly opts: ExploreOptions<W> = {},
  ) {
    this.session = opts.session ?? new Session();
    this.base = opts.firstExecution ?? 0;
    this.limits = { maxSteps: opts.maxSteps ?? DEFAULT_MAX_STEPS, stop: opts.stop };
    this.maxExec = opts.maxExecutions ?? Number.POSITIVE_INFINITY;
    this.every = opts.progressEvery ?? 1000;
    this.stats = emptyStats(strategy.name);
  }

  private refresh(): void {
    const stats = this.stats;
    stats.elapsedMs = performance.now() - this.start;
    const s = stats.elapsedMs / 1000;
    stats.executionsPerSec = s > 0 ? stats.executions / s : 0;
    stats.stepsPerSec = s > 0 ? stats.steps / s : 0;
  }

  private finish(why: ExploreStats['stoppedBy']): void {
    this.finished = true;
    this.stats.stoppedBy = why;
    this.refresh();
    this.stats.exhaustive = why === 'exhausted' && this.strategy.exhausted;
    this.stats.coverage = this.stats.exhaustive ? this.strategy.coverage() : 'not exhaustive';
    this.stats.notes = this.strategy.notes();
    this.opts.onProgress?.(this.stats);
  }

  /** Runs one execution; returns false once the exploration has ended. */
  step(): boolean {
    if (this.finished) return false;
    const { stats, opts } = this;
    if (stats.executions >= this.maxExec) {
      this.finish('max-executions');
      return false;
    }
    const stopped = opts.stop?.reason();
    if (stopped) {
      this.finish(stopped);
      return false;
    }
    const scheduler = this.strategy.next();
    if (!scheduler) {
      this.finish('exhausted');
      return false;
    }
    const exec = new Execution(this.base + stats.executions + 1, this.session, scheduler, this.limits);
    let outcome: Outcome;
    let world: W | undefined;
    try {
      outcome = exec.run(this.program, (w) => {
        world = w;
      });
    } catch (e) {
      throw new InternalError(e, tokenOf(exec), exec.index);
    }
    if (outcome === 'stopped') {
      this.finish(opts.stop?.reason() ?? 'interrupted');
      return false;
    }
    stats.executions++;
    stats.steps += exec.stepCount;
    if (outcome === 'sleep-blocked') stats.sleepBlocked++;
    if (outcome === 'bound') stats.boundHits++;
    if (outcome === 'deadlock') stats.deadlocks++;
    this.strategy.done(exec);
    opts.onExecution?.(exec, world as W);
    for (const v of exec.violations) {
      const known = this.found.get(v.title);
      if (known) known.repeats++;
      else
        this.found.set(v.title, {
          violation: v,
          decisions: [...exec.decisions],
          token: tokenOf(exec),
          execution: stats.executions,
          steps: exec.stepCount,
          preemptions: exec.preemptions,
          repeats: 0,
        });
    }
    if (opts.onProgress && stats.executions % this.every === 0) {
      this.refresh();
      opts.onProgress(stats);
    }
    // An earlier execution's finding that met the stop condition would have ended the search already.
    if (!opts.allViolations && exec.violations.some(opts.stopOn ?? (() => true))) {
      this.finish('first-violation');
      return false;
    }
    return true;
  }

  result(): ExploreResult {
    if (!this.finished) this.refresh();
    return { stats: this.stats, findings: [...this.found.values()] };
  }
}

/** Runs an exploration to its end, synchronously. */
export function explore<W>(
  program: Program<W>,
  strategy: Strategy,
  opts: ExploreOptions<W> = {},
): ExploreResult {
  const x = new Exploration(program, strategy, opts);
  while (x.step()) {}
  return x.result();
}
