import { rd, readOnce } from '../kernel/access.ts';
import { kernelFn } from '../kernel/function.ts';
import { list_entries, listEntry } from '../kernel/list.ts';
import {
  raw_spin_lock,
  raw_spin_lock_irqsave,
  raw_spin_unlock,
  raw_spin_unlock_irqrestore,
} from '../kernel/locks.ts';
import type { KObj } from '../kernel/mem.ts';
import { flagsOf, type Gen, irqLock, pendingOf } from './irq.ts';
import { DIST, F, IRQ, VCPU, VGIC_IRQ } from './layout.ts';
import type { Vcpu, Vm } from './vm.ts';

/**
 * kvm_vgic_vcpu_pending_irq: under v's ap_list_lock, is some entry pending, enabled, not active and
 * above the vCPU's priority mask? Decides whether WFI blocks.
 */
export const kvm_vgic_vcpu_pending_irq = kernelFn(
  {
    name: 'kvm_vgic_vcpu_pending_irq',
    file: 'arch/arm64/kvm/vgic/vgic.c',
    steps: ['ap_list_lock', 'irq_lock', 'pending'],
  },
  function* (t, vm: Vm, v: Vcpu): Gen<boolean> {
    if (!readOnce(t, vm.obj, DIST.enabled)) return false;
    const pmr = readOnce(t, v.obj, VCPU.vmcr) & 0xff;
    t.at('ap_list_lock');
    const flags = yield raw_spin_lock_irqsave(t, v.apLock);
    let pending = false;
    for (const pos of list_entries(t, v.apHead)) {
      const irq = listEntry(pos, VGIC_IRQ, 'ap_list') as KObj;
      t.at('irq_lock');
      yield raw_spin_lock(t, irqLock(t, irq));
      t.at('pending');
      const f = flagsOf(t, irq);
      pending =
        pendingOf(f) && (f & F.ENABLED) !== 0 && (f & F.ACTIVE) === 0 && rd(t, irq, IRQ.priority) < pmr;
      raw_spin_unlock(t, irqLock(t, irq));
      if (pending) break;
    }
    raw_spin_unlock_irqrestore(t, v.apLock, flags);
    return pending;
  },
);
