import {
  DEFAULT_MAX_STEPS,
  Execution,
  type ExecutionLimits,
  type Learned,
  type Program,
  Session,
} from './execution.ts';
import {
  Exploration,
  type ExploreOptions,
  type ExploreResult,
  type ExploreStats,
  emptyStats,
  type Finding,
} from './explorer.ts';
import { Footprint } from './footprint.ts';
import { DporStrategy } from './strategies/dpor.ts';
import {
  inheritedSleep,
  newThreadNode,
  preferRunning,
  type SleepEntry,
  TreeSearch,
  type Unit,
} from './strategies/tree.ts';
import { SimpleViolation, type Violation } from './violation.ts';

/**
 * A split exploration (docs/scale.md) cuts DPOR's decision tree at a fixed depth: the first `depth`
 * thread decisions are expanded in full — every enabled thread that is not asleep — and every node
 * reached at that depth roots a unit, a subtree that DPOR explores on its own (races that reach above
 * the cut need nothing: every alternative there is explored anyway). Units are independent, so
 * workers, processes or machines can share them; they are numbered in depth-first order, and the
 * result is their results joined in that order, whoever explored them. Depth 0 is one unit, the whole
 * tree: plain DPOR.
 *
 * The frontier finds the units by probing: one execution per unit runs the cut's decisions and stops
 * at the unit's root, where it learns the sleep set. Probes are not counted as executions: the unit's
 * first execution runs the same schedule again. A node above the cut where every thread sleeps roots
 * no unit: sleep sets guarantee that all it leads to was explored under an earlier sibling.
 */
export class Frontier extends TreeSearch {
  private readonly session = new Session();
  private rootSleep: SleepEntry[] = [];
  /** The probe stopped where every thread sleeps. */
  private blocked = false;
  private probes = 0;

  constructor(
    private readonly program: Program,
    private readonly depth: number,
    private readonly limits: ExecutionLimits,
  ) {
    super();
  }

  protected freshThreadNode(exec: Execution, enabled: readonly number[], at: number): number {
    const sleep = inheritedSleep(this.stack, exec, at);
    const asleep = (t: number) => sleep.some((s) => s.tid === t);
    const awake = preferRunning(exec, enabled).filter((t) => !asleep(t));
    // Every thread sleeps here: whatever follows was explored below an earlier sibling. No unit.
    this.blocked = awake.length === 0;
    if (this.blocked || this.branchings() >= this.depth) {
      this.rootSleep = sleep;
      return -1;
    }
    const node = newThreadNode(exec, enabled, sleep);
    for (const t of awake) node.backtrack.add(t);
    node.chosen = awake[0];
    this.stack.push(node);
    return node.chosen;
  }

  /** Thread nodes above with more than one thread to run: decisions that only one thread could take
   * do not count towards the depth. */
  private branchings(): number {
    let n = 0;
    for (const node of this.stack) if (node.kind === 'T' && node.backtrack.size > 1) n++;
    return n;
  }

  /** The next unit in depth-first order, or null when every unit has been handed out. */
  next(): Unit | null {
    while (!this.finished) {
      this.rootSleep = [];
      this.blocked = false;
      const exec = new Execution(++this.probes, this.session, this, this.limits);
      const outcome = exec.run(this.program);
      const unit: Unit = { prefix: [...exec.decisions], sleep: this.rootSleep };
      // A probe cut short by a stop request proves nothing; the caller sees the stop itself.
      if (outcome === 'stopped') return null;
      if (!this.backtrackStack(exec, () => true)) this.finished = true;
      if (!this.blocked) return unit;
    }
    return null;
  }
}

/** The default cut: deep enough for a few dozen units on the catalogue's larger scenarios. */
export const DEFAULT_SPLIT_DEPTH = 6;

/**
 * The exploration of one unit: DPOR below the unit's root. The units of a split share lasting state
 * (lockdep's graph) as executions of one exploration do: `opts.session` is the state the units before
 * left, and `opts.firstExecution` how many executions they ran.
 */
export function unitExploration<W>(program: Program<W>, unit: Unit, opts: ExploreOptions<W>): Exploration<W> {
  return new Exploration(program, new DporStrategy(Number.POSITIVE_INFINITY, unit), opts);
}

