import { HCR } from '../gic/cpuif.ts';
import { emptyLr, LR_ACTIVE, LR_PENDING, type Lr } from '../gic/lr.ts';
import { rd, readOnce, wr } from '../kernel/access.ts';
import { warn } from '../kernel/bug.ts';
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
import { Fn } from '../kernel/stack.ts';
import type { Task } from '../kernel/task.ts';
import { flagsOf, type Gen, intidOf, irqLock, oracle, pendingOf, setFlags } from './irq.ts';
import { DIST, F, IRQ, VGIC_IRQ } from './layout.ts';
import { vgic_get_irq_ref } from './refs.ts';
import {
  type ApListSummary,
  irqsActiveOutsideLrs,
  irqsOutsideLrs,
  irqsPendingOutsideLrs,
  summarize_ap_list,
  vgic_sort_ap_list,
} from './sort.ts';
import type { Vcpu, Vm } from './vm.ts';

const FILE = 'arch/arm64/kvm/vgic/vgic.c';
const V3FILE = 'arch/arm64/kvm/vgic/vgic-v3.c';
const FN = {
  computeLr: new Fn('vgic_v3_compute_lr', 6, V3FILE, { 0: 137 }),
  populateLr: new Fn('vgic_v3_populate_lr', 4, V3FILE),
  configureHcr: new Fn('vgic_v3_configure_hcr', 3, V3FILE),
  flushLr: new Fn('vgic_flush_lr_state', 0x19, FILE),
  flushHw: new Fn('kvm_vgic_flush_hwstate', 6, FILE),
};

/** vgic_v3_compute_lr (vgic-host.md §3.6.1), irq_lock held. */
export function vgic_v3_compute_lr(t: Task, irq: KObj): Lr {
  t.enter(FN.computeLr);
  const f = flagsOf(t, irq);
  if (f & F.ON_LR) {
    t.at(1);
    warn(t, { once: 'compute_lr:on_lr', title: `WARNING in vgic_v3_compute_lr: IRQ already on an LR` });
  }
  const lr = emptyLr();
  lr.vintid = intidOf(t, irq);
  let allowPending = true;
  t.at(2);
  if (f & F.ACTIVE) lr.state |= LR_ACTIVE;
  t.at(3);
  if (f & F.HW) {
    lr.hw = true;
    lr.pintid = rd<number>(t, irq, IRQ.hwintid);
    if (f & F.ACTIVE) allowPending = false;
  } else if (f & F.CONFIG_LEVEL) {
    lr.eoi = true;
    if (f & F.ACTIVE) allowPending = false;
  }
  t.at(4);
  if (allowPending && pendingOf(f)) lr.state |= LR_PENDING;
  t.at(5);
  lr.group = rd<number>(t, irq, IRQ.group) ? 1 : 0;
  lr.priority = rd<number>(t, irq, IRQ.priority);
  t.leave();
  return lr;
}

/** vgic_v3_populate_lr (§3.6.2): the pending state moves into the LR. */
function vgic_v3_populate_lr(t: Task, vm: Vm, v: Vcpu, irq: KObj, n: number): void {
  t.enter(FN.populateLr);
  const lr = vgic_v3_compute_lr(t, irq);
  v.lrShadow[n] = lr;
  t.at(1);
  const f = flagsOf(t, irq);
  let clear = 0;
  if (lr.state & LR_PENDING) {
    if (!(f & F.CONFIG_LEVEL)) clear |= F.PENDING_LATCH;
    if (f & F.CONFIG_LEVEL && f & F.HW) clear |= F.LINE_LEVEL;
  }
  t.at(2);
  setFlags(t, irq, vm.design.lrOverflow ? F.ON_LR : 0, clear);
  t.leave();
}

