import type { Op } from '../explore/ops.ts';
import { MIN_LPI } from '../gic/cpuif.ts';
import { type Ptr, rd, readOnce, wr } from '../kernel/access.ts';
import { type Lock, lockAt, lockdep_assert_held } from '../kernel/locks.ts';
import type { KObj } from '../kernel/mem.ts';
import type { Task } from '../kernel/task.ts';
import { DIST, F, IRQ } from './layout.ts';
import type { Vcpu, Vm } from './vm.ts';

/** A model function: a generator that yields scheduling points and returns R. */
export type Gen<R = void> = Generator<Op, R, unknown>;

export function irqLock(t: Task, irq: Ptr): Lock {
  return lockAt(t, irq, IRQ.lock);
}

export function intidOf(t: Task, irq: Ptr): number {
  return rd(t, irq, IRQ.intid);
}

export function isLpi(intid: number): boolean {
  return intid >= MIN_LPI;
}

export function isSpi(vm: Vm, intid: number): boolean {
  return intid >= 32 && intid < 32 + vm.spis.length;
}

/** The flags word (one load). */
export function flagsOf(t: Task, irq: Ptr): number {
  return rd(t, irq, IRQ.flags);
}

/** Read-modify-write of the bitfield word: sets `set` and clears `clear`. */
export function setFlags(t: Task, irq: Ptr, set: number, clear = 0): void {
  const f = rd(t, irq, IRQ.flags);
  wr(t, irq, IRQ.flags, (f | set) & ~clear);
}

export function setFlag(t: Task, irq: Ptr, bit: number, on: boolean): void {
  if (on) setFlags(t, irq, bit);
  else setFlags(t, irq, 0, bit);
}

/** irq_is_pending: edge -> pending_latch; level -> pending_latch or line_level. */
export function pendingOf(flags: number): boolean {
  if (flags & F.CONFIG_LEVEL) return (flags & (F.PENDING_LATCH | F.LINE_LEVEL)) !== 0;
  return (flags & F.PENDING_LATCH) !== 0;
}

export function vcpuOf(t: Task, irq: Ptr): Vcpu | null {
  return rd(t, irq, IRQ.vcpu);
}

/** vgic_target_oracle: where the IRQ should be queued, or null; requires irq_lock. */
export function vgic_target_oracle(t: Task, vm: Vm, irq: KObj): Vcpu | null {
  lockdep_assert_held(t, irqLock(t, irq));
  const f = flagsOf(t, irq);
  if (f & F.ACTIVE) {
    const v = vcpuOf(t, irq);
    return v ?? rd(t, irq, IRQ.target);
  }
  if (f & F.ENABLED && pendingOf(f)) {
    const target = rd(t, irq, IRQ.target);
    if (target && !readOnce(t, vm.obj, DIST.enabled)) return null;
    return target;
  }
  return null;
}
