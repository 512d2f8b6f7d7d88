import type { KObj } from '../kernel/mem.ts';
import type { Task } from '../kernel/task.ts';
import type { Vcpu, Vm } from './vm.ts';

/**
 * The points in KVM's flow where vgic-lab judges the model's state with its functional oracles
 * (docs/findings.md). The model code calls the VM's checkpoints and knows nothing of the oracles;
 * src/vgic/oracles.ts implements them. A checkpoint reads the model without instrumentation, so it
 * never changes what the explorer sees.
 */
export interface Checkpoints {
  /** vgic_v3_fold_lr applied an LR image the last flush filled to `irq` (P-STATE-WRITE). */
  lrFolded(t: Task, vm: Vm, v: Vcpu, irq: KObj): void;
  /** The fold of `v` ended, V4b still holding its reference on last_lr_irq (P-EOI). */
  foldDone(t: Task, vm: Vm, v: Vcpu): void;
  /** An AP-list walk reached a list head other than the one it started on (P-LIST): fatal. */
  walkLeftList(t: Task, vm: Vm, started: string, reached: string): never;
  /** A write clearing `v`'s GICR_CTLR.EnableLPIs completed (P-LPI-QUEUED, P-LPI-PENDING). */
  lpisDisabled(t: Task, vm: Vm, v: Vcpu): void;
  /** The guest of `v` acknowledged `intid` (P-LPI-ACK). */
  guestAck(t: Task, vm: Vm, v: Vcpu, intid: number): void;
  /** `v` is about to enter the guest (P-HALT). */
  guestEntry(t: Task, vm: Vm, v: Vcpu): void;
  /** The execution ended without a fatal report (P-ACTIVE, the LPI oracles, P-REF, liveness). */
  executionEnd(vm: Vm): void;
}
