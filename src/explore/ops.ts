/**
 * The contract between model code and the explorer: a thread is a generator that yields the operation
 * it is about to perform. The explorer schedules the thread only while that operation is enabled, runs
 * `perform` at the start of the step and hands its result back as the value of the `yield`.
 */
export interface Op {
  /** Whether the announced operation can proceed now (a held lock or an unmet wait disables it). */
  enabled(): boolean;
  /** Executed at the start of the step; its return value is the result of the thread's `yield`. */
  perform(): unknown;
  /** Short description for interleaving tables ("lock &vgic_cpu->ap_list_lock"). */
  label(): string;
  /** For deadlock reports: what a disabled thread is waiting for (a lock or an event). */
  waitsFor?(): unknown;
  /**
   * The footprint the operation would have, when it can be known without running it (a lock
   * acquisition writes the lock; a wait reads what its condition reads). DPOR uses it for threads that
   * never got to run it (blocked at the end). Called through `Execution.pendingFootprint`, under which
   * instrumented accesses record into `fp` and do nothing else.
   */
  footprint?(fp: import('./footprint.ts').Footprint): void;
}

export type ThreadBody = Generator<Op, void, unknown>;

class Point implements Op {
  constructor(private readonly text: string) {}
  enabled(): boolean {
    return true;
  }
  perform(): unknown {
    return undefined;
  }
  label(): string {
    return this.text;
  }
}

/** A plain scheduling point: the next step touches shared state and may be interleaved here. */
export const POINT: Op = new Point('');

export function point(text: string): Op {
  return new Point(text);
}

/**
 * A value choice point: the thread asks for a value in 0..n-1. The explorer resolves the value as soon
 * as the choice is announced (it is recorded in the schedule like a thread choice) and returns it as
 * the result of the `yield`.
 */
export class Choice implements Op {
  value = 0;
  constructor(
    readonly n: number,
    readonly why: string,
  ) {
    if (!Number.isInteger(n) || n < 1) throw new Error(`choice needs at least one value, got ${n}`);
  }
  enabled(): boolean {
    return true;
  }
  perform(): unknown {
    return this.value;
  }
  label(): string {
    return `choose ${this.why} = ${this.value}`;
  }
}

export function choose(n: number, why = 'value'): Choice {
  return new Choice(n, why);
}

/** Block until `cond` holds. `cond` must read the shared state it depends on through instrumented accessors. */
export class Wait implements Op {
  constructor(
    readonly cond: () => boolean,
    readonly what: string,
    readonly onWake?: () => void,
    /**
     * An idle wait (a CPU in WFI): a thread blocked here has no work of its own, so an execution whose
     * other threads are done ends quiescent instead of deadlocked.
     */
    readonly idle = false,
  ) {}
  enabled(): boolean {
    return this.cond();
  }
  perform(): unknown {
    // Evaluated again inside the step so that its reads land in the step's footprint.
    this.cond();
    this.onWake?.();
    return undefined;
  }
  label(): string {
    return `wait ${this.what}`;
  }
  waitsFor(): unknown {
    return this.what;
  }
  footprint(): void {
    this.cond();
  }
}

/**
 * Thrown by instrumentation when a footprint probe reaches something it cannot follow without a report
 * (a bad pointer): the probe keeps what it recorded so far.
 */
export class ProbeAbort extends Error {}
