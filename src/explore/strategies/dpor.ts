import type { Event, Execution, Scheduler } from '../execution.ts';
import { dependent, Footprint } from '../footprint.ts';
import type { Strategy } from '../strategy.ts';
import { costOf, newThreadNode, type SleepEntry, type ThreadNode, TreeSearch } from './tree.ts';

/**
 * The trace plus, for each thread that never ran its announced operation (blocked at a deadlock, or
 * cut off), a virtual last event with that operation's footprint: its races count too.
 */
function withPending(exec: Execution): Event[] {
  const out = [...exec.trace];
  for (const t of exec.threads) {
    if (t.done || !t.next?.footprint) continue;
    const fp = new Footprint();
    t.next.footprint(fp);
    out.push({ tid: t.id, decision: -1, op: t.next, fp });
  }
  return out;
}

/**
 * Source-DPOR with sleep sets (Abdulla, Aronis, Jonsson, Sagonas, POPL 2014). After each execution the
 * races of its trace are computed from step footprints and vector clocks; for each race e' ⋖ e a
 * thread that can start the reversed sequence (an initial of notdep(e').e) is added to the backtrack
 * set at e' unless one is there already. Sleep sets prune executions equivalent to explored ones.
 *
 * With a preemption bound, sleep sets are off and every backtrack point is also added, conservatively,
 * at the last context switch before it (Coons, Musuvathi, McKinley, OOPSLA 2013; as loom does); a
 * thread that is disabled at the point makes every enabled thread a backtrack candidate.
 */
export class DporStrategy extends TreeSearch implements Strategy {
  readonly name = 'dpor';
  sleepBlocked = 0;

  constructor(readonly preemptionBound: number = Number.POSITIVE_INFINITY) {
    super();
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
    const sleep = this.bounded ? [] : this.inheritedSleep(exec, at);
    const node = newThreadNode(exec, enabled, sleep);
    this.stack.push(node);
    const asleep = (t: number) => sleep.some((s) => s.tid === t);
    // Prefer the running thread: fewer preemptions give shorter, more readable counterexamples.
    const order = enabled.includes(exec.prev)
      ? [exec.prev, ...enabled.filter((t) => t !== exec.prev)]
      : enabled;
    for (const t of order) {
      if (!asleep(t) && this.fits(node, t)) {
        node.chosen = t;
        node.backtrack.add(t);
        return t;
      }
    }
    return -1;
  }

  /** Sleep set of the node at stack index `at`: the parent's sleepers and explored siblings that are
   * independent of the step the parent just took. */
  private inheritedSleep(exec: Execution, at: number): SleepEntry[] {
    let j = at - 1;
    while (j >= 0 && this.stack[j].kind !== 'T') j--;
    if (j < 0) return [];
    const parent = this.stack[j] as ThreadNode;
    const last = exec.trace[exec.trace.length - 1];
    const out: SleepEntry[] = [];
    for (const s of parent.sleep) if (s.tid !== parent.chosen && !dependent(s.fp, last.fp)) out.push(s);
    for (const [tid, fp] of parent.done) {
      if (tid !== parent.chosen && !dependent(fp, last.fp) && !out.some((s) => s.tid === tid))
        out.push({ tid, fp });
    }
    return out;
  }

  done(exec: Execution): void {
    if (exec.outcome === 'sleep-blocked') this.sleepBlocked++;
    this.addRaces(withPending(exec));
    const allowed = (node: ThreadNode, tid: number) =>
      this.fits(node, tid) && !node.sleep.some((s) => s.tid === tid);
    if (!this.backtrackStack(exec, allowed)) this.finished = true;
  }

