import { choose, point, Wait } from '../explore/ops.ts';
import { misrNames, SPURIOUS } from '../gic/cpuif.ts';
import type { GuestCpu, GuestInsn } from '../gic/guest.ts';
import { lrActive } from '../gic/lr.ts';
import { peek, readOnce, writeOnce } from '../kernel/access.ts';
import { kernelFn } from '../kernel/function.ts';
import { KReport, threadInfo } from '../kernel/splat.ts';
import type { Task } from '../kernel/task.ts';
import { vgic_mmio_write_dir, vgic_v3_deactivate } from './deactivate.ts';
import { kvm_vgic_flush_hwstate } from './flush.ts';
import { vgic_fold_state } from './fold.ts';
import { type HostCall, hostCall } from './host.ts';
import { vgicRestoreState, vgicSaveState } from './hyp.ts';
import type { Gen } from './irq.ts';
import { kvm_check_request, kvm_request_pending } from './kick.ts';
import { IRQ, MODE, REQ, VCPU } from './layout.ts';
import { type MmioWrite, vgic_mmio_read_state, vgic_mmio_write } from './mmio.ts';
import { kvm_vgic_vcpu_pending_irq } from './pending.ts';
import { kvm_vgic_process_async_update, vgic_prune_ap_list } from './prune.ts';
import { vgic_v3_dispatch_sgi } from './sgi.ts';
import type { Vcpu, Vm } from './vm.ts';

const ARM = 'arch/arm64/kvm/arm.c';

/** The INTID in an IAR, EOIR or DIR value: on GICv2 without an SGI's source bits [12:10]. */
function intidOf(vm: Vm, value: number): number {
  return vm.config.gic === 2 ? value & 0x3ff : value;
}

/**
 * Whether the guest's deactivation (EOI, DIR) of `value` reaches the interrupt's active instance, for
 * P-ACTIVE's bookkeeping: a GICv2 SGI's names a source, and deactivates only the instance from that
 * source — the LR it matched (`lrHit`), or, outside the LRs, the one the host holds active.
 */
function reachesActive(vm: Vm, v: Vcpu, value: number, lrHit: boolean): boolean {
  const intid = intidOf(vm, value);
  if (vm.config.gic !== 2 || intid >= 16 || lrHit) return true;
  if (v.cpuif.lrs.some((lr) => lr.vintid === intid && lrActive(lr))) return false;
  return peek(v.privateIrq(intid), IRQ.activeSource) === ((value >> 10) & 7);
}

/** A GICv2 SGI's value as the guest log shows it: "1 from CPU 2". */
function describeValue(vm: Vm, value: number): string {
  const intid = intidOf(vm, value);
  return vm.config.gic === 2 && intid < 16 ? `${intid} from CPU ${(value >> 10) & 7}` : `${intid}`;
}

/** Why the guest stopped running. */
type Exit =
  | { why: 'irq' }
  | { why: 'maintenance'; misr: number }
  | { why: 'trap'; insn: GuestInsn }
  | { why: 'done' };

/** kvm_vgic_sync_hwstate: fold (design-specific), then prune; IRQs off. */
export const kvm_vgic_sync_hwstate = kernelFn(
  { name: 'kvm_vgic_sync_hwstate', file: 'arch/arm64/kvm/vgic/vgic.c', steps: ['fold_state', 'prune'] },
  function* (t, vm: Vm, v: Vcpu): Gen {
    t.at('fold_state');
    yield* vgic_fold_state(t, vm, v);
    t.at('prune');
    yield* vgic_prune_ap_list(t, vm, v);
  },
);

const kvm_vcpu_sleep = kernelFn(
  { name: 'kvm_vcpu_sleep', file: ARM, steps: [] },
  function* (t, v: Vcpu): Gen {
    yield new Wait(() => readOnce(t, v.obj, VCPU.pause) === 0, 'unpause');
  },
);

/** check_vcpu_requests: the requests a vCPU handles before each entry. */
const check_vcpu_requests = kernelFn(
  { name: 'check_vcpu_requests', file: ARM, steps: ['sleep', 'process_update'] },
  function* (t, vm: Vm, v: Vcpu): Gen {
    if (!kvm_request_pending(t, v)) return;
    t.at('sleep');
    if (kvm_check_request(t, v, REQ.SLEEP)) yield* kvm_vcpu_sleep(t, v);
    kvm_check_request(t, v, REQ.IRQ_PENDING);
    t.at('process_update');
    if (kvm_check_request(t, v, REQ.VGIC_PROCESS_UPDATE)) yield* kvm_vgic_process_async_update(t, vm, v);
  },
);

