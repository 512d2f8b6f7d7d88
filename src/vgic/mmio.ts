import type { GicRegWrite } from '../gic/regs.ts';
import { wr, writeOnce } from '../kernel/access.ts';
import {
  mutex_lock,
  mutex_unlock,
  raw_spin_lock_irqsave,
  raw_spin_unlock_irqrestore,
} from '../kernel/locks.ts';
import type { KObj } from '../kernel/mem.ts';
import { Fn } from '../kernel/stack.ts';
import type { Task } from '../kernel/task.ts';
import { flagsOf, type Gen, irqLock, pendingOf, setFlag } from './irq.ts';
import { kvm_arm_halt_guest, kvm_arm_resume_guest, kvm_make_request, kvm_vcpu_kick } from './kick.ts';
import { DIST, F, IRQ, REQ } from './layout.ts';
import { vgic_mmio_write_v3r_ctlr } from './lpi.ts';
import { kvm_vgic_vcpu_pending_irq } from './pending.ts';
import { vgic_queue_irq_unlock } from './queue.ts';
import { vgic_get_irq, vgic_put_irq } from './refs.ts';
import type { Vcpu, Vm } from './vm.ts';

const FILE = 'arch/arm64/kvm/vgic/vgic-mmio.c';
const FN = {
  senable: new Fn('vgic_mmio_write_senable', 5, FILE),
  cenable: new Fn('vgic_mmio_write_cenable', 4, FILE),
  spending: new Fn('vgic_mmio_write_spending', 9, FILE),
  cpending: new Fn('vgic_mmio_write_cpending', 5, FILE),
  active: new Fn('vgic_mmio_change_active', 8, FILE),
  priority: new Fn('vgic_mmio_write_priority', 3, FILE),
  group: new Fn('vgic_mmio_write_group', 4, FILE),
  config: new Fn('vgic_mmio_write_config', 3, FILE),
  irouter: new Fn('vgic_mmio_write_irouter', 3, 'arch/arm64/kvm/vgic/vgic-mmio-v3.c'),
  dctlr: new Fn('vgic_mmio_write_v3_misc', 4, 'arch/arm64/kvm/vgic/vgic-mmio-v3.c'),
  read: new Fn('vgic_mmio_read_irq_state', 3, FILE),
  kickAll: new Fn('vgic_kick_vcpus', 3, 'arch/arm64/kvm/vgic/vgic.c'),
};

/** Distributor and redistributor registers that change interrupt state (vgic-host.md §3.16). */
export type MmioWrite = GicRegWrite;

/** Runs `body` on the IRQ `intid` under its irq_lock, with a reference; `body` may queue (and unlock). */
function* withIrq(
  t: Task,
  vm: Vm,
  v: Vcpu,
  intid: number,
  fn: Fn,
  body: (irq: KObj, flags: unknown) => Gen<boolean> | boolean,
): Gen {
  t.enter(fn);
  try {
    const irq = vgic_get_irq(t, vm, v, intid);
    if (!irq) return;
    t.at(1);
    const flags = yield raw_spin_lock_irqsave(t, irqLock(t, irq));
    t.at(2);
    const res = body(irq, flags);
    const unlocked = typeof res === 'boolean' ? res : yield* res;
    if (!unlocked) raw_spin_unlock_irqrestore(t, irqLock(t, irq), flags);
    t.at(fn.length - 1);
    yield* vgic_put_irq(t, vm, irq);
  } finally {
    t.leave();
  }
}

/**
 * vgic_mmio_change_active (I[SC]ACTIVER): under config_lock; a guest access to an SPI, or to another
 * vCPU's redistributor, halts the whole guest so that no LR holds a stale copy. Userspace accesses do
 * not halt: the caller stopped the VM.
 */
export function* vgic_mmio_change_active(
  t: Task,
  vm: Vm,
  v: Vcpu,
  intid: number,
  active: boolean,
  guest: boolean,
): Gen {
  t.enter(FN.active);
  try {
    t.at(1);
    yield mutex_lock(t, vm.configLock);
    const halt = guest && (intid >= 32 || v.task !== t);
    if (halt) yield* kvm_arm_halt_guest(t, vm);
    yield* withIrq(t, vm, v, intid, FN.active, function* (irq, flags) {
      setFlag(t, irq, F.ACTIVE, active);
      if (guest) noteStateWrite(t, vm, irq, active ? 'ISACTIVER' : 'ICACTIVER');
      if (active) {
        yield* vgic_queue_irq_unlock(t, vm, irq, flags);
        return true;
      }
      return false;
    });
    if (active) vm.guestDeactivated.delete(vm.ghostKey(v, intid));
    if (halt) kvm_arm_resume_guest(t, vm);
    mutex_unlock(t, vm.configLock);
  } finally {
    t.leave();
  }
}

