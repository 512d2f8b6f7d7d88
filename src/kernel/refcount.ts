import type { Ptr } from './access.ts';
import { atomicRmw, peek, readOnce } from './access.ts';
import { warn } from './bug.ts';
import type { Field, KObj } from './mem.ts';
import { Fn, withFrame } from './stack.ts';
import type { Task } from './task.ts';

/** REFCOUNT_SATURATED = INT_MIN / 2: a counter that hit an error stays here and leaks its object. */
export const REFCOUNT_SATURATED = -0x40000000;
const INT_MAX = 0x7fffffff;

const WARN_SATURATE = new Fn('refcount_warn_saturate', 9, 'lib/refcount.c', {
  1: 22,
  2: 19,
  3: 25,
  5: 28,
  7: 31,
});

type Site = 'add_not_zero_ovf' | 'add_ovf' | 'add_uaf' | 'sub_uaf' | 'dec_leak';
const SITES: Record<Site, { pc: number; text: string }> = {
  add_not_zero_ovf: { pc: 1, text: 'saturated; leaking memory' },
  add_ovf: { pc: 2, text: 'saturated; leaking memory' },
  add_uaf: { pc: 3, text: 'addition on 0; use-after-free' },
  sub_uaf: { pc: 5, text: 'underflow; use-after-free' },
  dec_leak: { pc: 7, text: 'decrement hit 0; leaking memory' },
};

/** refcount_warn_saturate: saturate every time, warn once per call site per execution (§4). */
function saturate(t: Task, p: Ptr, f: Field, site: Site): void {
  atomicRmw(t, p, f, () => REFCOUNT_SATURATED);
  if (!t.k.switches.REFCOUNT_CHECKS) return;
  const s = SITES[site];
  const caller = t.stack ? t.stack.fn.name : '??';
  warn(t, {
    at: withFrame(t.stack, WARN_SATURATE, s.pc),
    message: `refcount_t: ${s.text}.`,
    once: `refcount:${site}`,
    checker: 'refcount',
    title: `refcount_t: ${s.text} in ${caller}`,
  });
}

export function refcount_add(t: Task, p: Ptr, f: Field, i: number): void {
  const old = atomicRmw<number>(t, p, f, (v) => v + i);
  if (old === 0) saturate(t, p, f, 'add_uaf');
  else if (old < 0 || old + i > INT_MAX) saturate(t, p, f, 'add_ovf');
}

export function refcount_inc(t: Task, p: Ptr, f: Field): void {
  refcount_add(t, p, f, 1);
}

/** Returns false (and changes nothing) when the count is 0: the legal way to take a reference in RCU. */
export function refcount_inc_not_zero(t: Task, p: Ptr, f: Field): boolean {
  const old = atomicRmw<number>(t, p, f, (v) => (v === 0 ? 0 : v + 1));
  if (old !== 0 && (old < 0 || old + 1 > INT_MAX)) saturate(t, p, f, 'add_not_zero_ovf');
  return old !== 0;
}

/** True when this put released the last reference (the caller frees). */
export function refcount_sub_and_test(t: Task, p: Ptr, f: Field, i: number): boolean {
  const old = atomicRmw<number>(t, p, f, (v) => v - i);
  if (old === i) return true;
  if (old < 0 || old - i < 0) saturate(t, p, f, 'sub_uaf');
  return false;
}

export function refcount_dec_and_test(t: Task, p: Ptr, f: Field): boolean {
  return refcount_sub_and_test(t, p, f, 1);
}

/** A plain decrement must never be the last put. */
export function refcount_dec(t: Task, p: Ptr, f: Field): void {
  const old = atomicRmw<number>(t, p, f, (v) => v - 1);
  if (old <= 1) saturate(t, p, f, 'dec_leak');
}

export function refcount_read(t: Task, p: Ptr, f: Field): number {
  return readOnce<number>(t, p, f);
}

/** The count without instrumentation (oracles, state dumps). */
export function refcountPeek(o: KObj, f: Field): number {
  return peek<number>(o, f);
}