/** Executes guest instructions until an exit. Guest steps touch only v's own CPU interface. */
function* runGuest(t: Task, vm: Vm, v: Vcpu, g: GuestCpu): Gen<Exit> {
  const hw = v.cpuif;
  let delay = 0;
  let executed = 0;
  for (;;) {
    yield point('guest');
    // A reschedule IPI (kick) is a physical interrupt: it forces an exit at the next boundary.
    if (readOnce(t, v.obj, VCPU.ipi)) return { why: 'irq' };
    // An asserted MI lands after zero or more further guest instructions (KVM cannot count on a prompt
    // maintenance interrupt; the explorer tries each delay up to maxMiDelay). It is never taken before
    // the first instruction after entry: the guest always makes progress (with one LR and UIE set, U is
    // asserted from the entry on).
    if (executed > 0 && hw.maintenance()) {
      const more =
        delay < vm.config.maxMiDelay ? ((yield choose(2, 'guest runs on before the MI exit')) as number) : 0;
      if (more === 0) return { why: 'maintenance', misr: hw.misr() };
      delay++;
    }
    const grp = g.exceptionGroup();
    if (grp !== null) g.takeException(grp);
    const insn = g.next();
    if (!insn) return { why: 'done' };
    if (!execLocal(t, vm, v, g, insn)) return { why: 'trap', insn };
    executed++;
  }
}

/** Instructions that complete on the CPU interface without an exit. Returns false for trapping ones. */
function execLocal(t: Task, vm: Vm, v: Vcpu, g: GuestCpu, insn: GuestInsn): boolean {
  const hw = v.cpuif;
  switch (insn.k) {
    case 'iar': {
      const value = hw.iar(insn.group);
      const intid = intidOf(vm, value);
      if (value !== SPURIOUS) {
        vm.checks.guestAck(t, vm, v, intid);
        vm.guestDeactivated.delete(vm.ghostKey(v, intid));
        vm.logEvent({ vcpu: v.id, what: 'ack', intid, text: `ack ${describeValue(vm, value)}` });
      }
      g.complete(value);
      return true;
    }
    case 'eoir': {
      const r = hw.eoir(insn.group, insn.intid);
      const intid = intidOf(vm, insn.intid);
      if (r.counted) v.ghost.outsideDeactivations.push(intid);
      if (hw.vmcr.eoimode === 0 && intid < 1020 && reachesActive(vm, v, insn.intid, r.lr >= 0))
        vm.guestDeactivated.add(vm.ghostKey(v, intid));
      vm.logEvent({
        vcpu: v.id,
        what: 'eoi',
        intid,
        text: `EOI ${describeValue(vm, insn.intid)}${r.counted ? ' (EOIcount)' : r.lr >= 0 ? ` (LR${r.lr})` : ''}`,
      });
      g.complete();
      return true;
    }
    case 'dir': {
      const r = hw.dir(insn.intid);
      // GICv2: the GICV_DIR page is always trapped, and there is no fast path in the hyp.
      if (r.trapped && vm.config.gic === 2) return false;
      if (r.trapped && hw.vmcr.eoimode === 1 && insn.intid < 1020) {
        // The hyp fast path (arch/arm64/kvm/hyp/vgic-v3-sr.c) deactivates in the trapping vCPU's own
        // LRs; anything else is a full exit to vgic_v3_deactivate.
        if (hw.findActive(insn.intid) < 0) return false;
        hw.dirUntrapped(insn.intid);
      }
      if (r.counted) v.ghost.outsideDeactivations.push(insn.intid);
      const intid = intidOf(vm, insn.intid);
      if (hw.vmcr.eoimode === 1 && intid < 1020 && reachesActive(vm, v, insn.intid, r.lr >= 0))
        vm.guestDeactivated.add(vm.ghostKey(v, intid));
      vm.logEvent({ vcpu: v.id, what: 'dir', intid: insn.intid, text: `DIR ${insn.intid}` });
      g.complete();
      return true;
    }
    case 'pmr':
      hw.setPmr(insn.value);
      break;
    case 'ctlr':
      hw.setCtlr(insn.eoimode);
      break;
    case 'igrpen':
      hw.setGroupEnable(insn.group, insn.on);
      break;
    case 'apr_read':
      g.complete(hw.readApr(insn.group));
      return true;
    case 'apr_write':
      hw.writeApr(insn.group, insn.value);
      break;
    case 'mask':
      g.masked = true;
      break;
    case 'unmask':
      g.masked = false;
      break;
    default:
      return false;
  }
  g.complete();
  return true;
}

