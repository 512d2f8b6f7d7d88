import type { Execution } from '../explore/execution.ts';
import { Kernel } from '../kernel/kernel.ts';
import type { Task } from '../kernel/task.ts';
import { Its } from './its.ts';
import { ORACLE_CHECKPOINTS } from './oracles.ts';
import { THREAD_FNS, Vm, type VmConfig } from './vm.ts';

/** A VM as a scenario starts from: its kernel, the VM with its vCPUs and ITS, and the VMM's thread. */
export interface VgicWorld {
  k: Kernel;
  vm: Vm;
  /** The VMM's main thread (KVM_IRQ_LINE, ITS commands, userspace register accesses). */
  vmm: Task;
}

// The frames below a thread's first model function: the ioctl that entered the kernel.
const VCPU_TAIL = [THREAD_FNS.vcpuIoctl, THREAD_FNS.vcpuRun];
const VMM_TAIL = [THREAD_FNS.vmIoctl];
const VMM_PID = 900;
const VCPU_PID = 1000;

/**
 * Creates the VM in a fresh execution, as KVM_CREATE_VM, KVM_CREATE_VCPU and the ITS device would:
 * the kernel (its release and the hardware line reports print), the distributor and redistributors,
 * and one thread per vCPU named as QEMU names them ("CPU n/KVM", PID 1000+n, on CPU n), plus the VMM
 * ("qemu-system-aar", PID 900, on the first CPU after the vCPUs). Nothing runs yet.
 */
export function createWorld(exec: Execution, cfg: VmConfig, scenario: string): VgicWorld {
  const k = new Kernel(exec, {
    version: cfg.design.version,
    design: cfg.design.id,
    scenario,
    hardware: `vgic-lab model (GICv${cfg.gic}, ${cfg.vcpus} vCPU${cfg.vcpus === 1 ? '' : 's'}, nLR=${cfg.nrLr})`,
    switches: cfg.kernel,
  });
  const vm = new Vm(k, cfg, ORACLE_CHECKPOINTS);
  if (cfg.its) vm.its = new Its(vm);
  for (const v of vm.vcpus) {
    v.task = k.task({
      comm: `CPU ${v.id}/KVM`,
      pid: VCPU_PID + v.id,
      cpu: v.id,
      kind: 'vcpu',
      tail: VCPU_TAIL,
    });
  }
  const vmm = k.task({ comm: 'qemu-system-aar', pid: VMM_PID, cpu: cfg.vcpus, kind: 'vmm', tail: VMM_TAIL });
  return { k, vm, vmm };
}

/** Another VMM thread (a device model, an irqfd writer): the n-th after the main one, on its own CPU. */
export function deviceTask(w: VgicWorld, n: number, comm = `device${n}`): Task {
  return w.k.task({ comm, pid: VMM_PID + n, cpu: w.vm.config.vcpus + n, kind: 'vmm', tail: VMM_TAIL });
}