/**
 * Joins the results of units in depth-first order into the result of the whole exploration: counts
 * add up, a finding keeps its first occurrence (its execution numbered across units) and counts the
 * later ones as repeats, and the first unit that ended the search early ends the join.
 */
export class Join {
  readonly stats: ExploreStats = emptyStats('dpor');
  units = 0;
  ended = false;
  private readonly found = new Map<string, Finding>();

  /** Adds the next unit's result; returns false once the whole exploration has ended. */
  add(r: ExploreResult): boolean {
    if (this.ended) throw new Error('explorer: a unit joined after the exploration ended');
    const st = this.stats;
    for (const f of r.findings) {
      const known = this.found.get(f.violation.title);
      if (known) known.repeats += 1 + f.repeats;
      else this.found.set(f.violation.title, { ...f, execution: st.executions + f.execution });
    }
    st.executions += r.stats.executions;
    st.steps += r.stats.steps;
    st.sleepBlocked += r.stats.sleepBlocked;
    st.boundHits += r.stats.boundHits;
    st.deadlocks += r.stats.deadlocks;
    this.units++;
    if (r.stats.stoppedBy !== 'exhausted') this.end(r.stats.stoppedBy);
    return !this.ended;
  }

  /** Ends the join: `exhausted` when every unit is in. */
  end(why: ExploreStats['stoppedBy']): void {
    const st = this.stats;
    this.ended = true;
    st.stoppedBy = why;
    st.exhaustive = why === 'exhausted';
    st.coverage = st.exhaustive ? 'exhaustive (every Mazurkiewicz trace)' : 'not exhaustive';
    st.notes = [`sleep-set-blocked executions: ${st.sleepBlocked}`];
  }

  result(elapsedMs: number): ExploreResult {
    const st = this.stats;
    st.elapsedMs = elapsedMs;
    const s = elapsedMs / 1000;
    st.executionsPerSec = s > 0 ? st.executions / s : 0;
    st.stepsPerSec = s > 0 ? st.steps / s : 0;
    return { stats: { ...st }, findings: [...this.found.values()] };
  }
}

/**
 * A split exploration on one thread: the units one after another, as `Exploration` runs the whole
 * tree (same `step` and `result`), and the result every parallel or sharded run must equal.
 */
export class SplitExploration<W = unknown> {
  private readonly frontier: Frontier;
  private readonly join = new Join();
  private readonly session = new Session();
  private readonly start = performance.now();
  private current: Exploration<W> | null = null;
  private sinceProgress = 0;

  constructor(
    private readonly program: Program<W>,
    depth: number,
    private readonly opts: ExploreOptions<W> = {},
  ) {
    this.frontier = new Frontier(program as Program, depth, {
      maxSteps: opts.maxSteps ?? DEFAULT_MAX_STEPS,
      stop: opts.stop,
    });
  }

  get stats(): ExploreStats {
    return this.join.stats;
  }

  step(): boolean {
    const join = this.join;
    if (join.ended) return false;
    if (!this.current) {
      const stopped = this.opts.stop?.reason();
      const unit = stopped ? null : this.frontier.next();
      if (!unit) {
        this.finish(stopped ?? this.opts.stop?.reason() ?? 'exhausted');
        return false;
      }
      const left = (this.opts.maxExecutions ?? Number.POSITIVE_INFINITY) - join.stats.executions;
      this.current = unitExploration(this.program, unit, {
        ...this.opts,
        // Lockdep's graph goes on from unit to unit, as over one exploration of the whole tree.
        session: this.session,
        firstExecution: join.stats.executions,
        maxExecutions: left,
        onProgress: undefined,
        onExecution: (e, w) => {
          this.opts.onExecution?.(e, w);
          this.tick();
        },
      });
    }
    if (this.current.step()) return true;
    const r = this.current.result();
    this.current = null;
    if (!join.add(r)) {
      this.opts.onProgress?.(this.result().stats);
      return false;
    }
    return true;
  }

  private tick(): void {
    if (!this.opts.onProgress || ++this.sinceProgress < (this.opts.progressEvery ?? 1000)) return;
    this.sinceProgress = 0;
    const partial = this.current?.stats;
    const st = { ...this.join.stats };
    if (partial) st.executions += partial.executions;
    this.opts.onProgress(st);
  }

