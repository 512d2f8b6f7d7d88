import { HCR } from '../gic/cpuif.ts';
import { emptyLr, LR_ACTIVE, LR_PENDING, type Lr } from '../gic/lr.ts';
import { rd, readOnce, wr } from '../kernel/access.ts';
import { warn } from '../kernel/bug.ts';
import { kernelFn } from '../kernel/function.ts';
import {
  head,
  type ListHead,
  list_cut_position,
  list_empty,
  list_entries,
  listEntry,
} from '../kernel/list.ts';
import { lockdep_assert_held, raw_spin_lock, raw_spin_unlock } from '../kernel/locks.ts';
import type { KObj } from '../kernel/mem.ts';
import type { Task } from '../kernel/task.ts';
import { flagsOf, type Gen, intidOf, irqLock, pendingOf, setFlags, vgic_target_oracle } from './irq.ts';
import { DIST, F, IRQ, VGIC_IRQ } from './layout.ts';
import { hwOrLevel } from './lr-image.ts';
import { vgic_get_irq_ref } from './refs.ts';
import { replaceable } from './replace.ts';
import {
  type ApListSummary,
  irqsActiveOutsideLrs,
  irqsOutsideLrs,
  irqsPendingOutsideLrs,
  summarize_ap_list,
  vgic_sort_ap_list,
} from './sort.ts';
import { vgic_v2_configure_hcr, vgic_v2_populate_lr } from './v2.ts';
import type { Vcpu, Vm } from './vm.ts';

const FILE = 'arch/arm64/kvm/vgic/vgic.c';
const V3FILE = 'arch/arm64/kvm/vgic/vgic-v3.c';

/** vgic_v3_compute_lr: the LR image of an IRQ; irq_lock held. */
export const vgic_v3_compute_lr = kernelFn(
  {
    name: 'vgic_v3_compute_lr',
    file: V3FILE,
    steps: ['on_lr', 'active', 'hw', 'pending', 'group'],
    lines: { on_lr: 137 },
  },
  (t, irq: KObj): Lr => {
    const f = flagsOf(t, irq);
    if (f & F.ON_LR) {
      t.at('on_lr');
      warn(t, { once: 'compute_lr:on_lr', title: `WARNING in vgic_v3_compute_lr: IRQ already on an LR` });
    }
    const lr = emptyLr();
    lr.vintid = intidOf(t, irq);
    t.at('active');
    if (f & F.ACTIVE) lr.state |= LR_ACTIVE;
    t.at('hw');
    const allowPending = hwOrLevel(t, irq, f, lr);
    t.at('pending');
    if (allowPending && pendingOf(f)) lr.state |= LR_PENDING;
    t.at('group');
    lr.group = rd(t, irq, IRQ.group) ? 1 : 0;
    lr.priority = rd(t, irq, IRQ.priority);
    return lr;
  },
);

/** vgic_v3_populate_lr: the pending state moves into the LR. */
const vgic_v3_populate_lr = kernelFn(
  { name: 'vgic_v3_populate_lr', file: V3FILE, steps: ['pending', 'set_flags'] },
  (t, vm: Vm, v: Vcpu, irq: KObj, n: number): void => {
    const lr = vgic_v3_compute_lr(t, irq);
    v.lrShadow[n] = lr;
    t.at('pending');
    const f = flagsOf(t, irq);
    let clear = 0;
    if (lr.state & LR_PENDING) {
      if (!(f & F.CONFIG_LEVEL)) clear |= F.PENDING_LATCH;
      if (f & F.CONFIG_LEVEL && f & F.HW) clear |= F.LINE_LEVEL;
    }
    t.at('set_flags');
    setFlags(t, irq, vm.design.lrOverflow ? F.ON_LR : 0, clear);
  },
);

/** vgic_v3_configure_hcr: rebuilt from scratch, which also zeroes the saved EOIcount. */
const vgic_v3_configure_hcr = kernelFn(
  { name: 'vgic_v3_configure_hcr', file: V3FILE, steps: ['tdir'] },
  (t, vm: Vm, v: Vcpu, als: ApListSummary): void => {
    const nrLr = vm.config.nrLr;
    let hcr = HCR.En;
    if (irqsOutsideLrs(als, nrLr)) hcr |= HCR.UIE;
    if (vm.design.lrOverflow) {
      if (irqsActiveOutsideLrs(als, nrLr)) hcr |= HCR.LRENPIE;
      if (irqsPendingOutsideLrs(als, nrLr)) hcr |= HCR.NPIE;
      const vmcr = v.cpuif.vmcr;
      hcr |= vmcr.eng0 ? HCR.VGrp0DIE : HCR.VGrp0EIE;
      hcr |= vmcr.eng1 ? HCR.VGrp1DIE : HCR.VGrp1EIE;
      if (als.nrSgi === 0) hcr |= HCR.vSGIEOICount;
      t.at('tdir');
      if (
        !vm.config.hostTdir ||
        irqsActiveOutsideLrs(als, nrLr) ||
        readOnce(t, vm.obj, DIST.activeSpis) !== 0
      ) {
        hcr |= HCR.TDIR;
      }
    }
    v.hcrShadow = hcr;
    v.eoicountShadow = 0;
  },
);