const kvm_vcpu_block = kernelFn(
  { name: 'kvm_vcpu_block', file: 'virt/kvm/kvm_main.c', steps: ['check_block', 'schedule'] },
  function* (t, vm: Vm, v: Vcpu): Gen {
    for (;;) {
      writeOnce(t, v.obj, VCPU.blocked, 1);
      t.at('check_block');
      if (yield* kvm_vgic_vcpu_pending_irq(t, vm, v)) {
        writeOnce(t, v.obj, VCPU.blocked, 0);
        return;
      }
      t.at('schedule');
      yield new Wait(() => readOnce(t, v.obj, VCPU.blocked) === 0, 'WFI wake-up', undefined, true);
    }
  },
);

/** kvm_vcpu_wfi: block unless an interrupt is deliverable; a kick wakes the vCPU (no lost wake-up). */
const kvm_vcpu_wfi = kernelFn(
  { name: 'kvm_vcpu_wfi', file: ARM, steps: ['block'] },
  function* (t, vm: Vm, v: Vcpu): Gen {
    t.at('block');
    yield* kvm_vcpu_block(t, vm, v);
  },
);

const dispatch_mmio_write = kernelFn(
  { name: 'dispatch_mmio_write', file: 'arch/arm64/kvm/vgic/vgic-mmio.c', steps: ['write'] },
  function* (t, vm: Vm, v: Vcpu, w: MmioWrite): Gen {
    t.at('write');
    if (w.reg === 'GICV_DIR') yield* vgic_mmio_write_dir(t, vm, v, w.value);
    // Private INTIDs are those of the accessing vCPU's redistributor.
    else yield* vgic_mmio_write(t, vm, v, w, true);
  },
);

const kvm_io_bus_write = kernelFn(
  { name: 'kvm_io_bus_write', file: 'virt/kvm/kvm_main.c', steps: ['iodevice_write'] },
  function* (t, vm: Vm, v: Vcpu, w: MmioWrite): Gen {
    t.at('iodevice_write');
    yield* dispatch_mmio_write(t, vm, v, w);
  },
);

const io_mem_abort = kernelFn(
  { name: 'io_mem_abort', file: 'arch/arm64/kvm/mmio.c', steps: ['bus_write'] },
  function* (t, vm: Vm, v: Vcpu, w: MmioWrite): Gen {
    t.at('bus_write');
    yield* kvm_io_bus_write(t, vm, v, w);
  },
);

const kvm_handle_guest_abort = kernelFn(
  { name: 'kvm_handle_guest_abort', file: 'arch/arm64/kvm/mmu.c', steps: ['io_mem_abort'] },
  function* (t, vm: Vm, v: Vcpu, w: MmioWrite): Gen {
    t.at('io_mem_abort');
    yield* io_mem_abort(t, vm, v, w);
  },
);

const kvm_arch_vcpu_ioctl_run_userspace = kernelFn(
  { name: 'kvm_arch_vcpu_ioctl_run_userspace', file: ARM, steps: [] },
  function* (t, vm: Vm, c: HostCall): Gen<number> {
    return yield* hostCall(t, vm, c);
  },
);

