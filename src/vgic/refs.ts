import { POINT } from '../explore/ops.ts';
import { type Ptr, readOnce, writeOnce } from '../kernel/access.ts';
import { warn } from '../kernel/bug.ts';
import { type KTask, kernelFn } from '../kernel/function.ts';
import {
  might_lock,
  raw_spin_lock_irqsave,
  raw_spin_unlock_irqrestore,
  spin_lock_irqsave,
  spin_unlock_irqrestore,
} from '../kernel/locks.ts';
import type { KObj } from '../kernel/mem.ts';
import { kfree_rcu, rcu_read_lock, rcu_read_unlock } from '../kernel/rcu.ts';
import { refcount_dec_and_test, refcount_dec_not_one, refcount_inc_not_zero } from '../kernel/refcount.ts';
import { kfree } from '../kernel/slab.ts';
import type { Task } from '../kernel/task.ts';
import type { XArray } from '../kernel/xarray.ts';
import { type Gen, intidOf, isLpi } from './irq.ts';
import { F, IRQ } from './layout.ts';
import { replaceable } from './replace.ts';
import { staticIrq, type Vcpu, type Vm } from './vm.ts';

const FILE = 'arch/arm64/kvm/vgic/vgic.c';

/** TRYGET: always succeeds for non-LPIs; LPIs only while their refcount is not 0. */
export function vgic_try_get_irq_ref(t: Task, irq: KObj): boolean {
  if (!isLpi(intidOf(t, irq))) return true;
  return refcount_inc_not_zero(t, irq, IRQ.refcount);
}

/** GET: a TRYGET that must succeed (WARN_ON_ONCE otherwise). */
export const vgic_get_irq_ref = kernelFn(
  { name: 'vgic_get_irq_ref', file: FILE, steps: ['try_get'], lines: { try_get: 72 } },
  (t, irq: KObj): void => {
    t.at('try_get');
    if (!vgic_try_get_irq_ref(t, irq)) warn(t, { once: 'vgic_get_irq_ref', checker: 'warn' });
  },
);

/** The steps xa_load_get_ref moves its caller's frame through. */
export const XA_LOAD_GET_REF_STEPS = ['xa_load', 'try_get'] as const;
export type XaLoadGetRefStep = (typeof XA_LOAD_GET_REF_STEPS)[number];

/**
 * A lookup that keeps what it found: rcu_read_lock, xa_load, TRYGET, rcu_read_unlock. Where LPIs are
 * freed at once (`rcuFreedLpis` off) RCU would not keep the object alive between the load and the
 * TRYGET, so the lookup holds the structure's lock instead, which the final put also takes.
 */
export function* xa_load_get_ref(
  t: KTask<XaLoadGetRefStep>,
  vm: Vm,
  xa: XArray,
  index: number,
): Gen<KObj | null> {
  if (vm.design.rcuFreedLpis) {
    rcu_read_lock(t);
    t.at('xa_load');
    let irq = xa.load(t, index);
    t.at('try_get');
    if (irq && !vgic_try_get_irq_ref(t, irq)) irq = null;
    rcu_read_unlock(t);
    return irq;
  }
  t.at('xa_load');
  const flags = yield raw_spin_lock_irqsave(t, xa.lock);
  let irq = xa.load(t, index);
  t.at('try_get');
  if (irq && !vgic_try_get_irq_ref(t, irq)) irq = null;
  raw_spin_unlock_irqrestore(t, xa.lock, flags);
  return irq;
}

/** vgic_get_lpi: the LPI of an INTID, with a reference. */
export const vgic_get_lpi = kernelFn(
  { name: 'vgic_get_lpi', file: FILE, steps: XA_LOAD_GET_REF_STEPS },
  function* (t, vm: Vm, intid: number): Gen<KObj | null> {
    return yield* xa_load_get_ref(t, vm, vm.lpiXa, intid);
  },
);

/** vgic_get_irq: private IRQs and SPIs are static (references are no-ops); LPIs are looked up. */
export function* vgic_get_irq(t: Task, vm: Vm, v: Vcpu | null, intid: number): Gen<KObj | null> {
  if (isLpi(intid)) return yield* vgic_get_lpi(t, vm, intid);
  return staticIrq(vm, v, intid);
}

/**
 * Frees an LPI whose last reference is gone and which is no longer in `lpi_xa`: after a grace period
 * (kfree_rcu, v6.9 and later) or at once (kfree, before).
 */
export function vgic_free_lpi(t: Task, vm: Vm, irq: KObj): void {
  if (vm.design.rcuFreedLpis) kfree_rcu(t, irq);
  else kfree(t, irq);
}

