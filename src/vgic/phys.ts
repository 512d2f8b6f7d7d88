import { atomicRmw, readOnce } from '../kernel/access.ts';
import type { Task } from '../kernel/task.ts';
import { PHYS } from './layout.ts';
import type { Vcpu } from './vm.ts';

/**
 * The guest's deactivation of a HW = 1 interrupt reaches the physical one (an ICC_DIR write on the
 * vCPU's CPU): a PPI in that CPU's redistributor, an SPI in the distributor.
 */
export function physDeactivate(t: Task, v: Vcpu, pintid: number): void {
  if (pintid >= 32) {
    v.vm.physActive.delete(pintid);
    return;
  }
  if (v.phys) atomicRmw(t, v.phys, PHYS.active, (m) => m & ~(1 << pintid));
}

/**
 * The level of a mapped interrupt's physical line (the timer's get_input_level). The model's timer
 * output stays asserted from its expiry until the guest's deactivation reaches the physical PPI (the
 * guest's handler is assumed to stop the timer), so the line is high exactly while the PPI is active.
 */
export function physLineLevel(t: Task, v: Vcpu, pintid: number): boolean {
  if (pintid >= 32) return v.vm.physActive.has(pintid);
  return !!v.phys && (readOnce(t, v.phys, PHYS.active) & (1 << pintid)) !== 0;
}
