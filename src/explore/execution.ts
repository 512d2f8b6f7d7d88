import { Footprint } from './footprint.ts';
import { Choice, type Op, ProbeAbort, type ThreadBody, Wait } from './ops.ts';
import { type Deviation, defaultThread } from './schedule.ts';
import type { Stop } from './stop.ts';
import { FatalStop, SimpleViolation, type Violation } from './violation.ts';

export interface ExThread {
  readonly id: number;
  readonly name: string;
  readonly daemon: boolean;
  body: ThreadBody;
  next: Op | null;
  done: boolean;
  /** Per-thread state of the layer above (the kernel's task context). */
  data: unknown;
}

export interface Event {
  readonly tid: number;
  /** Index in the decision list of the thread choice that started this step. */
  readonly decision: number;
  readonly op: Op;
  readonly fp: Footprint;
  /** Where the thread stood when the step began (recorded executions only). */
  at?: string;
}

/** Something a recorded step did that a reader of the interleaving wants to see. */
export interface Note {
  step: number;
  tid: number;
  text: string;
}

/** Chooses, at every scheduling point of one execution, which thread runs and which value a choice takes. */
export interface Scheduler {
  /** Returns the thread to run, or -1 to abandon the execution (every enabled thread is asleep). */
  pickThread(exec: Execution, enabled: readonly number[]): number;
  pickValue(exec: Execution, tid: number, n: number): number;
}

/** `stopped`: a Stop request ended the execution before its end (it proves nothing). */
export type Outcome = 'complete' | 'violation' | 'deadlock' | 'bound' | 'sleep-blocked' | 'stopped';

/**
 * What the layers above tell an execution about the world they built: every member is optional, and
 * all of them are given at once, when the world is built.
 */
export interface ExecutionObserver {
  /** Where a thread stands when a recorded step begins (`vgic_v3_fold_lr_state+0x8/0x11`). */
  location?(t: ExThread): string;
  /** The report for a deadlock: every live thread blocked. */
  deadlock?(blocked: ExThread[]): Violation;
  /** The model state worth printing with a report, taken when the report fires (recorded executions). */
  snapshot?(): unknown;
  /** Names of the instrumented locations (footprint ids) of the world as it is now, for step details. */
  locationNames?(): Map<number, string>;
  /** Checks judged after the last step of an execution that did not end in a fatal report. */
  atEnd?(): void;
  /** A summary of the final state, compared across strategies by the ground-truth tests. */
  finalState?(): string;
}

/** A world as a program builds it, with the observer the execution consults. */
export interface Built<W> {
  world: W;
  observer: ExecutionObserver;
  /**
   * What runs before the first scheduled step once the world exists — a prologue, starting the
   * threads. A report it raises finds the world and the observer in place.
   */
  start?(): void;
}

export interface Program<W = unknown> {
  readonly name: string;
  /** Builds a fresh world in `exec`: objects and threads. Must be deterministic. */
  build(exec: Execution): Built<W>;
}

export interface ExecutionLimits {
  maxSteps: number;
  /** Polled every STOP_POLL steps; an execution that stops ends with the outcome `stopped`. */
  stop?: Stop;
}

/** The step bound of an execution when nothing else is said. */
export const DEFAULT_MAX_STEPS = 10_000;
/**
 * The largest step bound anyone may ask for (a scenario's explore.maxSteps): one recorded execution of
 * that length takes about a second and 250 MB. Prologues are held to it too.
 */
export const MAX_STEPS = 200_000;

/** Steps between two polls of the Stop request: a few microseconds of work. */
const STOP_POLL = 1024;

/** What an exploration learned in a piece of lasting state, as opaque facts. */
export interface Learned {
  facts: string[];
  /** Something was reported from the state (a report that a fuller state might not have printed). */
  reported: boolean;
}

/**
 * State that outlives an execution (lockdep's graph). A split exploration (docs/scale.md) explores
 * some units from a fresh state and needs to know whether that was the same as exploring them from
 * the state the units before them left: it is when that state `covers` what the fresh one learned.
 */