/**
 * vgic_put_irq's frame: pushed only for an LPI, so the INTID read that tells stays in the caller's.
 * The final decrement happens before xa_lock is taken; with LPI_RELEASE_UNDER_XA_LOCK it happens under
 * it (a decrement that is not the last needs no lock), so vgic_add_lpi never finds the object at zero
 * while this put is about to erase it.
 */
const vgic_put_lpi = kernelFn(
  {
    name: 'vgic_put_irq',
    file: FILE,
    steps: ['dec_and_test', 'lock', 'erase', 'kfree_rcu', 'dec_not_one', 'lock_last', 'dec_locked'],
  },
  function* (t, vm: Vm, irq: KObj): Gen {
    might_lock(t, vm.lpiXa.lock);
    let flags: unknown;
    if (vm.design.fixes.LPI_RELEASE_UNDER_XA_LOCK) {
      t.at('dec_not_one');
      if (refcount_dec_not_one(t, irq, IRQ.refcount)) return;
      t.at('lock_last');
      flags = yield spin_lock_irqsave(t, vm.lpiXa.lock);
      t.at('dec_locked');
      if (!refcount_dec_and_test(t, irq, IRQ.refcount)) {
        spin_unlock_irqrestore(t, vm.lpiXa.lock, flags);
        return;
      }
    } else {
      t.at('dec_and_test');
      if (!refcount_dec_and_test(t, irq, IRQ.refcount)) return;
      t.at('lock');
      flags = yield spin_lock_irqsave(t, vm.lpiXa.lock);
    }
    t.at('erase');
    vm.lpiXa.erase(t, intidOf(t, irq));
    t.at('kfree_rcu');
    vgic_free_lpi(t, vm, irq);
    spin_unlock_irqrestore(t, vm.lpiXa.lock, flags);
  },
);

/** PUT (vgic_put_irq): the final put erases the LPI under xa_lock and frees it after a grace period. */
function* vgic_put_irq_builtin(t: Task, vm: Vm, irq: KObj): Gen {
  if (!isLpi(intidOf(t, irq))) return;
  yield* vgic_put_lpi(t, vm, irq);
}

/** vgic_put_irq, or the design module's replacement of it. */
export const vgic_put_irq = replaceable('vgic_put_irq', vgic_put_irq_builtin);

/** vgic_put_irq_norelease's frame: likewise pushed only for an LPI. */
const vgic_put_lpi_norelease = kernelFn(
  { name: 'vgic_put_irq_norelease', file: FILE, steps: ['dec_and_test', 'pending_release'] },
  function* (t, vm: Vm, irq: Ptr): Gen<boolean> {
    t.at('dec_and_test');
    const zero = refcount_dec_and_test(t, irq, IRQ.refcount);
    if (zero && !vm.design.fixes.LPI_RELEASE_UNDER_XA_LOCK) {
      t.at('pending_release');
      const f = readOnce(t, irq, IRQ.flags);
      yield POINT;
      writeOnce(t, irq, IRQ.flags, f | F.PENDING_RELEASE);
    }
    return zero;
  },
);

/**
 * PUT_NR ("put without release"): callable under raw locks. When the count reaches 0 the LPI is marked
 * pending_release: a read-modify-write of the flag word without irq_lock (intentionally racy), so the
 * load and the store are separate steps. LPI_RELEASE_UNDER_XA_LOCK removes the flag: a zero count is
 * the mark.
 */
export function* vgic_put_irq_norelease(t: Task, vm: Vm, irq: Ptr): Gen<boolean> {
  if (!isLpi(intidOf(t, irq))) return false;
  return yield* vgic_put_lpi_norelease(t, vm, irq);
}

/**
 * Erases and frees, under xa_lock, every LPI whose last reference went through PUT_NR: those marked
 * pending_release, or with LPI_RELEASE_UNDER_XA_LOCK those whose refcount reads 0.
 */
export const vgic_release_deleted_lpis = kernelFn(
  { name: 'vgic_release_deleted_lpis', file: FILE, steps: ['xa_for_each', 'erase', 'kfree_rcu'] },
  function* (t, vm: Vm): Gen {
    const flags = yield spin_lock_irqsave(t, vm.lpiXa.lock);
    t.at('xa_for_each');
    for (const [intid, irq] of vm.lpiXa.entries(t)) {
      t.at('erase');
      const dead = vm.design.fixes.LPI_RELEASE_UNDER_XA_LOCK
        ? readOnce(t, irq, IRQ.refcount) === 0
        : (readOnce(t, irq, IRQ.flags) & F.PENDING_RELEASE) !== 0;
      if (!dead) continue;
      vm.lpiXa.erase(t, intid);
      t.at('kfree_rcu');
      vgic_free_lpi(t, vm, irq);
    }
    spin_unlock_irqrestore(t, vm.lpiXa.lock, flags);
  },
);
