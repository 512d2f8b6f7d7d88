import type { Execution, Scheduler } from '../execution.ts';
import type { Strategy } from '../strategy.ts';
import { costOf, newThreadNode, TreeSearch } from './tree.ts';

/**
 * Iterative preemption bounding (Musuvathi & Qadeer, CHESS, PLDI 2007): every schedule with 0
 * preemptions, then every schedule with exactly 1, then 2, ... A branch that would need one preemption
 * more than the current level is deferred to the next level as a prefix, so each schedule runs once.
 * With an infinite bound this is the naive enumeration of all interleavings.
 */
export class BoundedStrategy extends TreeSearch implements Strategy {
  readonly name = 'bounded';
  private level = 0;
  private queue: number[][] = [[]];
  private deferred: number[][] = [];
  private started = false;

  constructor(readonly maxPreemptions: number = Number.POSITIVE_INFINITY) {
    super();
  }

  get exhausted(): boolean {
    return this.finished;
  }

  get currentLevel(): number {
    return this.level;
  }

  next(): Scheduler | null {
    if (this.finished) return null;
    if (!this.started) {
      this.started = true;
      this.prefix = this.queue.shift()!;
      return this;
    }
    return this;
  }

  protected freshThreadNode(exec: Execution, enabled: readonly number[], _at: number): number {
    const node = newThreadNode(exec, enabled);
    for (const q of enabled) {
      if (node.preemptions + costOf(node, q) <= this.level) node.backtrack.add(q);
      else this.deferred.push([...exec.decisions, q]);
    }
    node.chosen = enabled.includes(exec.prev) ? exec.prev : enabled[0];
    this.stack.push(node);
    return node.chosen;
  }

  done(exec: Execution): void {
    if (this.backtrackStack(exec, () => true)) return;
    for (;;) {
      const p = this.queue.shift();
      if (p) {
        this.prefix = p;
        return;
      }
      if (this.deferred.length === 0 || this.level >= this.maxPreemptions) {
        this.finished = true;
        return;
      }
      this.level++;
      this.queue = this.deferred;
      this.deferred = [];
    }
  }

  coverage(): string {
    if (this.maxPreemptions === Number.POSITIVE_INFINITY) return 'exhaustive (every interleaving)';
    return `exhaustive for preemption bound ${this.maxPreemptions}`;
  }

  notes(): string[] {
    return [`preemption level reached: ${this.level}`];
  }
}