export interface Lasting {
  /** The state as JSON, which the loader registered for its key makes again. */
  save(): unknown;
  learned(): Learned;
  /** An exploration from this state does exactly what one from a fresh state did that learned `l`. */
  covers(l: Learned): boolean;
}

const loaders = new Map<string, (json: unknown) => Lasting>();

/** How a Session loads the state it keeps under `key` (the kernel registers lockdep's). */
export function registerLasting(key: string, load: (json: unknown) => Lasting): void {
  loaders.set(key, load);
}

function isLasting(v: unknown): v is Lasting {
  return typeof (v as Lasting | null)?.learned === 'function';
}

/** Cross-execution state of one exploration (lockdep's graph lives here, as over a kernel's uptime). */
export class Session {
  private readonly store = new Map<string, unknown>();

  /** A session that starts from saved state (`save`). */
  static load(saved: Record<string, unknown>): Session {
    const s = new Session();
    for (const [key, json] of Object.entries(saved)) {
      const load = loaders.get(key);
      if (!load) throw new Error(`explorer: no loader for the lasting state "${key}"`);
      s.store.set(key, load(json));
    }
    return s;
  }

  persist<T>(key: string, init: () => T): T {
    let v = this.store.get(key) as T | undefined;
    if (v === undefined) {
      v = init();
      this.store.set(key, v);
    }
    return v;
  }

  save(): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const [key, v] of this.store) if (isLasting(v)) out[key] = v.save();
    return out;
  }

  learned(): Record<string, Learned> {
    const out: Record<string, Learned> = {};
    for (const [key, v] of this.store) if (isLasting(v)) out[key] = v.learned();
    return out;
  }

  /** True when every state here covers what another session learned (a fresh state covers nothing). */
  covers(learned: Record<string, Learned>): boolean {
    for (const [key, l] of Object.entries(learned)) {
      const v = this.store.get(key);
      if (isLasting(v) ? !v.covers(l) : l.facts.length > 0 || l.reported) return false;
    }
    return true;
  }

  /** Nothing learned yet: the same as a fresh session. */
  get pristine(): boolean {
    for (const v of this.store.values()) {
      if (!isLasting(v)) continue;
      const l = v.learned();
      if (l.facts.length > 0 || l.reported) return false;
    }
    return true;
  }
}

/** A prologue that cannot run to its end. */
export class PrologueError extends Error {
  constructor(
    readonly who: string,
    readonly why: string,
  ) {
    super(`the prologue of ${who} never finishes: ${why}`);
  }
}

/** The step of a report that fired while the world was built, before the first scheduled step. */
export const PROLOGUE_STEP = -1;

/** One run of a program from a fresh world to its end under one scheduler. */
export class Execution {
  readonly threads: ExThread[] = [];
  readonly trace: Event[] = [];
  readonly decisions: number[] = [];
  readonly violations: Violation[] = [];
  /** Decisions that differ from the default policy: what a schedule token stores. */
  readonly deviations: Deviation[] = [];
  /** True until the world is built and the first step is scheduled. */
  building = true;
  /** Context switches away from a thread that could have continued. */
  preemptions = 0;
  outcome: Outcome = 'complete';
  /**
   * A recorded execution (for reports) keeps the location of every step and notes of lock, list and
   * guest operations; explorations leave it off, so the hot path pays one branch.
   */
  recording = false;
  readonly notes: Note[] = [];
  /** Model state captured at the step where each distinct report first fired, by title (recorded executions). */
  readonly snapshots = new Map<string, unknown>();
  /**
   * The state after every step (the HTML report's state panel), with `startState` before the first:
   * set to an array to have them taken. Recorded executions only: each step pays a snapshot.
   */
  stepStates: unknown[] | null = null;
  startState: unknown = null;
  /** The footprint of the step being executed. */
  fp = new Footprint();
  /** True while a step runs; instrumentation records and checks only then. */
  inStep = false;
  /**
   * True while `pendingFootprint` asks an operation what it would touch: accesses are recorded into the
   * footprint and nothing else (no sanitizer, no report).
   */
  probing = false;
  cur: ExThread | null = null;
  /** Thread of the previous step (-1 before the first). */
  prev = -1;
  private locIds = 0;
  private readonly titles = new Set<string>();
  private observer: ExecutionObserver = {};

