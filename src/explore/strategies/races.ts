/**
 * The race analysis of one execution that DPOR runs after it (docs/explorer.md): happens-before from
 * program order and conflicting footprints, and the races to reverse, blocked threads' pending steps
 * included.
 */
import type { Event, Execution } from '../execution.ts';
import { unlocksFor } from '../footprint.ts';

/**
 * The steps of an execution, then, for each thread that never ran the operation it announced last
 * (blocked at the end), that operation as a pending step with the footprint it would have: its races
 * count too (a deadlock is found by reversing them).
 */
export function withPending(exec: Execution): { trace: Event[]; executed: number } {
  const trace = [...exec.trace];
  for (const t of exec.threads) {
    if (t.done || !t.next) continue;
    const fp = exec.pendingFootprint(t.next);
    if (fp) trace.push({ tid: t.id, decision: -1, op: t.next, fp });
  }
  return { trace, executed: exec.trace.length };
}

/**
 * Happens-before of the executed steps: program order, conflicting footprints, and each release of a
 * lock before its next acquisition (Footprint.after). `clocks[i][t]` is
 * how many steps of thread t happen before step i (itself included); `local[i]` is step i's number in
 * its thread.
 */
export interface HappensBefore {
  clocks: Int32Array[];
  local: Int32Array;
  /** Index of the previous step of the same thread, -1 for a thread's first step. */
  prevOf: Int32Array;
}

export function happensBefore(
  trace: readonly Event[],
  executed: number,
  nthreads: number,
  /**
   * Order each release before the next acquisition (Footprint.after). Off for preemption-bounded DPOR:
   * its backtrack points at the last context switch come from the races of releases with
   * acquisitions, which the ordering removes.
   */
  orderReleases = true,
): HappensBefore {
  const clocks: Int32Array[] = new Array(trace.length);
  const local = new Int32Array(trace.length);
  const prevOf = new Int32Array(trace.length);
  const count = new Int32Array(nthreads);
  const lastOf = new Int32Array(nthreads).fill(-1);
  const lastWrite = new Map<number, number>();
  const readsSince = new Map<number, number[]>();
  for (let i = 0; i < trace.length; i++) {
    const ev = trace[i];
    const p = ev.tid;
    local[i] = count[p] + 1;
    prevOf[i] = lastOf[p];
    const vc = lastOf[p] >= 0 ? Int32Array.from(clocks[lastOf[p]]) : new Int32Array(nthreads);
    vc[p] = local[i];
    const join = (d: number) => {
      const dv = clocks[d];
      for (let t = 0; t < nthreads; t++) if (dv[t] > vc[t]) vc[t] = dv[t];
    };
    for (const x of ev.fp.r) {
      const w = lastWrite.get(x);
      if (w !== undefined) join(w);
    }
    if (orderReleases && ev.fp.after >= 0) {
      const w = lastWrite.get(ev.fp.after);
      if (w !== undefined) join(w);
    }
    for (const x of ev.fp.w) {
      const w = lastWrite.get(x);
      if (w !== undefined) join(w);
      const rs = readsSince.get(x);
      if (rs) for (const r of rs) join(r);
    }
    clocks[i] = vc;
    // A pending step has a past but is not part of anyone's.
    if (i >= executed) continue;
    count[p]++;
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
  }
  return { clocks, local, prevOf };
}

/**
 * Every race of an execution as (d, i): step d, earlier, of another thread conflicts with step i and is
 * one the DPOR strategies reverse (`racesOf`), in the order of i, then as `racesOf` returns them.
 */
export function racePairs(
  trace: readonly Event[],
  executed: number,
  hb: HappensBefore,
  nthreads: number,
  /** As for happensBefore: whether a release is left out as a race partner of the next acquisition. */
  orderReleases = true,
): [number, number][] {
  // Per location, the executed steps that touched it, in order; a write is stored as ~index.
  const accesses = new Map<number, number[]>();
  const note = (x: number, v: number) => {
    const list = accesses.get(x);
    if (list) list.push(v);
    else accesses.set(x, [v]);
  };
  const covered = new Uint8Array(nthreads);
  const out: [number, number][] = [];
  for (let i = 0; i < trace.length; i++) {
    const e = trace[i];
    for (const d of racesOf(trace, i, hb, accesses, covered, orderReleases)) out.push([d, i]);
    if (i >= executed) continue;
    for (const x of e.fp.r) note(x, i);
    for (const x of e.fp.w) note(x, ~i);
  }
  return out;
}

/**
 * The races of step i (thread p): the steps d before it, of other threads, that conflict with it and
 * do not happen before p's previous step. Every one after that previous step counts (each is the last
 * conflicting step at the state right after it, where p waited with this step next), and of those
 * before it the last one. `covered` is scratch space, one entry per thread.
 */
function racesOf(
  trace: readonly Event[],
  i: number,
  hb: HappensBefore,
  accesses: Map<number, number[]>,
  covered: Uint8Array,
  orderReleases: boolean,
): number[] {
  const e = trace[i];
  const p = e.tid;
  const prev = hb.prevOf[i];
  const known = prev >= 0 ? hb.clocks[prev] : null;
  const out: number[] = [];
  const hasAfter = orderReleases && e.fp.after >= 0;
  let lastBefore = -1;
  const scan = (x: number, writesOnly: boolean) => {
    const list = accesses.get(x);
    if (!list) return;
    covered.fill(0);
    let open = covered.length - 1;
    for (let j = list.length - 1; j >= 0 && open > 0; j--) {
      const write = list[j] < 0;
      const d = write ? ~list[j] : list[j];
      if (d <= lastBefore) return;
      const q = trace[d].tid;
      if (q === p || covered[q]) continue;
      // Steps after p's previous one cannot happen before it; earlier ones may.
      if (d < prev && known !== null && known[q] >= hb.local[d]) {
        // Every earlier step of q happens before p too.
        covered[q] = 1;
        open--;
        continue;
      }
      if (writesOnly && !write) continue;
      // Not a race to reverse: the lock i takes is released by d (the acquisitions race instead).
      if (hasAfter && unlocksFor(trace[d].fp, e.fp)) {
        // Every earlier step of q happens before i through that release.
        covered[q] = 1;
        open--;
        continue;
      }
      if (d > prev) {
        if (!out.includes(d)) out.push(d);
      } else {
        lastBefore = d;
        return;
      }
    }
  };
  for (const x of e.fp.w) scan(x, false);
  for (const x of e.fp.r) scan(x, true);
  if (lastBefore >= 0 && !out.includes(lastBefore)) out.push(lastBefore);
  return out;
}
