import type { Execution, Scheduler } from './execution.ts';

/**
 * A search strategy hands out one scheduler per execution and learns from each finished execution.
 * `next()` returns null when the strategy has nothing left to explore.
 */
export interface Strategy {
  readonly name: string;
  next(): Scheduler | null;
  done(exec: Execution): void;
  /** True once `next()` returned null because the whole space (within the bounds) was covered. */
  readonly exhausted: boolean;
  /** What an exhaustive finish proves, e.g. "exhaustive for preemption bound 2". */
  coverage(): string;
  /** Extra lines for the summary (PCT prints its probability guarantee here). */
  notes(): string[];
}
