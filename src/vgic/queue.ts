import { atomicRmw, rd, wr } from '../kernel/access.ts';
import { head, list_add_tail } from '../kernel/list.ts';
import {
  lockdep_assert_held,
  raw_spin_lock,
  raw_spin_lock_irqsave,
  raw_spin_unlock,
  raw_spin_unlock_irqrestore,
} from '../kernel/locks.ts';
import type { KObj } from '../kernel/mem.ts';
import { Fn } from '../kernel/stack.ts';
import type { Task } from '../kernel/task.ts';
import { flagsOf, type Gen, intidOf, irqLock, isSpi, oracle, setFlag, vcpuOf } from './irq.ts';
import { kvm_make_all_cpus_request, kvm_make_request, kvm_vcpu_kick } from './kick.ts';
import { DIST, F, IRQ, REQ } from './layout.ts';
import { vgic_get_irq, vgic_get_irq_ref, vgic_put_irq } from './refs.ts';
import type { Vcpu, Vm } from './vm.ts';

const FILE = 'arch/arm64/kvm/vgic/vgic.c';
const FN = {
  queue: new Fn('vgic_queue_irq_unlock', 0x1f, FILE, { 0: 370 }),
  inject: new Fn('kvm_vgic_inject_irq', 0xe, FILE),
};

/**
 * vgic_queue_irq_unlock (vgic-host.md §3.3): entered holding irq_lock (taken with irqsave, `flags`);
 * returns with it dropped. Links the IRQ at the tail of its target's AP list, taking the AP list's
 * reference, and kicks the target. Retries without bound when the IRQ changed in window W3.
 */
export function* vgic_queue_irq_unlock(t: Task, vm: Vm, irq: KObj, flags: unknown): Gen<boolean> {
  t.enter(FN.queue);
  try {
    const lock = irqLock(t, irq);
    lockdep_assert_held(t, lock);
    for (;;) {
      t.at(1);
      const target = oracle(t, vm, irq);
      if (vcpuOf(t, irq) !== null || target === null) {
        raw_spin_unlock_irqrestore(t, lock, flags);
        if (target) {
          t.at(2);
          kvm_make_request(t, target, REQ.IRQ_PENDING);
          kvm_vcpu_kick(t, target);
        }
        return false;
      }
      raw_spin_unlock_irqrestore(t, lock, flags);
      t.at(4);
      const apFlags = yield raw_spin_lock_irqsave(t, target.apLock);
      t.at(5);
      yield raw_spin_lock(t, lock);
      t.at(6);
      if (vcpuOf(t, irq) !== null || oracle(t, vm, irq) !== target) {
        raw_spin_unlock(t, lock);
        raw_spin_unlock_irqrestore(t, target.apLock, apFlags);
        t.at(7);
        flags = yield raw_spin_lock_irqsave(t, lock);
        continue;
      }
      t.at(8);
      vgic_get_irq_ref(t, irq);
      list_add_tail(t, head(irq, 'ap_list'), target.apHead);
      wr(t, irq, IRQ.vcpu, target);
      t.at(9);
      // Only the first SPI in flight makes every vCPU re-flush and set TDIR (vgic-host.md §3.3 step 7).
      const bcast =
        vm.design.lrOverflow &&
        vm.config.hostTdir &&
        isSpi(vm, intidOf(t, irq)) &&
        atomicRmw<number>(t, vm.obj, DIST.activeSpis, (n) => n + 1) === 0;
      raw_spin_unlock(t, lock);
      raw_spin_unlock_irqrestore(t, target.apLock, apFlags);
      t.at(10);
      if (!bcast) {
        kvm_make_request(t, target, REQ.IRQ_PENDING);
        kvm_vcpu_kick(t, target);
      } else {
        yield* kvm_make_all_cpus_request(t, vm, REQ.IRQ_PENDING);
      }
      return true;
    }
  } finally {
    t.leave();
  }
}

/**
 * kvm_vgic_inject_irq (vgic-host.md §3.2): raise or lower a line (level) or pulse an edge. Returns 0
 * or -EINVAL (-22).
 */
export function* kvm_vgic_inject_irq(
  t: Task,
  vm: Vm,
  v: Vcpu | null,
  intid: number,
  level: boolean,
  owner: unknown = null,
): Gen<number> {
  t.enter(FN.inject);
  try {
    if (intid < 32 && !v) return -22;
    t.at(1);
    const irq = vgic_get_irq(t, vm, v, intid);
    if (!irq) return -22;
    t.at(3);
    const flags = yield raw_spin_lock_irqsave(t, irqLock(t, irq));
    t.at(4);
    const f = flagsOf(t, irq);
    const levelTriggered = (f & F.CONFIG_LEVEL) !== 0;
    const valid =
      rd(t, irq, IRQ.owner) === owner && (levelTriggered ? ((f & F.LINE_LEVEL) !== 0) !== level : level);
    if (!valid) {
      raw_spin_unlock_irqrestore(t, irqLock(t, irq), flags);
      yield* vgic_put_irq(t, vm, irq);
      return 0;
    }
    t.at(5);
    if (levelTriggered) setFlag(t, irq, F.LINE_LEVEL, level);
    else setFlag(t, irq, F.PENDING_LATCH, true);
    t.at(6);
    yield* vgic_queue_irq_unlock(t, vm, irq, flags);
    t.at(7);
    yield* vgic_put_irq(t, vm, irq);
    return 0;
  } finally {
    t.leave();
  }
}
