import { Wait } from '../explore/ops.ts';
import { atomicRmw, cmpxchg, readOnce, writeOnce } from '../kernel/access.ts';
import { kernelFn } from '../kernel/function.ts';
import type { Task } from '../kernel/task.ts';
import type { Gen } from './irq.ts';
import { MODE, REQ, VCPU } from './layout.ts';
import type { Vcpu, Vm } from './vm.ts';

const FILE = 'virt/kvm/kvm_main.c';

/** kvm_make_request: set a request bit (atomic). */
export function kvm_make_request(t: Task, v: Vcpu, req: number): void {
  atomicRmw(t, v.obj, VCPU.requests, (r) => r | req);
}

/** kvm_request_pending: one load of the request word. */
export function kvm_request_pending(t: Task, v: Vcpu): boolean {
  return readOnce(t, v.obj, VCPU.requests) !== 0;
}

/** kvm_check_request: test one request bit and clear it (atomically) only if it was set. */
export function kvm_check_request(t: Task, v: Vcpu, req: number): boolean {
  if ((readOnce(t, v.obj, VCPU.requests) & req) === 0) return false;
  atomicRmw(t, v.obj, VCPU.requests, (r) => r & ~req);
  return true;
}

/** __kvm_vcpu_wake_up: wake the vCPU if it is blocked; returns whether it was. */
function kvm_vcpu_wake_up(t: Task, v: Vcpu): boolean {
  if (!readOnce(t, v.obj, VCPU.blocked)) return false;
  writeOnce(t, v.obj, VCPU.blocked, 0);
  return true;
}

/**
 * kvm_vcpu_kick: wake the vCPU if it is blocked; otherwise, if it is in guest mode, flip its mode to
 * EXITING and send the reschedule IPI that forces the exit. The kicker does not wait.
 */
export const kvm_vcpu_kick = kernelFn(
  { name: 'kvm_vcpu_kick', file: FILE, steps: ['should_kick', 'send_reschedule'] },
  (t, v: Vcpu): void => {
    if (!kvm_vcpu_wake_up(t, v)) {
      t.at('should_kick');
      if (cmpxchg(t, v.obj, VCPU.mode, MODE.IN_GUEST, MODE.EXITING) === MODE.IN_GUEST && v.id !== t.cpu) {
        t.at('send_reschedule');
        writeOnce(t, v.obj, VCPU.ipi, 1);
      }
    }
  },
);

/**
 * kvm_make_all_cpus_request: set `req` everywhere, wake the blocked vCPUs, IPI the ones in guest mode.
 * KVM_REQ_SLEEP is KVM_REQUEST_WAIT | KVM_REQUEST_NO_WAKEUP: blocked vCPUs are not woken, and every vCPU
 * whose mode was not OUTSIDE is IPI'd and waited for: it acknowledges the IPI when it re-enables IRQs
 * after kvm_vgic_sync_hwstate (vcpuRun in runloop.ts).
 */
export const kvm_make_all_cpus_request = kernelFn(
  { name: 'kvm_make_all_cpus_request', file: FILE, steps: ['kick', 'wait'] },
  function* (t, vm: Vm, req: number): Gen {
    const wait = req === REQ.SLEEP;
    for (const v of vm.vcpus) kvm_make_request(t, v, req);
    t.at('kick');
    const waitFor: Vcpu[] = [];
    for (const v of vm.vcpus) {
      if (!wait && kvm_vcpu_wake_up(t, v)) continue;
      const old = cmpxchg(t, v.obj, VCPU.mode, MODE.IN_GUEST, MODE.EXITING);
      if (old === MODE.IN_GUEST || (wait && old !== MODE.OUTSIDE)) {
        if (v.id !== t.cpu) writeOnce(t, v.obj, VCPU.ipi, 1);
        if (wait && v.id !== t.cpu) waitFor.push(v);
      }
    }
    if (waitFor.length > 0) {
      t.at('wait');
      yield new Wait(() => waitFor.every((w) => readOnce(t, w.obj, VCPU.ipi) === 0), 'IPI acknowledged');
    }
  },
);

/**
 * kvm_arm_halt_guest: pause every vCPU and wait until each running one has taken the SLEEP request.
 * `pause` is a flag (set to 1), or with PAUSE_IS_COUNTER a count of the halters in force.
 */
export const kvm_arm_halt_guest = kernelFn(
  { name: 'kvm_arm_halt_guest', file: 'arch/arm64/kvm/arm.c', steps: ['make_request'] },
  function* (t, vm: Vm): Gen {
    const counter = vm.design.fixes.PAUSE_IS_COUNTER;
    for (const v of vm.vcpus) {
      if (counter) atomicRmw(t, v.obj, VCPU.pause, (n) => n + 1);
      else writeOnce(t, v.obj, VCPU.pause, 1);
    }
    t.at('make_request');
    yield* kvm_make_all_cpus_request(t, vm, REQ.SLEEP);
    vm.haltsInForce++;
  },
);

/**
 * kvm_arm_resume_guest: clear pause and wake every vCPU (no IPI: a paused vCPU is not in the guest).
 * With PAUSE_IS_COUNTER: drop one count, and wake a vCPU only when its count reaches 0.
 */
export const kvm_arm_resume_guest = kernelFn(
  { name: 'kvm_arm_resume_guest', file: 'arch/arm64/kvm/arm.c', steps: ['wake_up'] },
  (t, vm: Vm): void => {
    if (vm.haltsInForce > 0) vm.haltsInForce--;
    const counter = vm.design.fixes.PAUSE_IS_COUNTER;
    for (const v of vm.vcpus) {
      if (counter) {
        if (atomicRmw(t, v.obj, VCPU.pause, (n) => n - 1) > 1) continue;
      } else writeOnce(t, v.obj, VCPU.pause, 0);
      t.at('wake_up');
      kvm_vcpu_wake_up(t, v);
    }
  },
);
