import { availableParallelism } from 'node:os';
import type { Worker } from 'node:worker_threads';
import type { Learned, Program, Session } from '../explore/execution.ts';
import {
  type Exploration,
  type ExploreOptions,
  type ExploreResult,
  type ExploreStats,
  InternalError,
} from '../explore/explorer.ts';
import {
  type FindingJson,
  type FreshOutcome,
  Frontier,
  findingFromJson,
  findingToJson,
  Join,
  Lineage,
  type UnitJson,
  unitExploration,
  unitToJson,
} from '../explore/split.ts';
import type { Stop } from '../explore/stop.ts';
import type { Unit } from '../explore/strategies/tree.ts';

/**
 * `--jobs N`: a split exploration (split.ts) shared among threads. This thread explores units alone for
 * a moment (most checks end before workers would have started); then N workers (worker threads)
 * explore the rest while this thread hands out units in depth-first order and joins the results in
 * that order. The result is that of one thread exploring every unit in turn, whatever N and whoever
 * finished first (docs/scale.md).
 */

/** What a worker needs to build the same program: the command line's scenario, design and options. */
export interface UnitWorkerSetup {
  /** The command line, for the design modules it names (loaded before anything else). */
  argv: string[];
  scenario: string;
  design: string;
  config?: string;
  maxSteps: number;
  stopOn: 'fatal' | 'kernel' | 'never';
  signal: Int32Array | null;
  /** Epoch milliseconds after which work stops (--time-limit); null for none. */
  deadline: number | null;
}

/** A unit's result as a worker or a shard sends it: findings without their behaviour, what the
 * unit's fresh session learned, and that session itself where it was asked for. */
export interface UnitResultJson {
  stats: ExploreResult['stats'];
  findings: FindingJson[];
  learned: Record<string, Learned>;
  saved?: Record<string, unknown>;
}

/** The result of a unit explored from a fresh session, as JSON. */
export function freshToJson<W>(x: Exploration<W>, withSession: boolean): UnitResultJson {
  const r = x.result();
  return {
    // Without timings: a shard document is the same for the same inputs, byte for byte.
    stats: { ...r.stats, elapsedMs: 0, executionsPerSec: 0, stepsPerSec: 0 },
    findings: r.findings.map(findingToJson),
    learned: x.session.learned(),
    ...(withSession ? { saved: x.session.save() } : {}),
  };
}

export function freshFromJson(j: UnitResultJson): FreshOutcome {
  return {
    result: { stats: j.stats, findings: j.findings.map(findingFromJson) },
    learned: j.learned,
    saved: j.saved,
  };
}

export interface ToWorker {
  index: number;
  unit: UnitJson;
  maxExecutions: number;
  /** Send the session at the unit's end too (`Lineage`: nothing has been learned before it yet). */
  withSession: boolean;
}

export type FromWorker =
  | { index: number; result: UnitResultJson }
  | { error: { message: string; stack?: string; token: string; execution: number } };

/**
 * The default number of jobs: the CPUs this process may use, or VGIC_LAB_JOBS (the test runner sets 1,
 * so that tests running side by side do not each start workers; docs/scale.md).
 */
export function defaultJobs(): number {
  const env = Number(process.env.VGIC_LAB_JOBS);
  return Number.isInteger(env) && env >= 1 ? env : availableParallelism();
}

/**
 * Wall time a split exploration runs on this thread alone before it hands the rest to workers;
 * VGIC_LAB_SOLO_MS sets another (tests set 0 to start workers at once).
 */
function soloMs(): number {
  const env = Number(process.env.VGIC_LAB_SOLO_MS);
  return process.env.VGIC_LAB_SOLO_MS !== undefined && Number.isFinite(env) && env >= 0 ? env : 300;
}

export interface ParallelOptions<W> extends ExploreOptions<W> {
  jobs: number;
  depth: number;
  /** Starts one worker (main.ts's way of finding the worker bundle). */
  spawn: () => Worker;
  stop: Stop;
}

/** A unit's result: explored here from the lineage's state (final), or elsewhere from a fresh one. */
type Outcome = { here: ExploreResult } | { fresh: FreshOutcome; cap: number };

