import { LR_INVALID, LR_PENDING, type Lr } from '../gic/lr.ts';
import { rd } from '../kernel/access.ts';
import type { KObj } from '../kernel/mem.ts';
import type { Task } from '../kernel/task.ts';
import { F, IRQ } from './layout.ts';
import { physDeactivate, physLineLevel } from './phys.ts';
import type { Vcpu } from './vm.ts';

/*
 * What the GICv3 and GICv2 hosts share in building an LR image from an IRQ and folding one back
 * (vgic-v3.c and vgic-v2.c, which differ in the layout and in SGIs).
 */

/** How fold_lr reports an acked level SPI and drops its reference (V4b defers both). */
export interface FoldOpts {
  /** The image is an LR the last flush filled (not a replay's or a DIR trap's pseudo-LR). */
  fromLr?: boolean;
  /** V4b: SPIs to notify after ap_list_lock is dropped (INTID − 32). */
  eoiSpis: Set<number> | null;
  /** V4b inside the lock: the final put is PUT_NR and its result is returned. */
  norelease: boolean;
}

export const DIRECT: FoldOpts = { eoiSpis: null, norelease: false };

/** lr_signals_eoi_mi: the LR went invalid with an EOI maintenance request (not HW). */
export function lrSignalsEoiMi(lr: Lr): boolean {
  return lr.state === LR_INVALID && lr.eoi && !lr.hw;
}

/**
 * The HW and level part of compute_lr: a HW IRQ names its physical INTID, a level one asks for an EOI
 * maintenance interrupt (resampling, irqfd); either, when active, is never also pending in the LR.
 * Returns whether the pending state may go in.
 */
export function hwOrLevel(t: Task, irq: KObj, f: number, lr: Lr): boolean {
  if (f & F.HW) {
    lr.hw = true;
    lr.pintid = rd(t, irq, IRQ.hwintid);
    return (f & F.ACTIVE) === 0;
  }
  if (f & F.CONFIG_LEVEL) {
    lr.eoi = true;
    return (f & F.ACTIVE) === 0;
  }
  return true;
}

/**
 * The fold of a mapped level IRQ the guest has not acknowledged (vgic_irq_handle_resampling): the LR's
 * pending bit says nothing of the device now, so the line is sampled; a line found low also ends the
 * physical active state, or its next rising edge would never be seen. Returns the flags to set and
 * clear.
 */
export function resampled(t: Task, v: Vcpu, f: number, val: Lr): { set: number; clear: number } {
  if (!(f & F.CONFIG_LEVEL && f & F.HW && val.state & LR_PENDING)) return { set: 0, clear: 0 };
  if (physLineLevel(t, v, val.pintid)) return { set: F.LINE_LEVEL, clear: 0 };
  physDeactivate(t, v, val.pintid);
  return { set: 0, clear: F.LINE_LEVEL };
}
