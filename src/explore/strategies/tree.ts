import type { Execution, Scheduler } from '../execution.ts';
import { dependent, type Footprint } from '../footprint.ts';

/** A thread sleeping at a node, with the footprint its next step had when it was explored. */
export interface SleepEntry {
  tid: number;
  fp: Footprint;
}

/**
 * A subtree of the decision tree: the decisions that lead to its root and the sleep set there. A split
 * exploration (split.ts) cuts the tree into such units, which can be explored independently.
 */
export interface Unit {
  prefix: readonly number[];
  sleep: readonly SleepEntry[];
}

/** A thread choice point of the depth-first search tree. */
export interface ThreadNode {
  kind: 'T';
  enabled: number[];
  chosen: number;
  /** Thread of the step before this node (-1 at the start). */
  prev: number;
  /** Preemptions on the path before this node. */
  preemptions: number;
  /** Threads still to explore here (the chosen one included). */
  backtrack: Set<number>;
  /** Threads fully explored here, with the footprint of their step. */
  done: Map<number, Footprint>;
  /** Sleep set inherited from the parent. */
  sleep: SleepEntry[];
}

/** A value choice point: every value is explored. */
export interface ValueNode {
  kind: 'V';
  n: number;
  chosen: number;
}

export type Node = ThreadNode | ValueNode;

/** A fresh thread node for the decision the execution is about to take. */
export function newThreadNode(
  exec: Execution,
  enabled: readonly number[],
  sleep: SleepEntry[] = [],
): ThreadNode {
  return {
    kind: 'T',
    enabled: [...enabled],
    chosen: -1,
    prev: exec.prev,
    preemptions: exec.preemptions,
    backtrack: new Set(),
    done: new Map(),
    sleep,
  };
}

/**
 * The sleep set of a fresh node at stack index `at`: the sleepers of the nearest thread node above it
 * and its explored siblings, those independent of the step just taken. `root` is the sleep set of a
 * node with no thread node above it (a subtree's root, docs/scale.md).
 */
export function inheritedSleep(
  stack: readonly Node[],
  exec: Execution,
  at: number,
  root: readonly SleepEntry[] = [],
): SleepEntry[] {
  let j = at - 1;
  while (j >= 0 && stack[j].kind !== 'T') j--;
  if (j < 0) return [...root];
  const parent = stack[j] as ThreadNode;
  const last = exec.trace[exec.trace.length - 1];
  const out: SleepEntry[] = [];
  for (const s of parent.sleep) if (s.tid !== parent.chosen && !dependent(s.fp, last.fp)) out.push(s);
  for (const [tid, fp] of parent.done) {
    if (tid !== parent.chosen && !dependent(fp, last.fp) && !out.some((s) => s.tid === tid))
      out.push({ tid, fp });
  }
  return out;
}

/** Threads in the order a fresh node tries them: the running one first (fewer preemptions). */
export function preferRunning(exec: Execution, enabled: readonly number[]): readonly number[] {
  return enabled.includes(exec.prev) ? [exec.prev, ...enabled.filter((t) => t !== exec.prev)] : enabled;
}

export function costOf(node: ThreadNode, tid: number): number {
  return tid !== node.prev && node.enabled.includes(node.prev) ? 1 : 0;
}

/**
 * Depth-first search over decision trees by re-execution: the stack holds one node per decision of the
 * current path; an execution replays the stack and extends it with fresh nodes; afterwards the deepest
 * node with an unexplored alternative is advanced. Subclasses decide how fresh nodes are chosen and
 * which alternatives exist.
 */
export abstract class TreeSearch implements Scheduler {
  protected stack: Node[] = [];
  /** Decisions forced before the stack starts (bounded search resumes deferred prefixes). */
  protected prefix: readonly number[] = [];
  protected finished = false;

  protected abstract freshThreadNode(exec: Execution, enabled: readonly number[], at: number): number;

  pickThread(exec: Execution, enabled: readonly number[]): number {
    const i = exec.decisions.length;
    if (i < this.prefix.length) return this.prefix[i];
    const k = i - this.prefix.length;
    if (k < this.stack.length) {
      const node = this.stack[k];
      if (node.kind !== 'T')
        throw new Error(`explorer: decision ${i} replayed as a thread choice but was a value`);
      return node.chosen;
    }
    return this.freshThreadNode(exec, enabled, k);
  }

  pickValue(exec: Execution, _tid: number, n: number): number {
    const i = exec.decisions.length;
    if (i < this.prefix.length) return this.prefix[i];
    const k = i - this.prefix.length;
    if (k < this.stack.length) {
      const node = this.stack[k];
      if (node.kind !== 'V')
        throw new Error(`explorer: decision ${i} replayed as a value but was a thread choice`);
      return node.chosen;
    }
    this.stack.push({ kind: 'V', n, chosen: 0 });
    return 0;
  }

  /** The footprint of the step each thread node of this execution started. */
  protected stepFootprints(exec: Execution): Map<number, Footprint> {
    const m = new Map<number, Footprint>();
    for (const ev of exec.trace) {
      const k = ev.decision - this.prefix.length;
      if (k >= 0) m.set(k, ev.fp);
    }
    return m;
  }

  /**
   * Advances the deepest node that has an alternative left: a value node to its next value, a thread
   * node to the thread `next` gives (-1: none left), after recording the one explored with the
   * footprint of its step. Returns false when the stack is exhausted.
   */
  protected unwind(exec: Execution, next: (node: ThreadNode) => number): boolean {
    const fps = this.stepFootprints(exec);
    while (this.stack.length > 0) {
      const k = this.stack.length - 1;
      const node = this.stack[k];
      if (node.kind === 'V') {
        if (node.chosen + 1 < node.n) {
          node.chosen++;
          return true;
        }
      } else {
        const fp = fps.get(k);
        if (fp) node.done.set(node.chosen, fp);
        const t = next(node);
        if (t >= 0) {
          node.chosen = t;
          return true;
        }
      }
      this.stack.pop();
    }
    return false;
  }

  /** `unwind` to the lowest-numbered thread of a node's backtrack set not yet explored and `allowed`. */
  protected backtrackStack(exec: Execution, allowed: (node: ThreadNode, tid: number) => boolean): boolean {
    return this.unwind(exec, (node) => {
      for (const q of [...node.backtrack].sort((a, b) => a - b))
        if (!node.done.has(q) && allowed(node, q)) return q;
      return -1;
    });
  }
}
