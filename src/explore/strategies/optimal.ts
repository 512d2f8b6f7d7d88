import type { Event, Execution, Scheduler } from '../execution.ts';
import { dependent, type Footprint, ordered, unlocksFor } from '../footprint.ts';
import type { Strategy } from '../strategy.ts';
import { type HappensBefore, happensBefore, withPending } from './races.ts';
import { inheritedSleep, newThreadNode, preferRunning, type ThreadNode, TreeSearch } from './tree.ts';

/** A wakeup tree's node: a thread's step, with the footprint it had where it was seen. */
interface Wake {
  tid: number;
  fp: Footprint | null;
  children: Wake[];
}

/** A thread node with its wakeup tree: the sequences still to explore from it, in order. */
interface OptimalNode extends ThreadNode {
  wut: Wake[];
}

/** One step of a sequence to insert: its thread and footprint. */
interface Step {
  tid: number;
  fp: Footprint;
}

function copy(w: readonly Wake[]): Wake[] {
  return w.map((c) => ({ tid: c.tid, fp: c.fp, children: copy(c.children) }));
}

/**
 * Whether thread `q`, whose next step has footprint `fq`, is a weak initial of `v`: its first step in
 * `v` has no step of `v` before it that happens before it, or it has no step in `v` and its next step
 * is independent of all of them.
 */
function weakInitial(q: number, fq: Footprint | null, v: readonly Step[]): boolean {
  const j = v.findIndex((s) => s.tid === q);
  if (j < 0) return fq !== null && v.every((s) => !ordered(fq, s.fp));
  // Steps of v that happen before v[j]: closed backwards from j through dependence.
  const before = new Uint8Array(j);
  for (let m = j - 1; m >= 0; m--) {
    if (ordered(v[m].fp, v[j].fp)) {
      before[m] = 1;
      continue;
    }
    for (let n = m + 1; n < j; n++) {
      if (before[n] && (v[n].tid === v[m].tid || ordered(v[m].fp, v[n].fp))) {
        before[m] = 1;
        break;
      }
    }
  }
  return before.every((b) => b === 0);
}

function without(v: readonly Step[], q: number): Step[] {
  const j = v.findIndex((s) => s.tid === q);
  return j < 0 ? [...v] : [...v.slice(0, j), ...v.slice(j + 1)];
}

/**
 * The races that optimal DPOR reverses: step d of another thread conflicts with step i (executed, or
 * the pending step of a thread blocked at the end) and happens before it with nothing in between — no
 * step that d happens before happens before i, the release of a lock both take aside — and, for a
 * blocking wait, the last other step that wrote what it writes.
 */
export function directRaces(
  trace: readonly Event[],
  executed: number,
  hb: HappensBefore,
): [number, number][] {
  const { clocks, local, prevOf } = hb;
  const out: [number, number][] = [];
  const preds: number[] = [];
  for (let i = 1; i < trace.length; i++) {
    const e = trace[i];
    const fi = e.fp;
    preds.length = 0;
    /** The last release before i of the lock i blocks to acquire. */
    let release = -1;
    const end = Math.min(i, executed);
    for (let j = 0; j < end; j++) {
      const f = trace[j].fp;
      if (trace[j].tid !== e.tid && dependent(f, fi)) preds.push(j);
      if (fi.after >= 0 && f.w.includes(fi.after)) release = j;
    }
    const prev = prevOf[i];
    for (const d of preds) {
      const q = trace[d].tid;
      const fd = trace[d].fp;
      // i cannot run before a step that releases the lock it takes.
      if (unlocksFor(fd, fi)) continue;
      const before = (m: number) => m !== d && m >= 0 && clocks[m][q] >= local[d];
      if (before(prev) || preds.some(before)) continue;
      // The release orders i after d, unless d took the same lock (the acquisitions race, below).
      if (fd.taken !== fi.taken && before(release)) continue;
      out.push([d, i]);
    }
    // A blocking acquisition races with the previous acquisition of its lock by another thread,
    // whatever that critical section did before its release (Nidhugg's rule for locks): reversing the
    // two reverses the critical sections. Not where i's thread already depends on that acquisition.
    if (fi.after >= 0) {
      for (let j = end - 1; j >= 0; j--) {
        if (trace[j].tid === e.tid || trace[j].fp.taken !== fi.taken) continue;
        const q = trace[j].tid;
        if (!(prev >= 0 && clocks[prev][q] >= local[j]) && !out.some(([a, b]) => a === j && b === i))
          out.push([j, i]);
        break;
      }
      continue;
    }
    // A wait that blocks also races with the last step of another thread that wrote what it writes.
    if (!e.op.waitsFor) continue;
    for (const x of e.fp.w) {
      for (let j = end - 1; j >= 0; j--) {
        if (trace[j].tid === e.tid || !trace[j].fp.w.includes(x)) continue;
        if (!out.some(([a, b]) => a === j && b === i)) out.push([j, i]);
        break;
      }
    }
  }
  return out;
}

