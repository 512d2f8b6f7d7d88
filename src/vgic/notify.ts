import { peek, rd, wr } from '../kernel/access.ts';
import { kernelFn } from '../kernel/function.ts';
import type { LockClass } from '../kernel/lockdep.ts';
import { initLock, spin_lock_irqsave, spin_unlock_irqrestore } from '../kernel/locks.ts';
import type { KObj } from '../kernel/mem.ts';
import type { Task } from '../kernel/task.ts';
import type { Gen } from './irq.ts';
import { EVENTFD, EVENTFD_CTX } from './layout.ts';
import { kvm_vgic_inject_irq } from './queue.ts';
import type { Vm } from './vm.ts';

const KVM_EVENTFD_FILE = 'virt/kvm/eventfd.c';

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
  initLock(vm.k, 'spin', ctx, EVENTFD.wqh, 'eventfd_ctx_wqh', '&ctx->wqh');
  return ctx;
}

/** eventfd_signal: count++ under the context's wait-queue lock (a spinlock_t), waking the waiters. */
export const eventfd_signal = kernelFn(
  { name: 'eventfd_signal_mask', file: 'fs/eventfd.c', steps: ['lock', 'count'] },
  function* (t, ctx: KObj): Gen {
    const l = peek(ctx, EVENTFD.wqh);
    t.at('lock');
    const flags = yield spin_lock_irqsave(t, l);
    t.at('count');
    wr(t, ctx, EVENTFD.count, rd(t, ctx, EVENTFD.count) + 1);
    spin_unlock_irqrestore(t, l, flags);
  },
);

/** vgic_irqfd_set_irq: the irqchip route of an SPI pin, into kvm_vgic_inject_irq. */
export const vgic_irqfd_set_irq = kernelFn(
  { name: 'vgic_irqfd_set_irq', file: 'arch/arm64/kvm/vgic/vgic-irqfd.c', steps: ['inject'] },
  function* (t, vm: Vm, pin: number, level: boolean): Gen<number> {
    t.at('inject');
    return yield* kvm_vgic_inject_irq(t, vm, null, 32 + pin, level);
  },
);

/** kvm_set_irq for an SPI pin. */
export const kvm_set_irq = kernelFn(
  { name: 'kvm_set_irq', file: 'virt/kvm/irqchip.c', steps: ['set_irq'] },
  function* (t, vm: Vm, pin: number, level: boolean): Gen<number> {
    t.at('set_irq');
    return yield* vgic_irqfd_set_irq(t, vm, pin, level);
  },
);

const irqfd_resampler_ack = kernelFn(
  { name: 'irqfd_resampler_ack', file: KVM_EVENTFD_FILE, steps: ['set_irq', 'signal'] },
  function* (t, vm: Vm, r: Resampler): Gen {
    t.at('set_irq');
    yield* kvm_set_irq(t, vm, r.pin, false);
    srcuLock(t, vm);
    t.at('signal');
    yield* eventfd_signal(t, r.resamplefd);
    srcuUnlock(t, vm);
  },
);

/** kvm_notify_acked_gsi: every ack notifier on the pin (here: its resamplers). */
const kvm_notify_acked_gsi = kernelFn(
  { name: 'kvm_notify_acked_gsi', file: KVM_EVENTFD_FILE, steps: ['irq_acked'] },
  function* (t, vm: Vm, pin: number): Gen {
    for (const r of vm.resamplers) {
      if (r.pin !== pin) continue;
      t.at('irq_acked');
      yield* irqfd_resampler_ack(t, vm, r);
    }
  },
);

/**
 * kvm_notify_acked_irq: for a level SPI the guest deactivated, each resampler lowers the line (which
 * may queue through the target's ap_list_lock) and signals its eventfd (a non-raw spinlock_t). Must
 * never run under ap_list_lock or irq_lock.
 */
export const kvm_notify_acked_irq = kernelFn(
  { name: 'kvm_notify_acked_irq', file: KVM_EVENTFD_FILE, steps: ['notify_gsi'] },
  function* (t, vm: Vm, pin: number): Gen {
    srcuLock(t, vm);
    t.at('notify_gsi');
    yield* kvm_notify_acked_gsi(t, vm, pin);
    srcuUnlock(t, vm);
  },
);
