import { ProbeAbort } from '../explore/ops.ts';
import { fault } from './bug.ts';
import { kasanAccess } from './kasan.ts';
import { kcsanAccess } from './kcsan.ts';
import { type BadPtr, type Field, KObj, type Loc } from './mem.ts';
import type { Task } from './task.ts';

/** A pointer as the model holds it: a live or freed object, or a bad value (NULL, poison). */
export type Ptr = KObj | BadPtr;

/**
 * Every access to a shared field goes through here: a bad pointer faults (fatal), a freed object is a
 * KASAN report (the access then proceeds on the tombstone), the location joins the step's footprint,
 * and KCSAN checks it against unordered accesses of other tasks. `marked` is READ_ONCE/WRITE_ONCE or
 * an atomic.
 */
function check(t: Task, p: Ptr, f: Field<unknown>, write: boolean, marked: boolean, value?: unknown): Loc {
  const k = t.k;
  const exec = k.exec;
  if (!(p instanceof KObj)) {
    if (exec.probing) throw new ProbeAbort();
    fault(t, p, f.off, write);
  }
  const loc = p.loc(f);
  if (!exec.inStep) return loc;
  if (write) exec.fp.write(loc.id);
  else exec.fp.read(loc.id);
  if (exec.probing) return loc;
  if (p.freed && k.switches.KASAN) kasanAccess(t, loc, write);
  if (k.switches.KCSAN) kcsanAccess(t, loc, write, marked, value);
  return loc;
}

export function rd<T>(t: Task, p: Ptr, f: Field<T>): T {
  return check(t, p, f, false, false).value as T;
}

export function wr<T>(t: Task, p: Ptr, f: Field<T>, v: T): void {
  check(t, p, f, true, false, v).value = v;
}

export function readOnce<T>(t: Task, p: Ptr, f: Field<T>): T {
  return check(t, p, f, false, true).value as T;
}

export function writeOnce<T>(t: Task, p: Ptr, f: Field<T>, v: T): void {
  check(t, p, f, true, true, v).value = v;
}

/** smp_store_release: a marked write that publishes the writer's clock to a later acquire. */
export function storeRelease<T>(t: Task, p: Ptr, f: Field<T>, v: T): void {
  const loc = check(t, p, f, true, true, v);
  loc.value = v;
  loc.releaseVc = t.release();
}

/** smp_load_acquire: a marked read that joins the clock of the release it reads from. */
export function loadAcquire<T>(t: Task, p: Ptr, f: Field<T>): T {
  const loc = check(t, p, f, false, true);
  if (loc.releaseVc) t.join(loc.releaseVc);
  return loc.value as T;
}

/** An atomic read-modify-write (atomic_t, cmpxchg): marked, and ordered as release plus acquire. */
export function atomicRmw<T>(t: Task, p: Ptr, f: Field<T>, update: (old: T) => T): T {
  const loc = check(t, p, f, true, true);
  if (loc.releaseVc) t.join(loc.releaseVc);
  const old = loc.value as T;
  loc.value = update(old);
  loc.releaseVc = t.release();
  return old;
}

/** Access to model state without instrumentation (oracles, state dumps, reports). */
export function peek<T>(p: KObj, f: Field<T>): T {
  return p.loc(f).value as T;
}

/** Initialises model state without instrumentation, while the object is not yet shared (build time). */
export function poke<T>(p: KObj, f: Field<T>, v: T): void {
  p.loc(f).value = v;
}

/** cmpxchg: a marked read-modify-write when it succeeds, a marked read when it fails. Returns the old value. */
export function cmpxchg<T>(t: Task, p: Ptr, f: Field<T>, expected: T, next: T): T {
  const cur = (p instanceof KObj ? p.loc(f).value : undefined) as T;
  if (cur !== expected) return readOnce<T>(t, p, f);
  return atomicRmw<T>(t, p, f, () => next);
}
