import type { Ptr } from './access.ts';
import { atomicRmw, peek, readOnce } from './access.ts';
import { warn } from './bug.ts';
import type { Field, KObj } from './mem.ts';
import { defineFn, type StepOf, withFrame } from './stack.ts';
import type { Task } from './task.ts';

/** REFCOUNT_SATURATED = INT_MIN / 2: a counter that hit an error stays here and leaks its object. */
export const REFCOUNT_SATURATED = -0x40000000;
const INT_MAX = 0x7fffffff;

/** refcount_warn_saturate's steps are its cases (enum refcount_saturation_type). */
const WARN_SATURATE = defineFn({
  name: 'refcount_warn_saturate',
  file: 'lib/refcount.c',
  steps: ['add_not_zero_ovf', 'add_ovf', 'add_uaf', 'sub_uaf', 'dec_leak'],
  lines: { add_not_zero_ovf: 22, add_ovf: 19, add_uaf: 25, sub_uaf: 28, dec_leak: 31 },
});

type Site = StepOf<typeof WARN_SATURATE>;
const TEXT: Record<Site, string> = {
  add_not_zero_ovf: 'saturated; leaking memory',
  add_ovf: 'saturated; leaking memory',
  add_uaf: 'addition on 0; use-after-free',
  sub_uaf: 'underflow; use-after-free',
  dec_leak: 'decrement hit 0; leaking memory',
};

/** refcount_warn_saturate (lib/refcount.c): saturate every time, warn once per call site per execution. */
function saturate(t: Task, p: Ptr, f: Field<number>, site: Site): void {
  atomicRmw(t, p, f, () => REFCOUNT_SATURATED);
  if (!t.k.switches.REFCOUNT_CHECKS) return;
  const text = TEXT[site];
  const caller = t.stack ? t.stack.fn.name : '??';
  warn(t, {
    at: withFrame(t.stack, WARN_SATURATE, site),
    message: `refcount_t: ${text}.`,
    once: `refcount:${site}`,
    checker: 'refcount',
    title: `refcount_t: ${text} in ${caller}`,
  });
}

export function refcount_add(t: Task, p: Ptr, f: Field<number>, i: number): void {
  const old = atomicRmw(t, p, f, (v) => v + i);
  if (old === 0) saturate(t, p, f, 'add_uaf');
  else if (old < 0 || old + i > INT_MAX) saturate(t, p, f, 'add_ovf');
}

export function refcount_inc(t: Task, p: Ptr, f: Field<number>): void {
  refcount_add(t, p, f, 1);
}

/** Returns false (and changes nothing) when the count is 0: the legal way to take a reference in RCU. */
export function refcount_inc_not_zero(t: Task, p: Ptr, f: Field<number>): boolean {
  const old = atomicRmw(t, p, f, (v) => (v === 0 ? 0 : v + 1));
  if (old !== 0 && (old < 0 || old + 1 > INT_MAX)) saturate(t, p, f, 'add_not_zero_ovf');
  return old !== 0;
}

/** True when this put released the last reference (the caller frees). */
export function refcount_sub_and_test(t: Task, p: Ptr, f: Field<number>, i: number): boolean {
  const old = atomicRmw(t, p, f, (v) => v - i);
  if (old === i) return true;
  if (old < 0 || old - i < 0) saturate(t, p, f, 'sub_uaf');
  return false;
}

export function refcount_dec_and_test(t: Task, p: Ptr, f: Field<number>): boolean {
  return refcount_sub_and_test(t, p, f, 1);
}

/**
 * Decrements unless the count is 1 (the last reference stays for a caller that must take a lock
 * before dropping it, as refcount_dec_and_lock does). True when it decremented.
 */
export function refcount_dec_not_one(t: Task, p: Ptr, f: Field<number>): boolean {
  const old = atomicRmw(t, p, f, (v) => (v === 1 ? 1 : v - 1));
  if (old === 1) return false;
  if (old <= 0) saturate(t, p, f, 'sub_uaf');
  return true;
}

/** A plain decrement must never be the last put. */
export function refcount_dec(t: Task, p: Ptr, f: Field<number>): void {
  const old = atomicRmw(t, p, f, (v) => v - 1);
  if (old <= 1) saturate(t, p, f, 'dec_leak');
}

export function refcount_read(t: Task, p: Ptr, f: Field<number>): number {
  return readOnce(t, p, f);
}

/** The count without instrumentation (oracles, state dumps). */
export function refcountPeek(o: KObj, f: Field<number>): number {
  return peek(o, f);
}
