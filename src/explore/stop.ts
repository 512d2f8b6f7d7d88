/**
 * A request to end work early, polled by every long loop (the steps of an execution, the executions
 * of an exploration, the candidates of a minimisation): a signal that another thread noted in a
 * shared cell (Ctrl-C, SIGTERM, SIGHUP: the thread running executions cannot see signals itself), or
 * a deadline (--time-limit). Polling costs an atomic load, and a clock read only when a deadline is set.
 */
export type StopReason = 'interrupted' | 'time-limit';

export class Stop {
  constructor(
    /** Non-zero once a signal arrived (the cell holds the signal number). */
    readonly cell: Int32Array | null = null,
    /** performance.now() value after which work stops; Infinity for none. */
    readonly deadline = Number.POSITIVE_INFINITY,
  ) {}

  reason(): StopReason | null {
    if (this.cell !== null && Atomics.load(this.cell, 0) !== 0) return 'interrupted';
    if (this.deadline !== Number.POSITIVE_INFINITY && performance.now() >= this.deadline) return 'time-limit';
    return null;
  }

  /** The same signal with a deadline no later than `deadline`. */
  until(deadline: number): Stop {
    return new Stop(this.cell, Math.min(this.deadline, deadline));
  }
}

/** Never stops: for tests and for the executions that print a report. */
export const NEVER = new Stop();
