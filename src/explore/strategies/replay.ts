import type { Execution, Scheduler } from '../execution.ts';
import { type Deviation, ReplayScheduler } from '../schedule.ts';
import type { Strategy } from '../strategy.ts';

/** Runs exactly one recorded schedule (a decision list or the deviations of a token). */
export class ReplayStrategy implements Strategy {
  readonly name = 'replay';
  private used = false;
  constructor(
    private readonly source: { decisions?: readonly number[]; deviations?: readonly Deviation[] },
  ) {}

  get exhausted(): boolean {
    return this.used;
  }

  next(): Scheduler | null {
    if (this.used) return null;
    this.used = true;
    return new ReplayScheduler(this.source.decisions ?? null, this.source.deviations ?? null);
  }

  done(_exec: Execution): void {}

  coverage(): string {
    return 'one replayed schedule';
  }

  notes(): string[] {
    return [];
  }
}