  constructor(
    readonly index: number,
    readonly session: Session,
    private readonly scheduler: Scheduler,
    private readonly limits: ExecutionLimits,
  ) {}

  persist<T>(key: string, init: () => T): T {
    return this.session.persist(key, init);
  }

  /** A fresh id for an instrumented location; ids follow creation order, so they are deterministic. */
  newLocId(): number {
    return this.locIds++;
  }

  /** `n` consecutive ids; returns the first. */
  newLocIds(n: number): number {
    const first = this.locIds;
    this.locIds += n;
    return first;
  }

  get stepCount(): number {
    return this.trace.length;
  }

  spawn(name: string, body: (self: ExThread) => ThreadBody, opts: { daemon?: boolean; data?: unknown } = {}) {
    const t: ExThread = {
      id: this.threads.length,
      name,
      daemon: opts.daemon ?? false,
      body: undefined as unknown as ThreadBody,
      next: null,
      done: false,
      data: opts.data,
    };
    this.threads.push(t);
    t.body = body(t);
    const saved = this.cur;
    this.cur = t;
    this.advance(t, undefined);
    this.cur = saved;
    return t;
  }

  /**
   * Drives a generator to completion outside the scheduler, for a deterministic prologue. Its accesses
   * are checked (reports can fire) but belong to no step. Every operation must be enabled, and there
   * may be at most MAX_STEPS of them.
   */
  runSync(body: ThreadBody, who: string): void {
    const saved = { fp: this.fp, inStep: this.inStep };
    this.fp = new Footprint();
    this.inStep = true;
    try {
      let input: unknown;
      for (let ops = 0; ; ops++) {
        const r = body.next(input);
        if (r.done) return;
        const op = r.value;
        if (!op.enabled())
          throw new PrologueError(who, `it waits at "${op.label()}" and nothing can wake it`);
        if (ops >= MAX_STEPS) throw new PrologueError(who, `it takes more than ${MAX_STEPS} steps`);
        input = op.perform();
      }
    } finally {
      this.fp = saved.fp;
      this.inStep = saved.inStep;
    }
  }

  /**
   * The footprint the announced operation of a thread that never ran it would have now (a thread
   * blocked at the end), or null when the operation cannot say. DPOR races it against the steps before.
   */
  pendingFootprint(op: Op): Footprint | null {
    if (!op.footprint) return null;
    const saved = { fp: this.fp, inStep: this.inStep };
    const fp = new Footprint();
    this.fp = fp;
    this.inStep = true;
    this.probing = true;
    try {
      op.footprint(fp);
    } catch (e) {
      if (!(e instanceof ProbeAbort)) throw e;
    } finally {
      this.fp = saved.fp;
      this.inStep = saved.inStep;
      this.probing = false;
    }
    return fp;
  }

  /** Adds a note to the step being executed (recorded executions only). */
  note(text: string): void {
    if (!this.recording || !this.cur) return;
    this.notes.push({ step: this.trace.length - 1, tid: this.cur.id, text });
  }

  finalState(): string {
    return this.observer.finalState?.() ?? '';
  }

  /**
   * Set once a fatal report fired. The faulting thread is dead; the others run on (as other CPUs do
   * after an oops) so that DPOR sees their steps, but nothing after the first fatal report is reported.
   */
  crashed = false;

  /** Records a finding; each distinct title once per execution. A fatal one kills its thread. */
  report(v: Violation): void {
    if (this.crashed) {
      if (v.fatal) throw new FatalStop(v);
      return;
    }
    // A report while the world is built (the prologue, code before a thread's first yield) has no step.
    v.step = this.building ? PROLOGUE_STEP : Math.max(0, this.trace.length - 1);
    if (!this.titles.has(v.title)) {
      this.titles.add(v.title);
      this.violations.push(v);
      if (this.recording && !this.building && this.observer.snapshot)
        this.snapshots.set(v.title, this.observer.snapshot());
    }
    if (v.fatal) throw new FatalStop(v);
  }

