import { POINT, point } from '../explore/ops.ts';
import { LR_ACTIVE, LR_INVALID, LR_PENDING, type Lr } from '../gic/lr.ts';
import { atomicRmw, type Ptr } from '../kernel/access.ts';
import { type KTask, kernelFn } from '../kernel/function.ts';
import { head, ListHead, list_next, listEntry } from '../kernel/list.ts';
import { raw_spin_lock, raw_spin_unlock } from '../kernel/locks.ts';
import type { BadPtr, KObj } from '../kernel/mem.ts';
import { checkApListLocked } from './discipline.ts';
import { vgic_v3_compute_lr } from './flush.ts';
import { flagsOf, type Gen, irqLock, isLpi, isSpi, setFlags, vcpuOf, vgic_target_oracle } from './irq.ts';
import { DIST, F, VGIC_IRQ } from './layout.ts';
import { DIRECT, type FoldOpts, lrSignalsEoiMi, resampled } from './lr-image.ts';
import { kvm_notify_acked_irq } from './notify.ts';
import { physDeactivate } from './phys.ts';
import { vgic_get_irq, vgic_put_irq, vgic_put_irq_norelease, vgic_release_deleted_lpis } from './refs.ts';
import { replaceable } from './replace.ts';
import { vgic_v2_compute_lr, vgic_v2_fold_lr } from './v2.ts';
import type { Vcpu, Vm } from './vm.ts';

const FILE = 'arch/arm64/kvm/vgic/vgic-v3.c';

/**
 * vgic_v3_fold_lr: apply one LR image to its vgic_irq, looked up by INTID.
 * Returns whether a PUT_NR dropped the last reference (V4b).
 */
export const vgic_v3_fold_lr = kernelFn(
  {
    name: 'vgic_v3_fold_lr',
    file: FILE,
    steps: ['notify_v0', 'get_irq', 'lock', 'compute', 'set_state', 'notify_eoi', 'put_irq'],
  },
  function* (t, vm: Vm, v: Vcpu, val: Lr, opts: FoldOpts = DIRECT): Gen<boolean> {
    const intid = val.vintid;
    // Before the LR-overflow rework (V0) every EOI maintenance notifies, before the lookup and unlocked.
    const rework = vm.design.lrOverflow;
    t.at('notify_v0');
    if (!rework && isSpi(vm, intid) && lrSignalsEoiMi(val)) yield* kvm_notify_acked_irq(t, vm, intid - 32);
    t.at('get_irq');
    const irq = yield* vgic_get_irq(t, vm, v, intid);
    if (!irq) return false;
    t.at('lock');
    yield raw_spin_lock(t, irqLock(t, irq));
    t.at('compute');
    let state = val.state;
    // Since the rework, virtual LPIs' active state is not tracked once outside the LRs: drop it.
    if (rework && isLpi(intid)) state &= ~LR_ACTIVE;
    const f = flagsOf(t, irq);
    const deactivated = (f & F.ACTIVE) !== 0 && (state & LR_ACTIVE) === 0;
    let set = state & LR_ACTIVE ? F.ACTIVE : 0;
    let clear = state & LR_ACTIVE ? 0 : F.ACTIVE;
    const level = (f & F.CONFIG_LEVEL) !== 0;
    if (!level && state & LR_PENDING) set |= F.PENDING_LATCH;
    if (level && state === LR_INVALID) clear |= F.PENDING_LATCH;
    const r = resampled(t, v, f, val);
    set |= r.set;
    clear |= r.clear;
    if (rework) clear |= F.ON_LR;
    t.at('set_state');
    setFlags(t, irq, set, clear);
    if (opts.fromLr) vm.checks.lrFolded(t, vm, v, irq);
    raw_spin_unlock(t, irqLock(t, irq));
    // `state` differs from `val.state` only for LPIs, which are not SPIs.
    if (rework && deactivated && isSpi(vm, intid) && lrSignalsEoiMi(val)) {
      t.at('notify_eoi');
      if (opts.eoiSpis) opts.eoiSpis.add(intid - 32);
      else yield* kvm_notify_acked_irq(t, vm, intid - 32);
      atomicRmw(t, vm.obj, DIST.activeSpis, (n) => (n > 0 ? n - 1 : n));
    }
    t.at('put_irq');
    if (opts.norelease) return yield* vgic_put_irq_norelease(t, vm, irq);
    yield* vgic_put_irq(t, vm, irq);
    return false;
  },
);

/**
 * The EOIcount replay loop's body for one candidate reached by the walk. Returns true when it consumed one
 * EOIcount. A candidate that is a bad pointer (poison) faults here, when its irq_lock is taken.
 */
