import { rd, wr } from '../kernel/access.ts';
import type { LockClass } from '../kernel/lockdep.ts';
import { initLock, type Lock, spin_lock_irqsave, spin_unlock_irqrestore } from '../kernel/locks.ts';
import type { KObj } from '../kernel/mem.ts';
import { Fn } from '../kernel/stack.ts';
import type { Task } from '../kernel/task.ts';
import type { Gen } from './irq.ts';
import { EVENTFD_CTX } from './layout.ts';
import { kvm_vgic_inject_irq } from './queue.ts';
import type { Vm } from './vm.ts';

const FN = {
  notify: new Fn('kvm_notify_acked_irq', 5, 'virt/kvm/eventfd.c'),
  notifyGsi: new Fn('kvm_notify_acked_gsi', 4, 'virt/kvm/eventfd.c'),
  resamplerAck: new Fn('irqfd_resampler_ack', 7, 'virt/kvm/eventfd.c'),
  setIrq: new Fn('kvm_set_irq', 6, 'virt/kvm/irqchip.c'),
  irqfdSetIrq: new Fn('vgic_irqfd_set_irq', 2, 'arch/arm64/kvm/vgic/vgic-irqfd.c'),
  signal: new Fn('eventfd_signal_mask', 6, 'fs/eventfd.c'),
};

/** An irqfd with a resample eventfd on one SPI pin (what VFIO registers for level interrupts). */
export interface Resampler {
  pin: number;
  /** The resample eventfd whose wait-queue lock eventfd_signal takes. */
  resamplefd: KObj;
}

/** The SRCU read side of kvm->irq_srcu, for lockdep (a recursive read, {0:0}). */
const srcuMaps = new WeakMap<Vm, { cls: LockClass; addr: bigint }>();

export function irqSrcu(vm: Vm): { cls: LockClass; addr: bigint } {
  let m = srcuMaps.get(vm);
  if (!m) {
    m = { cls: vm.k.lockdep.classFor('kvm_irq_srcu', '&kvm->irq_srcu', 'srcu'), addr: vm.obj.addr + 72n };
    srcuMaps.set(vm, m);
  }
  return m;
}

function srcuLock(t: Task, vm: Vm): void {
  const m = irqSrcu(vm);
  t.k.lockdep.acquire(t, m, 0, { read: 2 });
  t.k.lockdep.push(t, m, 0, t.stack, 2, false);
}

function srcuUnlock(t: Task, vm: Vm): void {
  t.k.lockdep.release(t, irqSrcu(vm));
}

export function newEventfd(vm: Vm, label: string): KObj {
  const ctx = vm.k.alloc(EVENTFD_CTX, label, { count: 0 });
  initLock(vm.k, 'spin', ctx, EVENTFD_CTX.field('wqh'), 'eventfd_ctx_wqh', '&ctx->wqh');
  return ctx;
}

/** eventfd_signal: count++ under the context's wait-queue lock (a spinlock_t), waking the waiters. */
export function* eventfd_signal(t: Task, ctx: KObj): Gen {
  t.enter(FN.signal);
  try {
    const l = ctx.loc(EVENTFD_CTX.field('wqh')).value as Lock;
    t.at(1);
    const flags = yield spin_lock_irqsave(t, l);
    t.at(2);
    wr(t, ctx, EVENTFD_CTX.field('count'), rd<number>(t, ctx, EVENTFD_CTX.field('count')) + 1);
    spin_unlock_irqrestore(t, l, flags);
  } finally {
    t.leave();
  }
}

/** vgic_irqfd_set_irq: the irqchip route of an SPI pin, into kvm_vgic_inject_irq. */
export function* vgic_irqfd_set_irq(t: Task, vm: Vm, pin: number, level: boolean): Gen<number> {
  t.enter(FN.irqfdSetIrq);
  try {
    t.at(1);
    return yield* kvm_vgic_inject_irq(t, vm, null, 32 + pin, level);
  } finally {
    t.leave();
  }
}

/** kvm_set_irq for an SPI pin. */
export function* kvm_set_irq(t: Task, vm: Vm, pin: number, level: boolean): Gen<number> {
  t.enter(FN.setIrq);
  try {
    t.at(3);
    return yield* vgic_irqfd_set_irq(t, vm, pin, level);
  } finally {
    t.leave();
  }
}

/**
 * kvm_notify_acked_irq (vgic-host.md §3.17): for a level SPI the guest deactivated, each resampler
 * lowers the line (which may queue through the target's ap_list_lock) and signals its eventfd (a
 * non-raw spinlock_t). Must never run under ap_list_lock or irq_lock.
 */
export function* kvm_notify_acked_irq(t: Task, vm: Vm, pin: number): Gen {
  t.enter(FN.notify);
  try {
    srcuLock(t, vm);
    t.at(2);
    t.enter(FN.notifyGsi);
    for (const r of vm.resamplers) {
      if (r.pin !== pin) continue;
      t.at(2);
      t.enter(FN.resamplerAck);
      t.at(1);
      yield* kvm_set_irq(t, vm, pin, false);
      srcuLock(t, vm);
      t.at(4);
      yield* eventfd_signal(t, r.resamplefd);
      srcuUnlock(t, vm);
      t.leave();
    }
    t.leave();
    srcuUnlock(t, vm);
  } finally {
    t.leave();
  }
}
