import type { SgiTargets } from '../gic/guest.ts';
import { rd, wr } from '../kernel/access.ts';
import { type KTask, kernelFn } from '../kernel/function.ts';
import { raw_spin_lock_irqsave } from '../kernel/locks.ts';
import { type Gen, irqLock, setFlag } from './irq.ts';
import { F, IRQ } from './layout.ts';
import { vgic_queue_irq_unlock } from './queue.ts';
import type { Vcpu, Vm } from './vm.ts';

/** The vCPUs an SGI from `v` goes to (GICv2's TargetListFilter, GICv3's IRM). */
export function sgiTargets(vm: Vm, v: Vcpu, targets: SgiTargets): number[] {
  if (targets === 'self') return [v.id];
  if (targets === 'others') return vm.vcpus.map((x) => x.id).filter((id) => id !== v.id);
  return targets;
}

/**
 * Makes SGI `intid` pending on each target and queues it; on a GICv2 VM pending from `v`, one source
 * bit per sender.
 */
function* pendSgi(t: KTask<'lock' | 'queue'>, vm: Vm, v: Vcpu, intid: number, targets: SgiTargets): Gen {
  for (const id of sgiTargets(vm, v, targets)) {
    const target = vm.vcpus[id];
    if (!target) continue;
    const irq = target.privateIrq(intid);
    t.at('lock');
    const flags = yield raw_spin_lock_irqsave(t, irqLock(t, irq));
    setFlag(t, irq, F.PENDING_LATCH, true);
    if (vm.config.gic === 2) wr(t, irq, IRQ.source, rd(t, irq, IRQ.source) | (1 << v.id));
    t.at('queue');
    yield* vgic_queue_irq_unlock(t, vm, irq, flags);
  }
}

/** vgic_v3_dispatch_sgi: an ICC_SGI1R_EL1 write pends the SGI on each target and queues it. */
export const vgic_v3_dispatch_sgi = kernelFn(
  { name: 'vgic_v3_dispatch_sgi', file: 'arch/arm64/kvm/vgic/vgic-mmio-v3.c', steps: ['lock', 'queue'] },
  function* (t, vm: Vm, v: Vcpu, intid: number, targets: SgiTargets): Gen {
    yield* pendSgi(t, vm, v, intid, targets);
  },
);

/**
 * GICD_SGIR, a GICv2 distributor register: the SGI becomes pending on each target from the writing
 * vCPU (TargetListFilter 0: the list; 1: all but the sender; 2: the sender).
 */
export const vgic_mmio_write_sgir = kernelFn(
  { name: 'vgic_mmio_write_sgir', file: 'arch/arm64/kvm/vgic/vgic-mmio-v2.c', steps: ['lock', 'queue'] },
  function* (t, vm: Vm, v: Vcpu, intid: number, targets: SgiTargets): Gen {
    yield* pendSgi(t, vm, v, intid, targets);
  },
);