function* replayOne(
  t: KTask<FoldLrStateStep>,
  vm: Vm,
  v: Vcpu,
  irq: Ptr,
  opts: FoldOpts,
  acc: { deleted: boolean },
): Gen<boolean> {
  t.at('replay_lock');
  yield raw_spin_lock(t, irqLock(t, irq));
  const obj = irq as KObj;
  if (vgic_target_oracle(t, vm, obj) !== v || (flagsOf(t, obj) & F.ACTIVE) === 0) {
    raw_spin_unlock(t, irqLock(t, irq));
    return false;
  }
  const lr = (vm.config.gic === 2 ? vgic_v2_compute_lr : vgic_v3_compute_lr)(t, obj);
  lr.state &= ~LR_ACTIVE;
  raw_spin_unlock(t, irqLock(t, irq));
  // Window WF: no lock held.
  yield point('window WF');
  t.at('replay_fold');
  // A GICv2 host deactivates the physical interrupt through GICC_DIR, a GICv3 one through ICC_DIR_EL1.
  if (lr.hw) physDeactivate(t, v, lr.pintid);
  v.ghost.replayed.push(lr.vintid);
  acc.deleted = (yield* foldLr(vm)(t, vm, v, lr, opts)) || acc.deleted;
  return true;
}

/**
 * One load of `pos->next`. Without ap_list_lock (every design but V4b) each load is its own step, and
 * on the AP list a lock-discipline note marks the missing lock; V1's overflow list is private to its
 * vCPU by design and gets none.
 */
function* nextOf(
  t: KTask<FoldLrStateStep>,
  v: Vcpu,
  pos: ListHead,
  locked: boolean,
  shared: boolean,
): Gen<ListHead | BadPtr> {
  if (!locked) {
    yield POINT;
    t.at('walk_next');
    if (shared) checkApListLocked(t, v, pos);
  }
  return list_next(t, pos);
}

/**
 * The design's EOIcount replay walk, in the kernel's loop order: the loop header loads the
 * next candidate and compares it with the list head before the body tests EOIcount. So a fold with
 * nothing to replay still loads the first link (for the tail walk, `last_lr_irq->ap_list.next`), and
 * the last replay is followed by one more load. With EOIcount at 0 both outcomes of the comparison
 * leave the loop, so a compiler may drop that load; the model keeps it, as the source is written
 * (docs/model.md, "Modelling choices"). `locked`: the caller holds ap_list_lock, so the loads are
 * not steps of their own. The caller's frame moves through walk_next, replay_lock and replay_fold.
 */
export function* vgic_eoicount_replay(
  t: KTask<FoldLrStateStep>,
  vm: Vm,
  v: Vcpu,
  eoicount: number,
  opts: FoldOpts,
  acc: { deleted: boolean },
  locked = vm.design.foldLocked,
): Gen {
  if (vm.design.walk === 'none') return;
  let listHead: ListHead = v.apHead;
  let pos: ListHead | BadPtr;
  if (vm.design.walk === 'tail') {
    const last = vm.lastLrIrq[t.cpu];
    if (!last) return;
    pos = head(last, 'ap_list');
  } else {
    if (vm.design.walk === 'overflow') listHead = v.overflowHead!;
    pos = listHead;
  }
  const shared = vm.design.walk !== 'overflow';
  for (;;) {
    pos = yield* nextOf(t, v, pos as ListHead, locked, shared);
    if (pos === listHead || eoicount === 0) return;
    if (pos instanceof ListHead && pos.name !== 'ap_list') {
      vm.checks.walkLeftList(t, vm, `${listHead.obj.label}.${listHead.name}`, `${pos.obj.label}.${pos.name}`);
    }
    const irq = listEntry(pos, VGIC_IRQ, 'ap_list');
    // A poisoned candidate faults in replayOne, when its irq_lock is taken.
    if (yield* replayOne(t, vm, v, irq, opts, acc)) eoicount--;
  }
}

export const FOLD_LR_STATE_STEPS = [
  'fold_lr',
  'walk_next',
  'replay_lock',
  'replay_fold',
  'put_last',
] as const;
export type FoldLrStateStep = (typeof FOLD_LR_STATE_STEPS)[number];

/** The fold_lr of the VM's GIC: vgic_v2_fold_lr on a GICv2 host, vgic_v3_fold_lr on GICv3. */
function foldLr(vm: Vm): typeof vgic_v3_fold_lr {
  return vm.config.gic === 2 ? vgic_v2_fold_lr : vgic_v3_fold_lr;
}

/**
 * vgic_v3_fold_lr_state and vgic_v2_fold_lr_state, which differ only in the LR layout and its fold_lr:
 * fold every used LR, then the EOIcount replay.
 */