/** P-STATE-WRITE bookkeeping: a guest write changed `irq`'s state (under its irq_lock). */
function noteStateWrite(t: Task, vm: Vm, irq: KObj, reg: 'ISACTIVER' | 'ICACTIVER' | 'ICPENDR'): void {
  vm.stateWrites.set(irq, { reg, seq: ++vm.stateSeq, by: t.cpu });
}

/** vgic_kick_vcpus: kick every vCPU that has a deliverable pending interrupt. */
function* vgic_kick_vcpus(t: Task, vm: Vm): Gen {
  t.enter(FN.kickAll);
  try {
    for (const v of vm.vcpus) {
      t.at(1);
      if (yield* kvm_vgic_vcpu_pending_irq(t, vm, v)) {
        kvm_make_request(t, v, REQ.IRQ_PENDING);
        kvm_vcpu_kick(t, v);
      }
    }
  } finally {
    t.leave();
  }
}

/**
 * One distributor/redistributor register write, by a guest (trapped MMIO on `v`'s thread) or by
 * userspace. `v` is the accessed redistributor's vCPU for private INTIDs.
 */
export function* vgic_mmio_write(t: Task, vm: Vm, v: Vcpu, w: MmioWrite, guest: boolean): Gen {
  switch (w.reg) {
    case 'ISENABLER':
      return yield* withIrq(t, vm, v, w.intid, FN.senable, function* (irq, flags) {
        setFlag(t, irq, F.ENABLED, true);
        yield* vgic_queue_irq_unlock(t, vm, irq, flags);
        return true;
      });
    case 'ICENABLER':
      return yield* withIrq(t, vm, v, w.intid, FN.cenable, (irq) => {
        setFlag(t, irq, F.ENABLED, false);
        return false;
      });
    case 'ISPENDR':
      return yield* withIrq(t, vm, v, w.intid, FN.spending, function* (irq, flags) {
        setFlag(t, irq, F.PENDING_LATCH, true);
        yield* vgic_queue_irq_unlock(t, vm, irq, flags);
        return true;
      });
    case 'ICPENDR':
      return yield* withIrq(t, vm, v, w.intid, FN.cpending, (irq) => {
        setFlag(t, irq, F.PENDING_LATCH, false);
        if (guest) noteStateWrite(t, vm, irq, 'ICPENDR');
        return false;
      });
    case 'ISACTIVER':
    case 'ICACTIVER':
      return yield* vgic_mmio_change_active(t, vm, v, w.intid, w.reg === 'ISACTIVER', guest);
    case 'IPRIORITYR':
      return yield* withIrq(t, vm, v, w.intid, FN.priority, (irq) => {
        wr(t, irq, IRQ.priority, w.value & 0xf8);
        return false;
      });
    case 'IGROUPR':
      return yield* withIrq(t, vm, v, w.intid, FN.group, function* (irq, flags) {
        wr(t, irq, IRQ.group, w.value);
        yield* vgic_queue_irq_unlock(t, vm, irq, flags);
        return true;
      });
    case 'ICFGR':
      if (w.intid < 32) return;
      return yield* withIrq(t, vm, v, w.intid, FN.config, (irq) => {
        setFlag(t, irq, F.CONFIG_LEVEL, w.level);
        return false;
      });
    case 'IROUTER':
      return yield* withIrq(t, vm, v, w.intid, FN.irouter, (irq) => {
        wr(t, irq, IRQ.target, w.vcpu === null ? null : (vm.vcpus[w.vcpu] ?? null));
        return false;
      });
    case 'GICD_CTLR':
      t.enter(FN.dctlr);
      try {
        writeOnce(t, vm.obj, DIST.enabled, w.enabled ? 1 : 0);
        t.at(2);
        yield* vgic_kick_vcpus(t, vm);
      } finally {
        t.leave();
      }
      return;
    case 'GICR_CTLR':
      return yield* vgic_mmio_write_v3r_ctlr(t, vm, vm.vcpuById(w.vcpu), w.enableLpis);
  }
}

/** Trapped MMIO read of I[SC]ACTIVER / I[SC]PENDR: the architectural state after the fold. */
export function* vgic_mmio_read_state(
  t: Task,
  vm: Vm,
  v: Vcpu,
  intid: number,
  what: 'active' | 'pending',
): Gen<boolean> {
  t.enter(FN.read);
  try {
    const irq = vgic_get_irq(t, vm, v, intid);
    if (!irq) return false;
    t.at(1);
    const flags = yield raw_spin_lock_irqsave(t, irqLock(t, irq));
    const f = flagsOf(t, irq);
    raw_spin_unlock_irqrestore(t, irqLock(t, irq), flags);
    t.at(2);
    yield* vgic_put_irq(t, vm, irq);
    return what === 'active' ? (f & F.ACTIVE) !== 0 : pendingOf(f);
  } finally {
    t.leave();
  }
}
