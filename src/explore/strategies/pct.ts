import type { Execution, Scheduler } from '../execution.ts';
import { Rng } from '../rng.ts';
import type { Strategy } from '../strategy.ts';

/**
 * PCT (Burckhardt, Kothari, Musuvathi, Nagarakatte, ASPLOS 2010). Each execution gives the threads
 * random distinct priorities d..d+n-1 and picks d-1 change points among the first k steps; at the i-th
 * change point the running thread drops to priority i (below every initial priority). The
 * highest-priority enabled thread always runs. A bug of depth d is found by one execution with
 * probability at least 1/(n·k^(d-1)). k is the largest step count seen so far.
 */
export class PctStrategy implements Strategy {
  readonly name = 'pct';
  readonly exhausted = false;
  private readonly rng: Rng;
  private k = 1;
  private n = 1;

  constructor(
    seed: number,
    readonly depth: number,
  ) {
    if (!Number.isInteger(depth) || depth < 1) throw new Error(`PCT depth must be at least 1, got ${depth}`);
    this.rng = new Rng(seed);
  }

  next(): Scheduler {
    return new PctScheduler(this.rng, this.depth, this.k);
  }

  done(exec: Execution): void {
    this.k = Math.max(this.k, exec.stepCount);
    this.n = Math.max(this.n, exec.threads.length);
  }

  /** Lower bound on the probability that one execution finds a given bug of depth `depth`. */
  probability(): number {
    return 1 / (this.n * this.k ** (this.depth - 1));
  }

  coverage(): string {
    return 'randomised (PCT), not exhaustive';
  }

  notes(): string[] {
    return [
      `PCT depth ${this.depth}: each execution finds any bug of depth <= ${this.depth} with probability >= 1/(n*k^(d-1)) = 1/(${this.n}*${this.k}^${this.depth - 1}) = ${this.probability().toExponential(3)} (n=${this.n} threads, k=${this.k} steps)`,
    ];
  }
}

class PctScheduler implements Scheduler {
  private readonly prio: number[] = [];
  private readonly changeAt: number[];

  constructor(
    private readonly rng: Rng,
    private readonly depth: number,
    k: number,
  ) {
    this.changeAt = [];
    for (let i = 1; i < depth; i++) this.changeAt.push(1 + rng.int(Math.max(1, k)));
  }

  private priority(tid: number): number {
    while (this.prio.length <= tid) {
      // A uniformly random real above every change-point priority: equivalent to a random permutation.
      this.prio.push(this.depth + this.rng.next() * 1e6);
    }
    return this.prio[tid];
  }

  pickThread(exec: Execution, enabled: readonly number[]): number {
    let best = enabled[0];
    for (const t of enabled) if (this.priority(t) > this.priority(best)) best = t;
    const step = exec.stepCount + 1;
    for (let i = 0; i < this.changeAt.length; i++) {
      if (this.changeAt[i] === step) {
        this.prio[best] = i + 1;
        let again = enabled[0];
        for (const t of enabled) if (this.priority(t) > this.priority(again)) again = t;
        best = again;
      }
    }
    return best;
  }

  pickValue(_exec: Execution, _tid: number, n: number): number {
    return this.rng.int(n);
  }
}