  /** Race analysis over one trace: happens-before from program order and conflicting steps. */
  private addRaces(trace: readonly Event[]): void {
    const n = trace.length;
    let nthreads = 0;
    for (const ev of trace) nthreads = Math.max(nthreads, ev.tid + 1);
    const clocks: Int32Array[] = new Array(n);
    const local = new Int32Array(n);
    const count = new Int32Array(nthreads);
    const lastOf = new Int32Array(nthreads).fill(-1);
    const lastWrite = new Map<number, number>();
    const readsSince = new Map<number, number[]>();

    for (let i = 0; i < n; i++) {
      const ev = trace[i];
      const p = ev.tid;
      local[i] = ++count[p];
      const pre = lastOf[p] >= 0 ? clocks[lastOf[p]] : new Int32Array(nthreads);
      const deps: number[] = [];
      for (const x of ev.fp.r) {
        const w = lastWrite.get(x);
        if (w !== undefined) deps.push(w);
      }
      for (const x of ev.fp.w) {
        const w = lastWrite.get(x);
        if (w !== undefined) deps.push(w);
        const rs = readsSince.get(x);
        if (rs) for (const r of rs) deps.push(r);
      }
      const vc = Int32Array.from(pre);
      vc[p] = local[i];
      const cands: number[] = [];
      for (const d of deps) {
        if (d === i) continue;
        const q = trace[d].tid;
        if (q !== p && pre[q] < local[d] && !cands.includes(d)) cands.push(d);
        const dv = clocks[d];
        for (let t = 0; t < nthreads; t++) if (dv[t] > vc[t]) vc[t] = dv[t];
      }
      clocks[i] = vc;
      lastOf[p] = i;
      for (const x of ev.fp.r) {
        let rs = readsSince.get(x);
        if (!rs) readsSince.set(x, (rs = []));
        rs.push(i);
      }
      for (const x of ev.fp.w) {
        lastWrite.set(x, i);
        readsSince.set(x, []);
      }
      const hb = (a: number, b: number) => clocks[b][trace[a].tid] >= local[a];
      for (const d of cands) {
        // Only immediate races: no other candidate lies between d and i in happens-before.
        if (cands.some((o) => o !== d && hb(d, o))) continue;
        this.reverse(trace, clocks, local, d, i, hb);
      }
    }
  }

  /** Makes sure some initial of notdep(d).e is explored at the node where d was chosen. */
  private reverse(
    trace: readonly Event[],
    clocks: Int32Array[],
    local: Int32Array,
    d: number,
    e: number,
    hb: (a: number, b: number) => boolean,
  ): void {
    const k = trace[d].decision - this.prefix.length;
    if (k < 0) return;
    const node = this.stack[k] as ThreadNode;
    const firstInV = new Map<number, number>();
    const initials: number[] = [];
    const visit = (j: number) => {
      const q = trace[j].tid;
      if (firstInV.has(q)) return;
      let initial = true;
      for (const [r, lj] of firstInV) if (clocks[j][r] >= local[lj]) initial = false;
      firstInV.set(q, j);
      if (initial) initials.push(q);
    };
    for (let j = d + 1; j < e; j++) if (!hb(d, j)) visit(j);
    visit(e);
    if (this.bounded) {
      this.addBounded(k, initials.includes(trace[e].tid) ? trace[e].tid : initials[0]);
      return;
    }
    for (const q of initials) if (node.backtrack.has(q) || node.sleep.some((s) => s.tid === q)) return;
    for (const q of initials) {
      if (node.enabled.includes(q)) {
        node.backtrack.add(q);
        return;
      }
    }
    // Every initial is disabled at the race point: the reversal is infeasible there.
  }

  private addBounded(k: number, q: number): void {
    const add = (node: ThreadNode) => {
      if (node.enabled.includes(q)) {
        if (this.fits(node, q)) node.backtrack.add(q);
      } else {
        for (const t of node.enabled) if (this.fits(node, t)) node.backtrack.add(t);
      }
    };
    add(this.stack[k] as ThreadNode);
    // Also at the last context switch before k: inserting q there may cost no extra preemption.
    for (let j = k - 1; j >= 0; j--) {
      const node = this.stack[j];
      if (node.kind === 'T' && node.prev !== node.chosen) {
        add(node);
        return;
      }
    }
  }

  coverage(): string {
    if (this.bounded) return `exhaustive for preemption bound ${this.preemptionBound}`;
    return 'exhaustive (every Mazurkiewicz trace)';
  }

  notes(): string[] {
    return [`sleep-set-blocked executions: ${this.sleepBlocked}`];
  }
}