/** handle_exit for a trapped guest instruction, after IRQs are back on. */
const handleTrap = kernelFn(
  { name: 'handle_exit', file: 'arch/arm64/kvm/handle_exit.c', steps: ['exit_handler'] },
  function* (t, vm: Vm, v: Vcpu, g: GuestCpu, insn: GuestInsn): Gen {
    t.at('exit_handler');
    switch (insn.k) {
      case 'wfi':
        yield* kvm_vcpu_wfi(t, vm, v);
        g.complete();
        return;
      case 'mmio_write':
        yield* kvm_handle_guest_abort(t, vm, v, insn.w);
        g.complete();
        return;
      case 'mmio_read':
        g.complete(
          yield* vgic_mmio_read_state(
            t,
            vm,
            v,
            insn.r.intid,
            insn.r.reg === 'ISACTIVER' ? 'active' : 'pending',
          ),
        );
        return;
      case 'dir': {
        const intid = intidOf(vm, insn.intid);
        const reaches = reachesActive(vm, v, insn.intid, false);
        if (vm.config.gic === 2) {
          const w: MmioWrite = { reg: 'GICV_DIR', value: insn.intid };
          yield* kvm_handle_guest_abort(t, vm, v, w);
        } else yield* vgic_v3_deactivate(t, vm, v, insn.intid);
        if (v.cpuif.vmcr.eoimode === 1 && intid < 1020 && reaches)
          vm.guestDeactivated.add(vm.ghostKey(v, intid));
        vm.logEvent({
          vcpu: v.id,
          what: 'dir',
          intid,
          text: `DIR ${describeValue(vm, insn.intid)} (trapped)`,
        });
        g.complete();
        return;
      }
      case 'sgi':
        // GICv2: a write of GICD_SGIR, a distributor register, trapped like any other.
        if (vm.config.gic === 2)
          yield* kvm_handle_guest_abort(t, vm, v, {
            reg: 'GICD_SGIR',
            intid: insn.intid,
            targets: insn.targets,
          });
        else yield* vgic_v3_dispatch_sgi(t, vm, v, insn.intid, insn.targets);
        g.complete();
        return;
      case 'hvc':
        g.complete(yield* kvm_arch_vcpu_ioctl_run_userspace(t, vm, insn.call as HostCall));
        return;
      case 'fail': {
        const text = `vgic-lab: guest assertion failed on vCPU ${v.id}: ${insn.text}`;
        t.k.exec.report(
          new KReport(
            'guest',
            `guest assertion: ${insn.text.replace(/\d+/g, 'N')}`,
            false,
            [text],
            [threadInfo(t)],
            'guest',
          ),
        );
        vm.logEvent({ vcpu: v.id, what: 'assert', text: insn.text });
        g.complete();
        return;
      }
      default:
        g.complete();
    }
  },
);

/**
 * The vCPU's thread: kvm_arch_vcpu_ioctl_run iterations until the guest program ends. The guest
 * executes inside the thread while it is in guest mode.
 */
export function* vcpuRun(t: Task, vm: Vm, v: Vcpu, g: GuestCpu): Gen {
  while (!g.finished) {
    yield* check_vcpu_requests(t, vm, v);
    t.preemptDisable();
    t.setIrqsOff(true);
    yield* kvm_vgic_flush_hwstate(t, vm, v);
    // Between the flush and IN_GUEST_MODE no lock is held: an injector's request and kick may land here.
    yield point('before IN_GUEST_MODE');
    writeOnce(t, v.obj, VCPU.mode, MODE.IN_GUEST);
    let exit: Exit;
    if (readOnce(t, v.obj, VCPU.requests) !== 0) {
      exit = { why: 'irq' };
    } else {
      vgicRestoreState(v);
      vm.checks.guestEntry(t, vm, v);
      t.setGuest(true);
      vm.logEvent({ vcpu: v.id, what: 'entry', text: `entry: ${v.usedLrs} LRs` });
      exit = yield* runGuest(t, vm, v, g);
      t.setGuest(false);
      vgicSaveState(v);
      vm.logEvent({ vcpu: v.id, what: 'exit', text: `exit: ${describeExit(exit)}` });
    }
    if (!vm.design.fixes.OUTSIDE_GUEST_MODE_AFTER_SYNC) writeOnce(t, v.obj, VCPU.mode, MODE.OUTSIDE);
    yield* kvm_vgic_sync_hwstate(t, vm, v);
    if (vm.design.fixes.OUTSIDE_GUEST_MODE_AFTER_SYNC) writeOnce(t, v.obj, VCPU.mode, MODE.OUTSIDE);
    // kvm_vgic_put: the VMCR the host reads from other threads (priority mask for pending checks).
    writeOnce(t, v.obj, VCPU.vmcr, v.cpuif.vmcr.pmr);
    t.setIrqsOff(false);
    // Pending IPIs (kicks, halt requests) are taken here.
    if (readOnce(t, v.obj, VCPU.ipi)) writeOnce(t, v.obj, VCPU.ipi, 0);
    t.preemptEnable();
    if (exit.why === 'trap') yield* handleTrap(t, vm, v, g, exit.insn);
  }
}

function describeExit(e: Exit): string {
  switch (e.why) {
    case 'irq':
      return 'IRQ (kick)';
    case 'maintenance':
      return `maintenance interrupt (${misrNames(e.misr).join(', ')})`;
    case 'trap':
      return `trap (${e.insn.k})`;
    case 'done':
      return 'guest program finished';
  }
}
