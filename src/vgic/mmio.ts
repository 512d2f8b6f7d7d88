import type { SgiTargets } from '../gic/guest.ts';
import type { GicRegWrite } from '../gic/regs.ts';
import { wr, writeOnce } from '../kernel/access.ts';
import { type KTask, kernelFn } from '../kernel/function.ts';
import {
  mutex_lock,
  mutex_unlock,
  raw_spin_lock_irqsave,
  raw_spin_unlock_irqrestore,
} from '../kernel/locks.ts';
import type { KObj } from '../kernel/mem.ts';
import type { Task } from '../kernel/task.ts';
import { flagsOf, type Gen, irqLock, pendingOf, setFlag } from './irq.ts';
import { kvm_arm_halt_guest, kvm_arm_resume_guest, kvm_make_request, kvm_vcpu_kick } from './kick.ts';
import { DIST, F, IRQ, REQ } from './layout.ts';
import { vgic_mmio_write_v3r_ctlr } from './lpi.ts';
import { WITH_IRQ_STEPS, withIrq } from './mmio-irq.ts';
import { vgic_mmio_write_target } from './mmio-v2.ts';
import { kvm_vgic_vcpu_pending_irq } from './pending.ts';
import { vgic_queue_irq_unlock } from './queue.ts';
import { vgic_get_irq, vgic_put_irq } from './refs.ts';
import { vgic_mmio_write_sgir } from './sgi.ts';
import type { Vcpu, Vm } from './vm.ts';

const FILE = 'arch/arm64/kvm/vgic/vgic-mmio.c';
const FILE_V3 = 'arch/arm64/kvm/vgic/vgic-mmio-v3.c';

/**
 * Distributor and redistributor registers that change interrupt state (vgic-mmio.c, vgic-mmio-v2.c,
 * vgic-mmio-v3.c); GICD_SGIR is a GICv2 guest's SGI.
 */
export type DistWrite = GicRegWrite | { reg: 'GICD_SGIR'; intid: number; targets: SgiTargets };

/** A trapped MMIO write: a distributor register, or a GICv2 guest's GICV_DIR (always trapped). */
export type MmioWrite = DistWrite | { reg: 'GICV_DIR'; value: number };

/** vgic_mmio_change_active: one interrupt's active state, under its irq_lock. */
const vgic_mmio_change_active = kernelFn(
  { name: 'vgic_mmio_change_active', file: FILE, steps: WITH_IRQ_STEPS },
  function* (t, vm: Vm, v: Vcpu, intid: number, active: boolean, guest: boolean): Gen {
    yield* withIrq(t, vm, v, intid, function* (irq, flags) {
      setFlag(t, irq, F.ACTIVE, active);
      // A GICv2 SGI made active is the instance the requester sent.
      if (active && vm.config.gic === 2 && intid < 16) wr(t, irq, IRQ.activeSource, v.id);
      if (guest) noteStateWrite(t, vm, irq, active ? 'ISACTIVER' : 'ICACTIVER');
      if (active) {
        yield* vgic_queue_irq_unlock(t, vm, irq, flags);
        return true;
      }
      return false;
    });
  },
);

/**
 * A write of GICD/GICR_I[SC]ACTIVER: under config_lock; a guest access to an SPI, or to another
 * vCPU's redistributor, halts the whole guest (vgic_access_active_prepare) so that no LR holds a
 * stale copy. Userspace accesses do not halt: the caller stopped the VM.
 */
function* writeActive(
  t: KTask<'config_lock'>,
  vm: Vm,
  v: Vcpu,
  intid: number,
  active: boolean,
  guest: boolean,
): Gen {
  t.at('config_lock');
  yield mutex_lock(t, vm.configLock);
  const halt = guest && (intid >= 32 || v.task !== t);
  if (halt) yield* kvm_arm_halt_guest(t, vm);
  yield* vgic_mmio_change_active(t, vm, v, intid, active, guest);
  if (active) vm.guestDeactivated.delete(vm.ghostKey(v, intid));
  if (halt) kvm_arm_resume_guest(t, vm);
  mutex_unlock(t, vm.configLock);
}

const vgic_mmio_write_sactive = kernelFn(
  { name: 'vgic_mmio_write_sactive', file: FILE, steps: ['config_lock'] },
  function* (t, vm: Vm, v: Vcpu, intid: number, guest: boolean): Gen {
    yield* writeActive(t, vm, v, intid, true, guest);
  },
);

