import { wr } from '../kernel/access.ts';
import { kernelFn } from '../kernel/function.ts';
import type { Gen } from './irq.ts';
import { IRQ } from './layout.ts';
import { WITH_IRQ_STEPS, withIrq } from './mmio-irq.ts';
import type { Vcpu, Vm } from './vm.ts';

/** The GICv2 distributor's routing register (arch/arm64/kvm/vgic/vgic-mmio-v2.c); GICD_SGIR is in sgi.ts. */
const FILE = 'arch/arm64/kvm/vgic/vgic-mmio-v2.c';

/**
 * GICD_ITARGETSR of an SPI: the target mask, and target_vcpu the lowest vCPU in it (vCPU 0 for an
 * empty mask), as KVM routes a GICv2 SPI to one CPU. SGIs' and PPIs' targets are read-only.
 */
export const vgic_mmio_write_target = kernelFn(
  { name: 'vgic_mmio_write_target', file: FILE, steps: WITH_IRQ_STEPS },
  function* (t, vm: Vm, v: Vcpu, intid: number, targets: number[]): Gen {
    if (intid < 32) return;
    const mask = targets.reduce((m, c) => m | (1 << c), 0) & 0xff;
    yield* withIrq(t, vm, v, intid, (irq) => {
      wr(t, irq, IRQ.targets, mask);
      const lowest = mask === 0 ? 0 : 31 - Math.clz32(mask & -mask);
      wr(t, irq, IRQ.target, vm.vcpus[lowest] ?? vm.vcpus[0]);
      return false;
    });
  },
);
