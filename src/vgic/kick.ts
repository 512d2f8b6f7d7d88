import { Wait } from '../explore/ops.ts';
import { atomicRmw, cmpxchg, readOnce, writeOnce } from '../kernel/access.ts';
import { Fn } from '../kernel/stack.ts';
import type { Task } from '../kernel/task.ts';
import type { Gen } from './irq.ts';
import { MODE, REQ, VCPU } from './layout.ts';
import type { Vcpu, Vm } from './vm.ts';

const FILE = 'virt/kvm/kvm_main.c';
const FN = {
  kick: new Fn('kvm_vcpu_kick', 4, FILE),
  allReq: new Fn('kvm_make_all_cpus_request', 4, FILE),
  halt: new Fn('kvm_arm_halt_guest', 3, 'arch/arm64/kvm/arm.c'),
  resume: new Fn('kvm_arm_resume_guest', 2, 'arch/arm64/kvm/arm.c'),
};

/** kvm_make_request: set a request bit (atomic). */
export function kvm_make_request(t: Task, v: Vcpu, req: number): void {
  atomicRmw<number>(t, v.obj, VCPU.requests, (r) => r | req);
}

/** kvm_request_pending: one load of the request word. */
export function kvm_request_pending(t: Task, v: Vcpu): boolean {
  return readOnce<number>(t, v.obj, VCPU.requests) !== 0;
}

/** kvm_check_request: test one request bit and clear it (atomically) only if it was set. */
export function kvm_check_request(t: Task, v: Vcpu, req: number): boolean {
  if ((readOnce<number>(t, v.obj, VCPU.requests) & req) === 0) return false;
  atomicRmw<number>(t, v.obj, VCPU.requests, (r) => r & ~req);
  return true;
}

/** __kvm_vcpu_wake_up: wake the vCPU if it is blocked; returns whether it was. */
function kvm_vcpu_wake_up(t: Task, v: Vcpu): boolean {
  if (!readOnce<number>(t, v.obj, VCPU.blocked)) return false;
  writeOnce(t, v.obj, VCPU.blocked, 0);
  return true;
}

/**
 * kvm_vcpu_kick (vgic-host.md §2.7): wake the vCPU if it is blocked; otherwise, if it is in guest mode,
 * flip its mode to EXITING and send the reschedule IPI that forces the exit. The kicker does not wait.
 */
export function kvm_vcpu_kick(t: Task, v: Vcpu): void {
  t.enter(FN.kick);
  if (!kvm_vcpu_wake_up(t, v)) {
    t.at(1);
    if (
      cmpxchg<number>(t, v.obj, VCPU.mode, MODE.IN_GUEST, MODE.EXITING) === MODE.IN_GUEST &&
      v.id !== t.cpu
    ) {
      t.at(2);
      writeOnce(t, v.obj, VCPU.ipi, 1);
    }
  }
  t.leave();
}

/**
 * kvm_make_all_cpus_request: set `req` everywhere, wake the blocked vCPUs, IPI the ones in guest mode.
 * KVM_REQ_SLEEP is KVM_REQUEST_WAIT | KVM_REQUEST_NO_WAKEUP: blocked vCPUs are not woken, and every vCPU
 * whose mode was not OUTSIDE is IPI'd and waited for: it acknowledges the IPI when it re-enables IRQs
 * after sync (run loop step 9).
 */
export function* kvm_make_all_cpus_request(t: Task, vm: Vm, req: number): Gen {
  t.enter(FN.allReq);
  try {
    const wait = req === REQ.SLEEP;
    for (const v of vm.vcpus) kvm_make_request(t, v, req);
    t.at(1);
    const waitFor: Vcpu[] = [];
    for (const v of vm.vcpus) {
      if (!wait && kvm_vcpu_wake_up(t, v)) continue;
      const old = cmpxchg<number>(t, v.obj, VCPU.mode, MODE.IN_GUEST, MODE.EXITING);
      if (old === MODE.IN_GUEST || (wait && old !== MODE.OUTSIDE)) {
        if (v.id !== t.cpu) writeOnce(t, v.obj, VCPU.ipi, 1);
        if (wait && v.id !== t.cpu) waitFor.push(v);
      }
    }
    if (waitFor.length > 0) {
      t.at(2);
      yield new Wait(
        () => waitFor.every((w) => readOnce<number>(t, w.obj, VCPU.ipi) === 0),
        'IPI acknowledged',
      );
    }
  } finally {
    t.leave();
  }
}

/** kvm_arm_halt_guest: pause every vCPU and wait until each running one has taken the SLEEP request. */
export function* kvm_arm_halt_guest(t: Task, vm: Vm): Gen {
  t.enter(FN.halt);
  try {
    for (const v of vm.vcpus) writeOnce(t, v.obj, VCPU.pause, 1);
    t.at(1);
    yield* kvm_make_all_cpus_request(t, vm, REQ.SLEEP);
    vm.haltsInForce++;
  } finally {
    t.leave();
  }
}

/** kvm_arm_resume_guest: clear pause and wake every vCPU (no IPI: a paused vCPU is not in the guest). */
export function kvm_arm_resume_guest(t: Task, vm: Vm): void {
  t.enter(FN.resume);
  if (vm.haltsInForce > 0) vm.haltsInForce--;
  for (const v of vm.vcpus) {
    writeOnce(t, v.obj, VCPU.pause, 0);
    t.at(1);
    kvm_vcpu_wake_up(t, v);
  }
  t.leave();
}