const vgic_mmio_write_cactive = kernelFn(
  { name: 'vgic_mmio_write_cactive', file: FILE, steps: ['config_lock'] },
  function* (t, vm: Vm, v: Vcpu, intid: number, guest: boolean): Gen {
    yield* writeActive(t, vm, v, intid, false, guest);
  },
);

/** ISACTIVER (active) or ICACTIVER write of one interrupt's bit. */
export function vgic_mmio_write_active(
  t: Task,
  vm: Vm,
  v: Vcpu,
  intid: number,
  active: boolean,
  guest: boolean,
): Gen {
  return active
    ? vgic_mmio_write_sactive(t, vm, v, intid, guest)
    : vgic_mmio_write_cactive(t, vm, v, intid, guest);
}

/** P-STATE-WRITE bookkeeping: a guest write changed `irq`'s state (under its irq_lock). */
function noteStateWrite(t: Task, vm: Vm, irq: KObj, reg: 'ISACTIVER' | 'ICACTIVER' | 'ICPENDR'): void {
  vm.stateWrites.set(irq, { reg, seq: ++vm.stateSeq, by: t.cpu });
}

/** vgic_kick_vcpus: kick every vCPU that has a deliverable pending interrupt. */
const vgic_kick_vcpus = kernelFn(
  { name: 'vgic_kick_vcpus', file: 'arch/arm64/kvm/vgic/vgic.c', steps: ['pending_irq'] },
  function* (t, vm: Vm): Gen {
    for (const v of vm.vcpus) {
      t.at('pending_irq');
      if (yield* kvm_vgic_vcpu_pending_irq(t, vm, v)) {
        kvm_make_request(t, v, REQ.IRQ_PENDING);
        kvm_vcpu_kick(t, v);
      }
    }
  },
);

const vgic_mmio_write_senable = kernelFn(
  { name: 'vgic_mmio_write_senable', file: FILE, steps: WITH_IRQ_STEPS },
  function* (t, vm: Vm, v: Vcpu, intid: number): Gen {
    yield* withIrq(t, vm, v, intid, function* (irq, flags) {
      setFlag(t, irq, F.ENABLED, true);
      yield* vgic_queue_irq_unlock(t, vm, irq, flags);
      return true;
    });
  },
);

const vgic_mmio_write_cenable = kernelFn(
  { name: 'vgic_mmio_write_cenable', file: FILE, steps: WITH_IRQ_STEPS },
  function* (t, vm: Vm, v: Vcpu, intid: number): Gen {
    yield* withIrq(t, vm, v, intid, (irq) => {
      setFlag(t, irq, F.ENABLED, false);
      return false;
    });
  },
);

const vgic_mmio_write_spending = kernelFn(
  { name: 'vgic_mmio_write_spending', file: FILE, steps: WITH_IRQ_STEPS },
  function* (t, vm: Vm, v: Vcpu, intid: number): Gen {
    // A GICv2 SGI is made pending by GICD_SGIR (or GICD_SPENDSGIR) with its source: ISPENDR ignores it.
    if (vm.config.gic === 2 && intid < 16) return;
    yield* withIrq(t, vm, v, intid, function* (irq, flags) {
      setFlag(t, irq, F.PENDING_LATCH, true);
      yield* vgic_queue_irq_unlock(t, vm, irq, flags);
      return true;
    });
  },
);

const vgic_mmio_write_cpending = kernelFn(
  { name: 'vgic_mmio_write_cpending', file: FILE, steps: WITH_IRQ_STEPS },
  function* (t, vm: Vm, v: Vcpu, intid: number, guest: boolean): Gen {
    yield* withIrq(t, vm, v, intid, (irq) => {
      setFlag(t, irq, F.PENDING_LATCH, false);
      if (guest) noteStateWrite(t, vm, irq, 'ICPENDR');
      return false;
    });
  },
);

const vgic_mmio_write_priority = kernelFn(
  { name: 'vgic_mmio_write_priority', file: FILE, steps: WITH_IRQ_STEPS },
  function* (t, vm: Vm, v: Vcpu, intid: number, value: number): Gen {
    yield* withIrq(t, vm, v, intid, (irq) => {
      wr(t, irq, IRQ.priority, value & 0xf8);
      return false;
    });
  },
);

const vgic_mmio_write_group = kernelFn(
  { name: 'vgic_mmio_write_group', file: FILE, steps: WITH_IRQ_STEPS },
  function* (t, vm: Vm, v: Vcpu, intid: number, value: number): Gen {
    yield* withIrq(t, vm, v, intid, function* (irq, flags) {
      wr(t, irq, IRQ.group, value);
      yield* vgic_queue_irq_unlock(t, vm, irq, flags);
      return true;
    });
  },
);

