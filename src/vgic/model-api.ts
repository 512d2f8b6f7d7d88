/**
 * The model API a design module is written against (docs/designs.md, "Design modules"): what the
 * built-in kernel functions use — kernel functions and scheduling points, locks, list operations,
 * references and RCU, instrumented field access, the vGIC objects' fields — and the built-in versions
 * of the replaceable functions. vgic-lab hands this object to the module's default export, so that a
 * module and the model share one copy of every class.
 */
import { POINT, point } from '../explore/ops.ts';
import { atomicRmw, cmpxchg, rd, readOnce, wr, writeOnce } from '../kernel/access.ts';
import { kernelFn } from '../kernel/function.ts';
import {
  head,
  list_add_tail,
  list_del,
  list_del_init,
  list_del_rcu,
  list_empty,
  list_entries,
  list_entries_after,
  list_next,
  listEntry,
} from '../kernel/list.ts';
import {
  lockdep_assert_held,
  raw_spin_lock,
  raw_spin_lock_irqsave,
  raw_spin_lock_nested,
  raw_spin_unlock,
  raw_spin_unlock_irqrestore,
  spin_lock_irqsave,
  spin_unlock_irqrestore,
} from '../kernel/locks.ts';
import { kfree_rcu, rcu_read_lock, rcu_read_unlock } from '../kernel/rcu.ts';
import type { Task } from '../kernel/task.ts';
import { vgic_v2_deactivate, vgic_v3_deactivate } from './deactivate.ts';
import type { DesignToggle } from './design-expr.ts';
import type { FixSwitches } from './designs.ts';
import { vgic_flush_lr_state, vgic_v3_compute_lr } from './flush.ts';
import {
  FOLD_LR_STATE_STEPS,
  vgic_eoicount_replay,
  vgic_fold_state,
  vgic_v2_fold_lr_state,
  vgic_v3_fold_lr,
  vgic_v3_fold_lr_state,
} from './fold.ts';
import { flagsOf, intidOf, irqLock, isLpi, setFlag, setFlags, vcpuOf, vgic_target_oracle } from './irq.ts';
import { DIST, F, IRQ, VCPU, VGIC_IRQ } from './layout.ts';
import { vgic_flush_pending_lpis } from './lpi.ts';
import { kvm_notify_acked_irq } from './notify.ts';
import { vgic_prune_ap_list } from './prune.ts';
import {
  vgic_get_irq,
  vgic_get_irq_ref,
  vgic_put_irq,
  vgic_put_irq_norelease,
  vgic_release_deleted_lpis,
  vgic_try_get_irq_ref,
} from './refs.ts';
import { vgic_v2_compute_lr, vgic_v2_fold_lr } from './v2.ts';
import type { Vcpu, Vm } from './vm.ts';

const BUILTIN = {
  vgic_fold_state: vgic_fold_state.builtin,
  vgic_v3_fold_lr_state: vgic_v3_fold_lr_state.builtin,
  vgic_v2_fold_lr_state: vgic_v2_fold_lr_state.builtin,
  vgic_flush_pending_lpis: vgic_flush_pending_lpis.builtin,
  vgic_prune_ap_list: vgic_prune_ap_list.builtin,
  vgic_flush_lr_state: vgic_flush_lr_state.builtin,
  vgic_v3_deactivate: vgic_v3_deactivate.builtin,
  vgic_v2_deactivate: vgic_v2_deactivate.builtin,
  vgic_put_irq: vgic_put_irq.builtin,
};

export const MODEL_API = {
  kernelFn,
  point,
  POINT,
  rd,
  wr,
  readOnce,
  writeOnce,
  atomicRmw,
  cmpxchg,
  raw_spin_lock,
  raw_spin_lock_nested,
  raw_spin_unlock,
  raw_spin_lock_irqsave,
  raw_spin_unlock_irqrestore,
  spin_lock_irqsave,
  spin_unlock_irqrestore,
  lockdep_assert_held,
  head,
  listEntry,
  list_entries,
  list_entries_after,
  list_next,
  list_add_tail,
  list_del,
  list_del_init,
  list_del_rcu,
  list_empty,
  rcu_read_lock,
  rcu_read_unlock,
  kfree_rcu,
  irqLock,
  intidOf,
  isLpi,
  flagsOf,
  setFlag,
  setFlags,
  vcpuOf,
  vgic_target_oracle,
  vgic_get_irq,
  vgic_get_irq_ref,
  vgic_try_get_irq_ref,
  vgic_put_irq,
  vgic_put_irq_norelease,
  vgic_release_deleted_lpis,
  vgic_v3_fold_lr,
  vgic_v2_fold_lr,
  vgic_v3_compute_lr,
  vgic_v2_compute_lr,
  vgic_eoicount_replay,
  FOLD_LR_STATE_STEPS,
  kvm_notify_acked_irq,
  /**
   * The checkpoint a replacement of vgic_v3_fold_lr_state (or vgic_v2_fold_lr_state) calls once its fold and replay are done
   * (the model's oracles judge the fold there, P-EOI among them), as the built-in one does.
   */
  foldDone: (t: Task, vm: Vm, v: Vcpu): void => vm.checks.foldDone(t, vm, v),
  F,
  IRQ,
  VCPU,
  DIST,
  VGIC_IRQ,
  /** The model's own versions of the replaceable functions, for a replacement to delegate to. */
  builtin: BUILTIN,
};

export type ModelApi = typeof MODEL_API;
export type Builtins = typeof BUILTIN;

/** What a design module's default export returns, given the model API. */
export interface DesignModule {
  name: string;
  description: string;
  reference?: string;
  /** A design id, alias or expression to start from. */
  base: string;
  version?: string;
  fields?: Partial<Record<DesignToggle, boolean>>;
  switches?: Partial<FixSwitches>;
  /** Replacements, with the signatures of the built-in functions. */
  replace?: Partial<Builtins>;
}

export type { KObj } from '../kernel/mem.ts';
export type { Gen } from './irq.ts';
export type { FoldOpts } from './lr-image.ts';
export type { Vcpu, Vm } from './vm.ts';