export async function exploreInParallel<W>(
  program: Program<W>,
  opts: ParallelOptions<W>,
): Promise<{ result: ExploreResult; units: number }> {
  const started = performance.now();
  const solo = soloMs();
  const maxSteps = opts.maxSteps ?? 10_000;
  const frontier = new Frontier(program as Program, opts.depth, { maxSteps, stop: opts.stop });
  const cap = opts.maxExecutions ?? Number.POSITIVE_INFINITY;
  const join = new Join();
  const lineage = new Lineage();
  const units: Unit[] = [];
  const outcomes = new Map<number, Outcome>();
  const workers: Worker[] = [];
  /** The exploration is over: workers ending now are being terminated. */
  let finished = false;
  let frontierDone = false;
  let stopReason: ExploreStats['stoppedBy'] | null = null;
  let failure: unknown = null;
  let wake: (() => void) | null = null;
  const poke = () => {
    wake?.();
    wake = null;
  };

  /** The next unit in depth-first order; null when none is left. */
  const take = (): number | null => {
    if (frontierDone || join.ended) return null;
    const unit = opts.stop.reason() ? null : frontier.next();
    if (!unit) {
      // Units still out see the same stop and come back cut short: they are joined first.
      frontierDone = true;
      stopReason = opts.stop.reason();
      return null;
    }
    units.push(unit);
    return units.length - 1;
  };

  /** Explores unit `i` here, from `session`, numbering its executions after the joined ones. */
  const exploreHere = (i: number, session: Session, maxExecutions: number) =>
    unitExploration(program, units[i], {
      ...opts,
      session,
      firstExecution: join.stats.executions,
      maxExecutions,
      onProgress: undefined,
    });

  /**
   * Joins the outcomes that are next in order. One from elsewhere stands unless the lineage's state
   * would have changed it, or it had a larger execution budget than turned out to be left for it: then
   * it is explored again here.
   */
  const joinReady = () => {
    while (!join.ended && outcomes.has(join.units)) {
      const i = join.units;
      const o = outcomes.get(i)!;
      outcomes.delete(i);
      let r: ExploreResult;
      const left = cap - join.stats.executions;
      if ('here' in o) r = o.here;
      else if (!lineage.stands(o.fresh, o.cap, left)) {
        const x = exploreHere(i, lineage.session, left);
        while (x.step()) {}
        r = x.result();
      } else r = o.fresh.result;
      join.add(r);
      opts.onProgress?.(join.stats);
    }
    if (!join.ended && frontierDone && join.units === units.length) join.end(stopReason ?? 'exhausted');
  };

  /** Workers started (never with one job: this thread explores every unit). */
  let spawned = false;
  /** Units handed back by this thread when the workers started: the workers take them first. */
  const handedBack: number[] = [];

  /**
   * The solo phase: explores unit `i` here on a fork of the lineage's state. When the phase ends during
   * the unit, the workers start and the unit goes to them (null): from then on this thread must be free
   * to hand out units.
   */
  const exploreSolo = (i: number): ExploreResult | null => {
    const fork = lineage.fork();
    const x = exploreHere(i, fork, cap - join.stats.executions);
    while (x.step()) {
      if (opts.jobs > 1 && !spawned && performance.now() - started >= solo) {
        spawned = true;
        handedBack.push(i);
        startWorkers();
        return null;
      }
    }
    lineage.session = fork;
    return x.result();
  };

  /** The execution budget each unit was sent with: at most what was left when it was sent. */
  const capOf = new Map<number, number>();
  const feed = (w: Worker) => {
    const i = handedBack.shift() ?? take();
    if (i === null) return;
    const msg: ToWorker = {
      index: i,
      unit: unitToJson(units[i]),
      maxExecutions: cap - join.stats.executions,
      withSession: lineage.session.pristine,
    };
    capOf.set(i, msg.maxExecutions);
    w.postMessage(msg);
  };

  const startWorkers = () => {
    for (let n = 0; n < opts.jobs; n++) {
      const w = opts.spawn();
      workers.push(w);
      w.on('message', (m: FromWorker) => {
        try {
          if ('error' in m) {
            const original = Object.assign(new Error(m.error.message), { stack: m.error.stack });
            failure ??= new InternalError(original, m.error.token, m.error.execution);
          } else {
            outcomes.set(m.index, { fresh: freshFromJson(m.result), cap: capOf.get(m.index)! });
            joinReady();
            feed(w);
          }
        } catch (e) {
          // A re-exploration or a probe that failed here: the waiting loop rethrows it.
          failure ??= e;
        }
        poke();
      });
      w.on('error', (e) => {
        failure ??= e;
        poke();
      });
      w.on('exit', (code) => {
        if (!finished) failure ??= new Error(`a worker of --jobs ended (exit ${code}) before the work did`);
        poke();
      });
      // Two units in hand, so that a worker never waits for this thread between two.
      feed(w);
      feed(w);
    }
  };

  try {
    // Alone at first: most checks end before workers would have started.
    if (solo === 0 && opts.jobs > 1) {
      spawned = true;
      startWorkers();
    }
    while (!spawned && !failure) {
      const i = take();
      if (i === null) break;
      const r = exploreSolo(i);
      if (r) outcomes.set(i, { here: r });
      joinReady();
    }
    for (;;) {
      if (failure) throw failure;
      joinReady();
      if (join.ended) break;
      await new Promise<void>((resolve) => {
        wake = resolve;
      });
    }
  } finally {
    finished = true;
    await Promise.all(workers.map((w) => w.terminate()));
  }
  if (failure) throw failure;
  return { result: join.result(performance.now() - started), units: units.length };
}

/**
 * Explores the given units, each from a fresh session, on `jobs` workers (a shard with `--jobs`):
 * their results by unit, as one thread would have them.
 */
export async function exploreFresh(
  units: { index: number; unit: Unit }[],
  opts: { jobs: number; maxExecutions: number; spawn: () => Worker; withSession: (index: number) => boolean },
): Promise<Map<number, UnitResultJson>> {
  const results = new Map<number, UnitResultJson>();
  const queue = [...units];
  const workers: Worker[] = [];
  try {
    await new Promise<void>((resolve, reject) => {
      let busy = 0;
      const feed = (w: Worker) => {
        const next = queue.shift();
        if (!next) {
          if (busy === 0) resolve();
          return;
        }
        busy++;
        const msg: ToWorker = {
          index: next.index,
          unit: unitToJson(next.unit),
          maxExecutions: opts.maxExecutions,
          withSession: opts.withSession(next.index),
        };
        w.postMessage(msg);
      };
      for (let n = 0; n < Math.min(opts.jobs, units.length); n++) {
        const w = opts.spawn();
        workers.push(w);
        w.on('message', (m: FromWorker) => {
          busy--;
          if ('error' in m) {
            const original = Object.assign(new Error(m.error.message), { stack: m.error.stack });
            reject(new InternalError(original, m.error.token, m.error.execution));
            return;
          }
          results.set(m.index, m.result);
          feed(w);
        });
        w.on('error', reject);
        w.on('exit', (code) =>
          reject(new Error(`a worker of --jobs ended (exit ${code}) before the work did`)),
        );
        feed(w);
      }
      if (units.length === 0) resolve();
    });
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
  return results;
}