const vgic_mmio_write_config = kernelFn(
  { name: 'vgic_mmio_write_config', file: FILE, steps: WITH_IRQ_STEPS },
  function* (t, vm: Vm, v: Vcpu, intid: number, level: boolean): Gen {
    yield* withIrq(t, vm, v, intid, (irq) => {
      setFlag(t, irq, F.CONFIG_LEVEL, level);
      return false;
    });
  },
);

const vgic_mmio_write_irouter = kernelFn(
  { name: 'vgic_mmio_write_irouter', file: FILE_V3, steps: WITH_IRQ_STEPS },
  function* (t, vm: Vm, v: Vcpu, intid: number, vcpu: number | null): Gen {
    yield* withIrq(t, vm, v, intid, (irq) => {
      wr(t, irq, IRQ.target, vcpu === null ? null : (vm.vcpus[vcpu] ?? null));
      return false;
    });
  },
);

const vgic_mmio_write_v3_misc = kernelFn(
  { name: 'vgic_mmio_write_v3_misc', file: FILE_V3, steps: ['kick_vcpus'] },
  function* (t, vm: Vm, enabled: boolean): Gen {
    writeOnce(t, vm.obj, DIST.enabled, enabled ? 1 : 0);
    t.at('kick_vcpus');
    yield* vgic_kick_vcpus(t, vm);
  },
);

/**
 * One distributor/redistributor register write, by a guest (trapped MMIO on `v`'s thread) or by
 * userspace. `v` is the accessed redistributor's vCPU for private INTIDs.
 */
export function* vgic_mmio_write(t: Task, vm: Vm, v: Vcpu, w: DistWrite, guest: boolean): Gen {
  switch (w.reg) {
    case 'ISENABLER':
      return yield* vgic_mmio_write_senable(t, vm, v, w.intid);
    case 'ICENABLER':
      return yield* vgic_mmio_write_cenable(t, vm, v, w.intid);
    case 'ISPENDR':
      return yield* vgic_mmio_write_spending(t, vm, v, w.intid);
    case 'ICPENDR':
      return yield* vgic_mmio_write_cpending(t, vm, v, w.intid, guest);
    case 'ISACTIVER':
    case 'ICACTIVER':
      return yield* vgic_mmio_write_active(t, vm, v, w.intid, w.reg === 'ISACTIVER', guest);
    case 'IPRIORITYR':
      return yield* vgic_mmio_write_priority(t, vm, v, w.intid, w.value);
    case 'IGROUPR':
      return yield* vgic_mmio_write_group(t, vm, v, w.intid, w.value);
    case 'ICFGR':
      if (w.intid < 32) return;
      return yield* vgic_mmio_write_config(t, vm, v, w.intid, w.level);
    case 'IROUTER':
      return yield* vgic_mmio_write_irouter(t, vm, v, w.intid, w.vcpu);
    case 'GICD_CTLR':
      return yield* vgic_mmio_write_v3_misc(t, vm, w.enabled);
    case 'GICR_CTLR':
      return yield* vgic_mmio_write_v3r_ctlr(t, vm, vm.vcpuById(w.vcpu), w.enableLpis);
    case 'ITARGETSR':
      return yield* vgic_mmio_write_target(t, vm, v, w.intid, w.targets);
    case 'GICD_SGIR':
      return yield* vgic_mmio_write_sgir(t, vm, v, w.intid, w.targets);
  }
}

/** Trapped MMIO read of I[SC]ACTIVER / I[SC]PENDR: the architectural state after the fold. */
export const vgic_mmio_read_state = kernelFn(
  { name: 'vgic_mmio_read_irq_state', file: FILE, steps: ['lock', 'put_irq'] },
  function* (t, vm: Vm, v: Vcpu, intid: number, what: 'active' | 'pending'): Gen<boolean> {
    const irq = yield* vgic_get_irq(t, vm, v, intid);
    if (!irq) return false;
    t.at('lock');
    const flags = yield raw_spin_lock_irqsave(t, irqLock(t, irq));
    const f = flagsOf(t, irq);
    raw_spin_unlock_irqrestore(t, irqLock(t, irq), flags);
    t.at('put_irq');
    yield* vgic_put_irq(t, vm, irq);
    return what === 'active' ? (f & F.ACTIVE) !== 0 : pendingOf(f);
  },
);