  private advance(t: ExThread, input: unknown): void {
    const r = t.body.next(input);
    if (r.done) {
      t.done = true;
      t.next = null;
      return;
    }
    const op = r.value;
    t.next = op;
    if (op instanceof Choice) {
      op.value = this.scheduler.pickValue(this, t.id, op.n);
      if (op.value !== 0) this.deviations.push({ at: this.decisions.length, value: op.value });
      this.decisions.push(op.value);
    }
  }

  private enabledThreads(): number[] {
    const out: number[] = [];
    for (const t of this.threads) if (!t.done && t.next!.enabled()) out.push(t.id);
    return out;
  }

  private liveWork(): boolean {
    for (const t of this.threads) {
      if (t.done || t.daemon) continue;
      if (t.next instanceof Wait && t.next.idle && !t.next.enabled()) continue;
      return true;
    }
    return false;
  }

  /** Runs the execution of `program` to its end; `onWorld` receives the world as soon as it exists. */
  run<W>(program: Program<W>, onWorld?: (world: W) => void): Outcome {
    try {
      const built = program.build(this);
      this.observer = built.observer;
      onWorld?.(built.world);
      built.start?.();
      if (this.stepStates) this.startState = this.observer.snapshot?.() ?? null;
    } catch (e) {
      if (!(e instanceof FatalStop)) throw e;
      this.outcome = 'violation';
      return this.outcome;
    } finally {
      this.building = false;
    }
    try {
      for (;;) {
        const enabled = this.enabledThreads();
        if (enabled.length === 0) {
          // Daemons (RCU callbacks) finish their pending work after the last regular thread; after a
          // fatal report, threads blocked behind the dead one are its aftermath, not a new deadlock.
          if (!this.liveWork() || this.crashed) break;
          const blocked = this.threads.filter((t) => !t.done && !t.daemon);
          this.outcome = 'deadlock';
          const v = this.observer.deadlock
            ? this.observer.deadlock(blocked)
            : new SimpleViolation('deadlock', 'deadlock: every live thread is blocked', true);
          this.report(v);
        }
        if (this.trace.length >= this.limits.maxSteps) {
          if (!this.crashed) this.outcome = 'bound';
          return this.outcome;
        }
        if ((this.trace.length & (STOP_POLL - 1)) === 0 && this.limits.stop?.reason()) {
          this.outcome = 'stopped';
          return this.outcome;
        }
        const tid = this.scheduler.pickThread(this, enabled);
        if (tid < 0) {
          if (!this.crashed) this.outcome = 'sleep-blocked';
          return this.outcome;
        }
        if (tid !== defaultThread(this.prev, enabled))
          this.deviations.push({ at: this.decisions.length, value: tid });
        if (tid !== this.prev && enabled.includes(this.prev)) this.preemptions++;
        this.decisions.push(tid);
        this.step(this.threads[tid]);
      }
      if (!this.crashed) this.observer.atEnd?.();
    } catch (e) {
      if (!(e instanceof FatalStop)) throw e;
      if (this.outcome !== 'deadlock') this.outcome = 'violation';
      return this.outcome;
    } finally {
      this.inStep = false;
      this.cur = null;
    }
    if (this.crashed || this.violations.length > 0) this.outcome = 'violation';
    return this.outcome;
  }

  private step(t: ExThread): void {
    const op = t.next!;
    const fp = new Footprint();
    this.fp = fp;
    const ev: Event = { tid: t.id, decision: this.decisions.length - 1, op, fp };
    if (this.recording && this.observer.location) ev.at = this.observer.location(t);
    this.trace.push(ev);
    this.cur = t;
    this.inStep = true;
    try {
      const res = op.perform();
      this.advance(t, res);
    } catch (e) {
      if (!(e instanceof FatalStop)) throw e;
      // The thread dies at its fatal report; the execution goes on without it.
      this.crashed = true;
      t.done = true;
      t.next = null;
    }
    this.inStep = false;
    this.prev = t.id;
    if (this.stepStates) this.stepStates.push(this.observer.snapshot?.() ?? null);
  }

  /** Names of the instrumented locations, by id (an empty map when the world cannot name them). */
  locationNames(): Map<number, string> {
    return this.observer.locationNames?.() ?? new Map();
  }
}
