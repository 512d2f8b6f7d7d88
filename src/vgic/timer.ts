/**
 * The arch timer as a HW-mapped interrupt source (arch/arm64/kvm/arch_timer.c): the virtual timer's
 * PPI is mapped to the physical timer PPI of the vCPU's CPU (HW = 1 in the LR). When the timer
 * expires the physical PPI fires and becomes active; the host injects the virtual PPI; the guest's
 * deactivation (EOI with EOImode 0, DIR — in the LR or trapped — or the EOIcount replay) deactivates
 * the physical PPI too. Until then the physical PPI is active and the timer cannot fire again.
 */
import { Wait } from '../explore/ops.ts';
import { atomicRmw, peek, poke, readOnce } from '../kernel/access.ts';
import { kernelFn } from '../kernel/function.ts';
import type { Gen } from './irq.ts';
import { F, GICR_PHYS, IRQ, PHYS } from './layout.ts';
import { kvm_vgic_inject_irq } from './queue.ts';
import type { Vcpu, Vm } from './vm.ts';

/** The owner the timer presents to kvm_vgic_inject_irq (userspace cannot inject an owned PPI). */
export const TIMER_OWNER = 'arch_timer';

/**
 * kvm_vgic_map_phys_irq for the virtual timer of every vCPU: HW = 1, hwintid = the same PPI, level,
 * owned by the timer; and the physical redistributor state of each vCPU's CPU.
 */
export function kvm_timer_map(vm: Vm, intid: number): void {
  vm.timerIntid = intid;
  for (const v of vm.vcpus) {
    const irq = v.privateIrq(intid);
    poke(irq, IRQ.flags, (peek(irq, IRQ.flags) | F.HW | F.CONFIG_LEVEL) >>> 0);
    poke(irq, IRQ.hwintid, intid);
    poke(irq, IRQ.owner, TIMER_OWNER);
    v.phys = vm.k.alloc(GICR_PHYS, `physical GICR of CPU ${v.id}`, { active: 0 }, null, false);
  }
}

/**
 * The timer expires on vCPU v's CPU: the physical PPI fires once it is inactive (taking it makes it
 * active) and kvm_arch_timer_handler injects the virtual PPI through kvm_timer_update_irq.
 */
export const kvm_arch_timer_handler = kernelFn(
  { name: 'kvm_arch_timer_handler', file: 'arch/arm64/kvm/arch_timer.c', steps: ['ack', 'update_irq'] },
  function* (t, vm: Vm, v: Vcpu): Gen {
    const intid = vm.timerIntid;
    const phys = v.phys;
    if (intid === null || !phys) return;
    const bit = 1 << intid;
    yield new Wait(() => (readOnce(t, phys, PHYS.active) & bit) === 0, `physical PPI ${intid} inactive`);
    t.at('ack');
    atomicRmw(t, phys, PHYS.active, (m) => m | bit);
    t.at('update_irq');
    yield* kvm_vgic_inject_irq(t, vm, v, intid, true, TIMER_OWNER);
  },
);
