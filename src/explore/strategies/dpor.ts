import type { Event, Execution, Scheduler } from '../execution.ts';
import type { Strategy } from '../strategy.ts';
import { type HappensBefore, happensBefore, racePairs, withPending } from './races.ts';
import {
  costOf,
  inheritedSleep,
  newThreadNode,
  preferRunning,
  type ThreadNode,
  TreeSearch,
  type Unit,
} from './tree.ts';

/**
 * Dynamic partial-order reduction after Flanagan and Godefroid (POPL 2005) with sleep sets. After each
 * execution, for every step e of a thread p and every state between p's previous step and e, the last
 * earlier step d of another thread that conflicts with e and does not happen before p is a race: p is
 * added to the backtrack set where d was chosen, or, if p could not run there (blocked on a lock or a
 * wait), every thread that could. Threads blocked at the end take part with the operation they wait
 * on. Because every such state counts (not only the step right before e), a race hidden behind a step
 * p could not have preceded (the release of a lock p waits for) is still reversed where it can be.
 *
 * With a preemption bound this is bounded partial-order reduction (Coons, Musuvathi and McKinley,
 * OOPSLA 2013): sleep sets are off (a schedule they prune may be the only one within the bound), a
 * backtrack point is kept only where it fits the bound, and each one is also added, conservatively, at
 * the last context switch before it, where running p costs no preemption more than the schedule
 * already spent. docs/explorer.md states the guarantee and how it is tested.
 */
export class DporStrategy extends TreeSearch implements Strategy {
  readonly name = 'dpor';
  sleepBlocked = 0;

  /**
   * `root`: the subtree to explore, from the decisions that lead to it and the sleep set at its root
   * (a unit of a split exploration, split.ts); the whole tree by default.
   */
  constructor(
    readonly preemptionBound: number = Number.POSITIVE_INFINITY,
    private readonly root: Unit = { prefix: [], sleep: [] },
  ) {
    super();
    this.prefix = root.prefix;
  }

  private get bounded(): boolean {
    return this.preemptionBound !== Number.POSITIVE_INFINITY;
  }

  get exhausted(): boolean {
    return this.finished;
  }

  next(): Scheduler | null {
    return this.finished ? null : this;
  }

  private fits(node: ThreadNode, tid: number): boolean {
    return node.preemptions + costOf(node, tid) <= this.preemptionBound;
  }

  protected freshThreadNode(exec: Execution, enabled: readonly number[], at: number): number {
    const sleep = this.bounded ? [] : inheritedSleep(this.stack, exec, at, this.root.sleep);
    const node = newThreadNode(exec, enabled, sleep);
    this.stack.push(node);
    const asleep = (t: number) => sleep.some((s) => s.tid === t);
    for (const t of preferRunning(exec, enabled)) {
      if (!asleep(t) && this.fits(node, t)) {
        node.chosen = t;
        node.backtrack.add(t);
        return t;
      }
    }
    return -1;
  }

  done(exec: Execution): void {
    if (exec.outcome === 'sleep-blocked') this.sleepBlocked++;
    this.addRaces(exec);
    const allowed = (node: ThreadNode, tid: number) =>
      this.fits(node, tid) && !node.sleep.some((s) => s.tid === tid);
    if (!this.backtrackStack(exec, allowed)) this.finished = true;
  }

  private addRaces(exec: Execution): void {
    const { trace, executed } = withPending(exec);
    const nthreads = exec.threads.length;
    const hb = happensBefore(trace, executed, nthreads, !this.bounded);
    for (const [d, i] of racePairs(trace, executed, hb, nthreads, !this.bounded)) {
      if (this.bounded) this.backtrackAt(trace[d].decision, trace[i].tid);
      else this.reverse(trace, hb, d, i);
    }
  }

  /**
   * Without a bound (source-DPOR, Abdulla et al., POPL 2014): some thread that can start the reversed
   * order, an initial of the steps after d that do not depend on it followed by step i, runs where d
   * was chosen, unless one already does or sleeps there (then that order is covered). Where no initial
   * can run there, the race is left to the earlier ones `racesOf` also returns.
   */
  private reverse(trace: readonly Event[], hb: HappensBefore, d: number, i: number): void {
    const k = trace[d].decision - this.prefix.length;
    if (k < 0) return;
    const node = this.stack[k] as ThreadNode;
    const { clocks, local } = hb;
    const after = (a: number, b: number) => clocks[b][trace[a].tid] >= local[a];
    const firstOf = new Map<number, number>();
    const initials: number[] = [];
    const visit = (j: number) => {
      const q = trace[j].tid;
      if (firstOf.has(q)) return;
      let initial = true;
      for (const [r, lj] of firstOf) if (clocks[j][r] >= local[lj]) initial = false;
      firstOf.set(q, j);
      if (initial) initials.push(q);
    };
    for (let j = d + 1; j < i; j++) if (trace[j].decision >= 0 && !after(d, j)) visit(j);
    visit(i);
    for (const q of initials) if (node.backtrack.has(q) || node.sleep.some((s) => s.tid === q)) return;
    for (const q of initials) {
      if (node.enabled.includes(q)) {
        node.backtrack.add(q);
        return;
      }
    }
  }

  /**
   * p runs where step `decision` was chosen (or, where p could not run, every thread that could); with a
   * preemption bound also at the last context switch before it.
   */
  private backtrackAt(decision: number, p: number): void {
    const k = decision - this.prefix.length;
    if (k < 0) return;
    this.addAt(this.stack[k] as ThreadNode, p);
    if (!this.bounded) return;
    for (let j = k - 1; j >= 0; j--) {
      const node = this.stack[j];
      if (node.kind === 'T' && node.prev !== node.chosen) {
        this.addAt(node, p);
        return;
      }
    }
  }

  private addAt(node: ThreadNode, p: number): void {
    if (node.enabled.includes(p)) {
      if (this.fits(node, p)) node.backtrack.add(p);
      return;
    }
    for (const t of node.enabled) if (this.fits(node, t)) node.backtrack.add(t);
  }

  coverage(): string {
    if (this.bounded) return `exhaustive for preemption bound ${this.preemptionBound}`;
    return 'exhaustive (every Mazurkiewicz trace)';
  }

  notes(): string[] {
    return [`sleep-set-blocked executions: ${this.sleepBlocked}`];
  }
}