  private finish(why: ExploreStats['stoppedBy']): void {
    this.join.end(why);
    this.opts.onProgress?.(this.result().stats);
  }

  result(): ExploreResult {
    return this.join.result(performance.now() - this.start);
  }
}

/**
 * Which of `count` shards explores each unit: the units' sizes are not known before they are explored,
 * but a unit whose root has fewer threads asleep is larger (its earlier siblings' orders are not yet
 * covered), about twice per sleeper less. Largest first, each to the shard with the least so far (the
 * LPT rule); equal weights go by number. Every shard computes the same assignment.
 */
export function assignShards(units: readonly Unit[], count: number): number[] {
  const weight = (u: Unit) => 2 ** -u.sleep.length;
  const order = units.map((_, i) => i).sort((a, b) => weight(units[b]) - weight(units[a]) || a - b);
  const load = new Array<number>(count).fill(0);
  const shard = new Array<number>(units.length);
  for (const i of order) {
    let best = 0;
    for (let k = 1; k < count; k++) if (load[k] < load[best]) best = k;
    shard[i] = best;
    load[best] += weight(units[i]);
  }
  return shard;
}

/** A unit's result explored from a fresh session elsewhere (a worker, a shard), with what it learned. */
export interface FreshOutcome {
  result: ExploreResult;
  learned: Record<string, Learned>;
  /** The session at the unit's end, where it was asked for (`Lineage`). */
  saved?: Record<string, unknown>;
}

/**
 * The lasting state that the joined units left, as one exploration of the whole tree would have it
 * (docs/scale.md). A unit explored elsewhere from a fresh state stands as it is when that was the same
 * as exploring it from this state: this state is itself still fresh (it then becomes the unit's final
 * state, which the unit must have saved), or it covers what the unit learned (every lock chain and
 * usage known already, nothing reported). Otherwise the unit is explored again from this state.
 */
export class Lineage {
  session = new Session();

  /** Whether `o` stands; the state moves on when it does. */
  private admit(o: FreshOutcome): boolean {
    if (!this.session.pristine) return this.session.covers(o.learned);
    if (o.saved) {
      this.session = Session.load(o.saved);
      return true;
    }
    return new Session().covers(o.learned);
  }

  /**
   * Whether `o`, explored elsewhere with an execution budget of `sent`, stands as the unit's result
   * when `left` executions are left for it: else the unit is explored again here, from this state.
   */
  stands(o: FreshOutcome, sent: number, left: number): boolean {
    if (sent > left && o.result.stats.executions >= left) return false;
    return this.admit(o);
  }

  /** A copy to explore a unit from speculatively: it becomes the state if the unit completes. */
  fork(): Session {
    return Session.load(this.session.save());
  }
}

/** A unit as JSON (shard files, worker messages): footprints as their read and write lists. */
export interface UnitJson {
  prefix: number[];
  sleep: { tid: number; r: number[]; w: number[] }[];
}

export function unitToJson(u: Unit): UnitJson {
  return { prefix: [...u.prefix], sleep: u.sleep.map((s) => ({ tid: s.tid, r: s.fp.r, w: s.fp.w })) };
}

export function unitFromJson(j: UnitJson): Unit {
  const sleep = j.sleep.map((s) => {
    const fp = new Footprint();
    for (const id of s.r) fp.read(id);
    for (const id of s.w) fp.write(id);
    return { tid: s.tid, fp };
  });
  return { prefix: j.prefix, sleep };
}

/** A finding as JSON: the violation's text is kept, its behaviour is not needed after the search. */
export interface FindingJson extends Omit<Finding, 'violation'> {
  violation: { checker: string; title: string; fatal: boolean; step: number; text: string };
}

export function findingToJson(f: Finding): FindingJson {
  const v = f.violation;
  return {
    ...f,
    violation: { checker: v.checker, title: v.title, fatal: v.fatal, step: v.step, text: v.text() },
  };
}

export function findingFromJson(j: FindingJson): Finding {
  const v: Violation = new SimpleViolation(
    j.violation.checker,
    j.violation.title,
    j.violation.fatal,
    j.violation.text,
  );
  v.step = j.violation.step;
  return { ...j, violation: v };
}
