import { POINT } from '../explore/ops.ts';
import { type Ptr, readOnce, writeOnce } from '../kernel/access.ts';
import { warn } from '../kernel/bug.ts';
import { might_lock, spin_lock_irqsave, spin_unlock_irqrestore } from '../kernel/locks.ts';
import type { KObj } from '../kernel/mem.ts';
import { kfree_rcu, rcu_read_lock, rcu_read_unlock } from '../kernel/rcu.ts';
import { refcount_dec_and_test, refcount_inc_not_zero } from '../kernel/refcount.ts';
import { Fn } from '../kernel/stack.ts';
import type { Task } from '../kernel/task.ts';
import type { XArray } from '../kernel/xarray.ts';
import { type Gen, intidOf, isLpi } from './irq.ts';
import { F, IRQ } from './layout.ts';
import { staticIrq, type Vcpu, type Vm } from './vm.ts';

const FILE = 'arch/arm64/kvm/vgic/vgic.c';
const FN = {
  getLpi: new Fn('vgic_get_lpi', 4, FILE),
  getIrqRef: new Fn('vgic_get_irq_ref', 2, FILE, { 1: 72 }),
  put: new Fn('vgic_put_irq', 8, FILE),
  putNr: new Fn('vgic_put_irq_norelease', 3, FILE),
  release: new Fn('vgic_release_deleted_lpis', 5, FILE),
};

/** TRYGET: always succeeds for non-LPIs; LPIs only while their refcount is not 0. */
export function vgic_try_get_irq_ref(t: Task, irq: KObj): boolean {
  if (!isLpi(intidOf(t, irq))) return true;
  return refcount_inc_not_zero(t, irq, IRQ.refcount);
}

/** GET: a TRYGET that must succeed (WARN_ON_ONCE otherwise). */
export function vgic_get_irq_ref(t: Task, irq: KObj): void {
  t.enter(FN.getIrqRef);
  t.at(1);
  if (!vgic_try_get_irq_ref(t, irq)) warn(t, { once: 'vgic_get_irq_ref', checker: 'warn' });
  t.leave();
}

/** An RCU lookup that keeps what it found: rcu_read_lock, xa_load, TRYGET, rcu_read_unlock. */
export function xa_load_get_ref(t: Task, xa: XArray, index: number): KObj | null {
  rcu_read_lock(t);
  t.at(1);
  let irq = xa.load(t, index);
  t.at(2);
  if (irq && !vgic_try_get_irq_ref(t, irq)) irq = null;
  rcu_read_unlock(t);
  return irq;
}

/** vgic_get_lpi: the LPI of an INTID, with a reference. */
export function vgic_get_lpi(t: Task, vm: Vm, intid: number): KObj | null {
  t.enter(FN.getLpi);
  const irq = xa_load_get_ref(t, vm.lpiXa, intid);
  t.leave();
  return irq;
}

/** vgic_get_irq: private IRQs and SPIs are static (references are no-ops); LPIs are looked up. */
export function vgic_get_irq(t: Task, vm: Vm, v: Vcpu | null, intid: number): KObj | null {
  if (isLpi(intid)) return vgic_get_lpi(t, vm, intid);
  return staticIrq(vm, v, intid);
}

/** PUT (vgic-host.md §3.14): the final put erases the LPI under xa_lock and frees it after a grace period. */
export function* vgic_put_irq(t: Task, vm: Vm, irq: KObj): Gen {
  if (!isLpi(intidOf(t, irq))) return;
  t.enter(FN.put);
  try {
    might_lock(t, vm.lpiXa.lock);
    t.at(1);
    if (!refcount_dec_and_test(t, irq, IRQ.refcount)) return;
    t.at(2);
    const flags = yield spin_lock_irqsave(t, vm.lpiXa.lock);
    t.at(3);
    vm.lpiXa.erase(t, intidOf(t, irq));
    t.at(4);
    kfree_rcu(t, irq);
    spin_unlock_irqrestore(t, vm.lpiXa.lock, flags);
  } finally {
    t.leave();
  }
}

/**
 * PUT_NR ("put without release"): callable under raw locks. When the count reaches 0 the LPI is marked
 * pending_release: a read-modify-write of the flag word without irq_lock (intentionally racy), so the
 * load and the store are separate steps (vgic-host.md §1.2, §7.2).
 */
export function* vgic_put_irq_norelease(t: Task, irq: Ptr): Gen<boolean> {
  if (!isLpi(intidOf(t, irq))) return false;
  t.enter(FN.putNr);
  try {
    t.at(1);
    const zero = refcount_dec_and_test(t, irq, IRQ.refcount);
    if (zero) {
      t.at(2);
      const f = readOnce<number>(t, irq, IRQ.flags);
      yield POINT;
      writeOnce(t, irq, IRQ.flags, f | F.PENDING_RELEASE);
    }
    return zero;
  } finally {
    t.leave();
  }
}

/** Erases and frees, under xa_lock, every LPI whose last reference went through PUT_NR. */
export function* vgic_release_deleted_lpis(t: Task, vm: Vm): Gen {
  t.enter(FN.release);
  try {
    const flags = yield spin_lock_irqsave(t, vm.lpiXa.lock);
    t.at(1);
    for (const [intid, irq] of vm.lpiXa.entries(t)) {
      t.at(2);
      if ((readOnce<number>(t, irq, IRQ.flags) & F.PENDING_RELEASE) === 0) continue;
      vm.lpiXa.erase(t, intid);
      t.at(3);
      kfree_rcu(t, irq);
    }
    spin_unlock_irqrestore(t, vm.lpiXa.lock, flags);
  } finally {
    t.leave();
  }
}
