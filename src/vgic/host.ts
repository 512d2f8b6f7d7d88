import type { GicRegWrite } from '../gic/regs.ts';
import { kernelFn } from '../kernel/function.ts';
import { raw_spin_lock_irqsave } from '../kernel/locks.ts';
import type { Task } from '../kernel/task.ts';
import { type Gen, irqLock, isLpi, setFlag } from './irq.ts';
import { type ItsCommand, vgic_its_inject_msi, vgic_its_process_commands } from './its.ts';
import { F } from './layout.ts';
import { vgic_mmio_write } from './mmio.ts';
import { vgic_irqfd_set_irq } from './notify.ts';
import { kvm_vgic_inject_irq, vgic_queue_irq_unlock } from './queue.ts';
import { vgic_get_irq, vgic_put_irq } from './refs.ts';
import { kvm_arch_timer_handler } from './timer.ts';
import type { Vm } from './vm.ts';

/** Host-side actions: the VMM's ioctls and device signals (docs/scenarios.md, Host calls). */
export type HostCall =
  /** KVM_IRQ_LINE with a level (SPI, or a PPI of vCPU 0). */
  | { call: 'irq_line'; intid: number; level: boolean }
  /** KVM_IRQ_LINE 1 then 0: an edge pulse. */
  | { call: 'edge'; intid: number }
  /** KVM_DEV_ARM_VGIC_GRP_LEVEL_INFO: set a line level bit. */
  | { call: 'level_info'; intid: number; level: boolean }
  /** KVM_IRQFD on pin intid-32, then a write to the eventfd. */
  | { call: 'irqfd'; intid: number }
  /** Userspace (uaccess) register writes: no halting, the VMM stopped the VM. */
  | { call: 'uaccess'; write: GicRegWrite; vcpu?: number }
  /** ITS commands through GITS_CWRITER. */
  | { call: 'its'; cmds: ItsCommand[] }
  /** An MSI through the translation cache (irqfd fast path). */
  | { call: 'msi'; device: number; event: number }
  /** The virtual timer of a vCPU expires (a HW-mapped PPI, docs/scenarios.md). */
  | { call: 'timer'; vcpu: number }
  /** Several actions in one request (one exit); the first error is returned. */
  | { call: 'batch'; calls: HostCall[] };

const EINVAL = -22;

/** KVM_IRQ_LINE: INTIDs that do not fit the 16-bit field are not even encodable (the caller skips them). */
const kvm_vm_ioctl_irq_line = kernelFn(
  { name: 'kvm_vm_ioctl_irq_line', file: 'arch/arm64/kvm/arm.c', steps: [] },
  function* (t, vm: Vm, intid: number, level: boolean): Gen<number> {
    if (intid > 0xffff) return 0;
    if (intid < 16 || intid >= 32 + vm.spis.length || intid >= 1020) return EINVAL;
    return yield* kvm_vgic_inject_irq(t, vm, intid < 32 ? vm.vcpus[0] : null, intid, level);
  },
);

const vgic_write_irq_line_level_info = kernelFn(
  {
    name: 'vgic_write_irq_line_level_info',
    file: 'arch/arm64/kvm/vgic/vgic-mmio.c',
    steps: ['lock', 'queue'],
  },
  function* (t, vm: Vm, intid: number, level: boolean): Gen {
    const irq = intid < 1020 ? yield* vgic_get_irq(t, vm, vm.vcpus[0], intid) : null;
    if (!irq) return;
    t.at('lock');
    const flags = yield raw_spin_lock_irqsave(t, irqLock(t, irq));
    setFlag(t, irq, F.LINE_LEVEL, level);
    t.at('queue');
    yield* vgic_queue_irq_unlock(t, vm, irq, flags);
    yield* vgic_put_irq(t, vm, irq);
  },
);

const kvm_arch_set_irq_inatomic = kernelFn(
  { name: 'kvm_arch_set_irq_inatomic', file: 'arch/arm64/kvm/vgic/vgic-irqfd.c', steps: ['set_irq'] },
  function* (t, vm: Vm, pin: number): Gen {
    t.at('set_irq');
    yield* vgic_irqfd_set_irq(t, vm, pin, true);
  },
);

const irqfd_wakeup = kernelFn(
  { name: 'irqfd_wakeup', file: 'virt/kvm/eventfd.c', steps: [] },
  function* (t, vm: Vm, pin: number): Gen {
    // arm64 injects an irqchip route from the wake-up itself (kvm_arch_set_irq_inatomic), with
    // level 1 only: an edge SPI latches pending, a level line stays up until the guest's handler
    // or a resampler lowers it.
    yield* kvm_arch_set_irq_inatomic(t, vm, pin);
  },
);

/**
 * Runs one host action on task `t`; returns 0 or the negative errno the ioctl returns, which the
 * selftest's injection-failure cases (FAIL) check.
 */
export function* hostCall(t: Task, vm: Vm, c: HostCall): Gen<number> {
  switch (c.call) {
    case 'irq_line':
      return yield* kvm_vm_ioctl_irq_line(t, vm, c.intid, c.level);
    case 'edge': {
      const a = yield* kvm_vm_ioctl_irq_line(t, vm, c.intid, true);
      const b = yield* kvm_vm_ioctl_irq_line(t, vm, c.intid, false);
      return a || b;
    }
    case 'level_info': {
      if (c.intid > 1023) return EINVAL;
      yield* vgic_write_irq_line_level_info(t, vm, c.intid, c.level);
      return 0;
    }
    case 'irqfd': {
      const pin = (c.intid - 32) >>> 0;
      // The routing fails for pins >= KVM_IRQCHIP_NUM_PINS (988); the eventfd write then has no effect.
      if (pin >= 988) return EINVAL;
      if (c.intid >= 32 + vm.spis.length) return 0;
      yield* irqfd_wakeup(t, vm, pin);
      return 0;
    }
    case 'uaccess': {
      if ('intid' in c.write && (c.write.intid >= 32 + vm.spis.length || isLpi(c.write.intid))) return 0;
      yield* vgic_mmio_write(t, vm, vm.vcpus[c.vcpu ?? 0], c.write, false);
      return 0;
    }
    case 'its':
      yield* vgic_its_process_commands(t, vm, c.cmds);
      return 0;
    case 'msi':
      return (yield* vgic_its_inject_msi(t, vm, c.device, c.event)) ? 0 : EINVAL;
    case 'timer':
      yield* kvm_arch_timer_handler(t, vm, vm.vcpus[c.vcpu]);
      return 0;
    case 'batch': {
      let err = 0;
      for (const x of c.calls) {
        const r = yield* hostCall(t, vm, x);
        if (err === 0) err = r;
      }
      return err;
    }
  }
}