/**
 * Optimal DPOR (Abdulla, Aronis, Jonsson and Sagonas, "Source Sets: A Foundation for Optimal Dynamic
 * Partial Order Reduction", JACM 2017): instead of one thread per race, the whole reversing sequence is
 * kept, in a wakeup tree at the node where the race begins, and later executions follow it; a sequence
 * that a sleeping or already explored thread starts, or that a pending sequence already covers, is not
 * inserted. Each Mazurkiewicz trace is then explored once, without sleep-set-blocked executions, where
 * every reversing sequence can run as recorded. Locks keep that promise: a release comes before the next
 * acquisition in happens-before and the acquisitions race (`directRaces`, Footprint.after), so a
 * sequence never asks for a lock while it is held. Waits do not (a wait is enabled by a write that its
 * condition reads): where a sequence's thread is blocked when its turn comes, its thread is skipped
 * and the next sequence or a fresh choice is taken, and some executions end sleep-set-blocked.
 */
export class OptimalStrategy extends TreeSearch implements Strategy {
  readonly name = 'optimal';
  sleepBlocked = 0;

  get exhausted(): boolean {
    return this.finished;
  }

  next(): Scheduler | null {
    return this.finished ? null : this;
  }

  /** The wakeup subtree a fresh node at `at` starts with: what its parent's current sequence has left. */
  private inheritedWut(at: number): Wake[] {
    let j = at - 1;
    while (j >= 0 && this.stack[j].kind !== 'T') j--;
    if (j < 0) return [];
    const parent = this.stack[j] as OptimalNode;
    const c = parent.wut.find((w) => w.tid === parent.chosen);
    return c ? copy(c.children) : [];
  }

  protected freshThreadNode(exec: Execution, enabled: readonly number[], at: number): number {
    const sleep = inheritedSleep(this.stack, exec, at);
    const node: OptimalNode = { ...newThreadNode(exec, enabled, sleep), wut: this.inheritedWut(at) };
    this.stack.push(node);
    const asleep = (t: number) => sleep.some((s) => s.tid === t);
    const pick = this.firstRunnable(node, asleep);
    if (pick >= 0) {
      node.chosen = pick;
      return pick;
    }
    for (const t of preferRunning(exec, enabled)) {
      if (!asleep(t)) {
        node.wut.push({ tid: t, fp: null, children: [] });
        node.chosen = t;
        return t;
      }
    }
    return -1;
  }

  /**
   * The first sequence of the node's wakeup tree that can start here. A sequence whose first thread is
   * blocked here (mostly a wait whose condition is not yet true: a lock's release comes before its next
   * acquisition in happens-before) gives way to every thread that can run and is not asleep, as
   * source-DPOR does where the reversing thread cannot run; DPOR below finds the rest.
   */
  private firstRunnable(node: OptimalNode, asleep: (t: number) => boolean): number {
    while (node.wut.length > 0) {
      const t = node.wut[0].tid;
      if (node.enabled.includes(t) && !asleep(t) && !node.done.has(t)) return t;
      node.wut.shift();
      if (node.enabled.includes(t)) continue;
      for (const q of node.enabled) {
        if (!asleep(q) && !node.done.has(q) && !node.wut.some((w) => w.tid === q))
          node.wut.push({ tid: q, fp: null, children: [] });
      }
    }
    return -1;
  }

  done(exec: Execution): void {
    if (exec.outcome === 'sleep-blocked') this.sleepBlocked++;
    const fps = this.stepFootprints(exec);
    for (const [k, fp] of fps) {
      const node = this.stack[k] as OptimalNode;
      const w = node.wut.find((c) => c.tid === node.chosen);
      if (w) w.fp = fp;
    }
    this.insertRaces(exec);
    // The next sequence of the deepest wakeup tree that has one left.
    const more = this.unwind(exec, (node) => {
      const o = node as OptimalNode;
      o.wut = o.wut.filter((w) => w.tid !== o.chosen);
      return this.firstRunnable(o, (t) => o.sleep.some((s) => s.tid === t));
    });
    if (!more) this.finished = true;
  }

  private insertRaces(exec: Execution): void {
    const { trace, executed } = withPending(exec);
    const hb = happensBefore(trace, executed, exec.threads.length);
    for (const [d, i] of directRaces(trace, executed, hb)) this.insert(trace, hb, d, i);
  }

  /** Inserts the sequence that reverses the race (d, i) at d's node, unless it is covered there. */
  private insert(trace: readonly Event[], hb: HappensBefore, d: number, i: number): void {
    const k = trace[d].decision - this.prefix.length;
    if (k < 0) return;
    const node = this.stack[k] as OptimalNode;
    const { clocks, local } = hb;
    const p = trace[d].tid;
    let v: Step[] = [];
    for (let j = d + 1; j < i; j++) {
      const e = trace[j];
      if (e.decision >= 0 && clocks[j][p] < local[d]) v.push({ tid: e.tid, fp: e.fp });
    }
    v.push({ tid: trace[i].tid, fp: trace[i].fp });
    for (const s of node.sleep) if (weakInitial(s.tid, s.fp, v)) return;
    for (const [q, fq] of node.done) if (weakInitial(q, fq, v)) return;
    let level = node.wut;
    for (let depth = 0; ; depth++) {
      if (v.length === 0 || (depth > 0 && level.length === 0)) return;
      const c = level.find((w) => weakInitial(w.tid, w.fp, v));
      if (!c) {
        let at = level;
        for (const s of v) {
          const w: Wake = { tid: s.tid, fp: s.fp, children: [] };
          at.push(w);
          at = w.children;
        }
        return;
      }
      v = without(v, c.tid);
      level = c.children;
    }
  }

  coverage(): string {
    return 'exhaustive (every Mazurkiewicz trace)';
  }

  notes(): string[] {
    return [`sleep-set-blocked executions: ${this.sleepBlocked}`];
  }
}