/** vgic_v3_configure_hcr (§3.7): rebuilt from scratch, which also zeroes the saved EOIcount. */
function vgic_v3_configure_hcr(t: Task, vm: Vm, v: Vcpu, als: ApListSummary): void {
  t.enter(FN.configureHcr);
  const nLr = vm.config.nLr;
  let hcr = HCR.En;
  if (irqsOutsideLrs(als, nLr)) hcr |= HCR.UIE;
  if (vm.design.lrOverflow) {
    if (irqsActiveOutsideLrs(als, nLr)) hcr |= HCR.LRENPIE;
    if (irqsPendingOutsideLrs(als, nLr)) hcr |= HCR.NPIE;
    const vmcr = v.cpuif.vmcr;
    hcr |= vmcr.eng0 ? HCR.VGrp0DIE : HCR.VGrp0EIE;
    hcr |= vmcr.eng1 ? HCR.VGrp1DIE : HCR.VGrp1EIE;
    if (als.nrSgi === 0) hcr |= HCR.vSGIEOICount;
    t.at(1);
    if (
      !vm.config.hostTdir ||
      irqsActiveOutsideLrs(als, nLr) ||
      readOnce<number>(t, vm.obj, DIST.activeSpis) !== 0
    ) {
      hcr |= HCR.TDIR;
    }
  }
  v.hcrShadow = hcr;
  v.eoicountShadow = 0;
  t.leave();
}

/** vgic_flush_lr_state (§3.6): T(v), IRQs off, holding v's ap_list_lock. */
export function* vgic_flush_lr_state(t: Task, vm: Vm, v: Vcpu): Gen {
  t.enter(FN.flushLr);
  try {
    lockdep_assert_held(t, v.apLock);
    const nLr = vm.config.nLr;
    t.at(1);
    const als = yield* summarize_ap_list(t, vm, v);
    if (irqsOutsideLrs(als, nLr)) {
      t.at(2);
      yield* vgic_sort_ap_list(t, vm, v);
    }
    t.at(3);
    if (vm.design.lastLrIrq) vm.lastLrIrq[t.cpu] = null;
    let count = 0;
    let last: KObj | null = null;
    for (const pos of list_entries(t, v.apHead)) {
      const irq = listEntry(pos, VGIC_IRQ, 'ap_list') as KObj;
      t.at(7);
      yield raw_spin_lock(t, irqLock(t, irq));
      t.at(8);
      if (oracle(t, vm, irq) === v) {
        vgic_v3_populate_lr(t, vm, v, irq, count);
        count++;
        last = irq;
        if (vm.design.lastLrIrq) vm.lastLrIrq[t.cpu] = irq;
      }
      raw_spin_unlock(t, irqLock(t, irq));
      if (count === nLr) break;
    }
    t.at(10);
    const lastLr = vm.lastLrIrq[t.cpu];
    vm.lastLrPinned[t.cpu] = false;
    if (vm.design.pinLastLr && lastLr) {
      // V4b: last_lr_irq holds a reference from flush to fold.
      vgic_get_irq_ref(t, lastLr);
      vm.lastLrPinned[t.cpu] = true;
    }
    for (let i = count; i < nLr; i++) v.lrShadow[i] = emptyLr();
    v.usedLrs = count;
    v.ghost.entrySeq = vm.stateSeq;
    t.at(12);
    vgic_v3_configure_hcr(t, vm, v, als);
    if (v.overflowHead) {
      t.at(13);
      splitOverflow(t, v, v.overflowHead, last);
    }
  } finally {
    t.leave();
  }
}

/** V1 (§3.6 step 8): cut the entries after `last` off into the overflow list. */
function splitOverflow(t: Task, v: Vcpu, overflow: ListHead, last: KObj | null): void {
  const ap = v.apHead;
  const tail = rd<ListHead>(t, ap.obj, ap.prev);
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

/** kvm_vgic_flush_hwstate (§3.18 step 3): LOCK(ap_list_lock); flush_lr_state; UNLOCK. */
export function* kvm_vgic_flush_hwstate(t: Task, vm: Vm, v: Vcpu): Gen {
  t.enter(FN.flushHw);
  try {
    // Before the rework the flush was skipped when the list looked empty, tested without the lock.
    if (!vm.design.lrOverflow && list_empty(t, v.apHead)) return;
    t.at(1);
    yield raw_spin_lock(t, v.apLock);
    t.at(2);
    yield* vgic_flush_lr_state(t, vm, v);
    raw_spin_unlock(t, v.apLock);
  } finally {
    t.leave();
  }
}