/** vgic_flush_lr_state: on v's own thread, IRQs off, holding v's ap_list_lock. */
const vgic_flush_lr_state_builtin = kernelFn(
  {
    name: 'vgic_flush_lr_state',
    file: FILE,
    steps: [
      'summarize',
      'sort',
      'clear_last',
      'lock',
      'populate',
      'pin_last',
      'configure_hcr',
      'split_overflow',
    ],
  },
  function* (t, vm: Vm, v: Vcpu): Gen {
    lockdep_assert_held(t, v.apLock);
    const nrLr = vm.config.nrLr;
    t.at('summarize');
    const als = yield* summarize_ap_list(t, vm, v);
    if (irqsOutsideLrs(als, nrLr)) {
      t.at('sort');
      yield* vgic_sort_ap_list(t, vm, v);
    }
    t.at('clear_last');
    if (vm.design.lastLrIrq) vm.lastLrIrq[t.cpu] = null;
    let count = 0;
    let last: KObj | null = null;
    for (const pos of list_entries(t, v.apHead)) {
      const irq = listEntry(pos, VGIC_IRQ, 'ap_list') as KObj;
      t.at('lock');
      yield raw_spin_lock(t, irqLock(t, irq));
      t.at('populate');
      if (vgic_target_oracle(t, vm, irq) === v) {
        (vm.config.gic === 2 ? vgic_v2_populate_lr : vgic_v3_populate_lr)(t, vm, v, irq, count);
        count++;
        last = irq;
        if (vm.design.lastLrIrq) vm.lastLrIrq[t.cpu] = irq;
      }
      raw_spin_unlock(t, irqLock(t, irq));
      if (count === nrLr) break;
    }
    // V5: last_lr_irq stays NULL unless entries are left outside the LRs (nothing to replay then).
    if (vm.design.lastLrOnOverflowOnly && !irqsOutsideLrs(als, nrLr)) vm.lastLrIrq[t.cpu] = null;
    t.at('pin_last');
    const lastLr = vm.lastLrIrq[t.cpu];
    vm.lastLrPinned[t.cpu] = false;
    if (vm.design.pinLastLr && lastLr) {
      // V4b and V5: last_lr_irq holds a reference from flush to fold.
      vgic_get_irq_ref(t, lastLr);
      vm.lastLrPinned[t.cpu] = true;
    }
    for (let i = count; i < nrLr; i++) v.lrShadow[i] = emptyLr();
    v.usedLrs = count;
    v.ghost.entrySeq = vm.stateSeq;
    t.at('configure_hcr');
    (vm.config.gic === 2 ? vgic_v2_configure_hcr : vgic_v3_configure_hcr)(t, vm, v, als);
    if (v.overflowHead) {
      t.at('split_overflow');
      splitOverflow(t, v, v.overflowHead, last);
    }
  },
);

/** vgic_flush_lr_state, or the design module's replacement of it. */
export const vgic_flush_lr_state = replaceable('vgic_flush_lr_state', vgic_flush_lr_state_builtin);

/** V1: cut the entries after `last` off into the overflow list, which only v's thread walks. */
function splitOverflow(t: Task, v: Vcpu, overflow: ListHead, last: KObj | null): void {
  const ap = v.apHead;
  const tail = rd(t, ap.obj, ap.prev);
  if (!last || tail === head(last, 'ap_list')) {
    wr(t, overflow.obj, overflow.next, overflow);
    wr(t, overflow.obj, overflow.prev, overflow);
    return;
  }
  // A struct copy of the head: both pointers, while the neighbours still point at ap_list_head.
  wr(t, overflow.obj, overflow.next, rd(t, ap.obj, ap.next));
  wr(t, overflow.obj, overflow.prev, tail);
  list_cut_position(t, ap, overflow, head(last, 'ap_list'));
}

/** kvm_vgic_flush_hwstate: vgic_flush_lr_state under v's ap_list_lock, before the guest entry. */
export const kvm_vgic_flush_hwstate = kernelFn(
  { name: 'kvm_vgic_flush_hwstate', file: FILE, steps: ['lock', 'flush_lr_state'] },
  function* (t, vm: Vm, v: Vcpu): Gen {
    // Before the rework the flush was skipped when the list looked empty, tested without the lock.
    if (!vm.design.lrOverflow && list_empty(t, v.apHead)) return;
    t.at('lock');
    yield raw_spin_lock(t, v.apLock);
    t.at('flush_lr_state');
    yield* vgic_flush_lr_state(t, vm, v);
    raw_spin_unlock(t, v.apLock);
  },
);
