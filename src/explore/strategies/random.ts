import type { Execution, Scheduler } from '../execution.ts';
import { Rng } from '../rng.ts';
import type { Strategy } from '../strategy.ts';

/** Seeded uniform random walk: every step picks uniformly among the enabled threads. */
export class RandomStrategy implements Strategy, Scheduler {
  readonly name = 'random';
  readonly exhausted = false;
  private readonly rng: Rng;

  constructor(seed: number) {
    this.rng = new Rng(seed);
  }

  next(): Scheduler {
    return this;
  }

  done(_exec: Execution): void {}

  pickThread(_exec: Execution, enabled: readonly number[]): number {
    return enabled[this.rng.int(enabled.length)];
  }

  pickValue(_exec: Execution, _tid: number, n: number): number {
    return this.rng.int(n);
  }

  coverage(): string {
    return 'random sampling, not exhaustive';
  }

  notes(): string[] {
    return [];
  }
}