function* foldLrState(t: KTask<FoldLrStateStep>, vm: Vm, v: Vcpu, opts: FoldOpts = DIRECT): Gen<boolean> {
  const acc = { deleted: false };
  const eoicount = v.eoicountShadow;
  v.ghost.replayed = [];
  for (let i = 0; i < v.usedLrs; i++) {
    t.at('fold_lr');
    acc.deleted = (yield* foldLr(vm)(t, vm, v, v.lrShadow[i], { ...opts, fromLr: true })) || acc.deleted;
  }
  const last = vm.lastLrIrq[t.cpu];
  // V4b re-validates last_lr_irq under the lock before walking from it.
  const skip = vm.design.foldLocked && (!last || vcpuOf(t, last) !== v);
  if (!skip) yield* vgic_eoicount_replay(t, vm, v, eoicount, opts, acc);
  // Judged here, while V4b still holds its pin on last_lr_irq, so the state dump shows it.
  vm.checks.foldDone(t, vm, v);
  if (vm.design.pinLastLr && last && vm.lastLrPinned[t.cpu]) {
    t.at('put_last');
    // Under ap_list_lock (V4b) the pin is dropped without release; unlocked (V5) it is a plain put.
    if (opts.norelease) acc.deleted = (yield* vgic_put_irq_norelease(t, vm, last)) || acc.deleted;
    else yield* vgic_put_irq(t, vm, last);
    vm.lastLrPinned[t.cpu] = false;
  }
  v.usedLrs = 0;
  return acc.deleted;
}

/** vgic_v3_fold_lr_state, or the design module's replacement of it. */
export const vgic_v3_fold_lr_state = replaceable(
  'vgic_v3_fold_lr_state',
  kernelFn({ name: 'vgic_v3_fold_lr_state', file: FILE, steps: FOLD_LR_STATE_STEPS }, foldLrState),
);

/** vgic_v2_fold_lr_state (arch/arm64/kvm/vgic/vgic-v2.c), or the design module's replacement of it. */
export const vgic_v2_fold_lr_state = replaceable(
  'vgic_v2_fold_lr_state',
  kernelFn(
    { name: 'vgic_v2_fold_lr_state', file: 'arch/arm64/kvm/vgic/vgic-v2.c', steps: FOLD_LR_STATE_STEPS },
    foldLrState,
  ),
);

/** The fold_lr_state of the VM's GIC. */
function vgic_fold_lr_state(vm: Vm): typeof vgic_v3_fold_lr_state {
  return vm.config.gic === 2 ? vgic_v2_fold_lr_state : vgic_v3_fold_lr_state;
}

/** vgic_fold_state: the design decides the locking around fold_lr_state. */
const vgic_fold_state_builtin = kernelFn(
  {
    name: 'vgic_fold_state',
    file: 'arch/arm64/kvm/vgic/vgic.c',
    steps: ['lock', 'fold_lr_state', 'release_deleted', 'notify'],
  },
  function* (t, vm: Vm, v: Vcpu): Gen {
    // Nothing was put in the LRs; with V5's last_lr_irq (NULL unless the LRs overflowed) it does not tell.
    if (vm.design.lastLrIrq && !vm.design.lastLrOnOverflowOnly && !vm.lastLrIrq[t.cpu]) {
      v.usedLrs = 0;
      vm.checks.foldDone(t, vm, v);
      return;
    }
    if (!vm.design.foldLocked) {
      t.at('fold_lr_state');
      yield* vgic_fold_lr_state(vm)(t, vm, v);
      return;
    }
    const eoiSpis = new Set<number>();
    t.at('lock');
    yield raw_spin_lock(t, v.apLock);
    t.at('fold_lr_state');
    // Without the deferral the notification would run here, under ap_list_lock: an Invalid wait
    // context (the eventfd's spinlock_t), or a self-deadlock when the resampler re-queues to this vCPU.
    const deleted = yield* vgic_fold_lr_state(vm)(t, vm, v, {
      eoiSpis: vm.design.deferNotify ? eoiSpis : null,
      norelease: true,
    });
    raw_spin_unlock(t, v.apLock);
    if (deleted) {
      t.at('release_deleted');
      yield* vgic_release_deleted_lpis(t, vm);
    }
    for (const s of [...eoiSpis].sort((a, b) => a - b)) {
      t.at('notify');
      yield* kvm_notify_acked_irq(t, vm, s);
    }
  },
);

/** vgic_fold_state, or the design module's replacement of it. */
export const vgic_fold_state = replaceable('vgic_fold_state', vgic_fold_state_builtin);
