import { LR_ACTIVE } from '../gic/lr.ts';
import { local_irq_restore, local_irq_save, raw_spin_lock, raw_spin_unlock } from '../kernel/locks.ts';
import { Fn } from '../kernel/stack.ts';
import type { Task } from '../kernel/task.ts';
import { vgic_v3_compute_lr } from './flush.ts';
import { vgic_v3_fold_lr } from './fold.ts';
import { flagsOf, type Gen, irqLock, vcpuOf } from './irq.ts';
import { kvm_make_request } from './kick.ts';
import { F, REQ } from './layout.ts';
import { vgic_mmio_change_active } from './mmio.ts';
import { vgic_get_irq, vgic_put_irq } from './refs.ts';
import type { Vcpu, Vm } from './vm.ts';

const FN = {
  deactivate: new Fn('vgic_v3_deactivate', 9, 'arch/arm64/kvm/vgic/vgic-v3.c'),
  accessDir: new Fn('access_gic_dir', 2, 'arch/arm64/kvm/sys_regs.c'),
};

/**
 * vgic_v3_deactivate (vgic-host.md §3.10): the host side of a trapped ICV_DIR_EL1 write that matched
 * no LR of the trapping vCPU. Emulates the deactivation with a pseudo-LR, or — when the IRQ sits in some
 * vCPU's LR — falls back to the ICACTIVER path, which halts the guest.
 */
export function* vgic_v3_deactivate(t: Task, vm: Vm, v: Vcpu, intid: number): Gen {
  t.enter(FN.accessDir);
  t.enter(FN.deactivate);
  try {
    if (v.cpuif.vmcr.eoimode !== 1 || intid >= 32 + vm.spis.length) return;
    const flags = local_irq_save(t);
    t.at(3);
    const irq = vgic_get_irq(t, vm, v, intid);
    if (!irq) {
      local_irq_restore(t, flags);
      return;
    }
    t.at(4);
    yield raw_spin_lock(t, irqLock(t, irq));
    const tv = vcpuOf(t, irq);
    let mmio = false;
    let lr = null;
    if (tv !== null) {
      if (flagsOf(t, irq) & F.ON_LR) mmio = true;
      else {
        lr = vgic_v3_compute_lr(t, irq);
        lr.state &= ~LR_ACTIVE;
      }
    }
    raw_spin_unlock(t, irqLock(t, irq));
    if (lr) {
      // Window WD: no lock held.
      t.at(5);
      if (lr.hw) vm.physActive.delete(lr.pintid);
      yield* vgic_v3_fold_lr(t, vm, v, lr);
    }
    t.at(6);
    yield* vgic_put_irq(t, vm, irq);
    local_irq_restore(t, flags);
    if (mmio) {
      t.at(7);
      yield* vgic_mmio_change_active(t, vm, v, intid, false, true);
    }
    if (tv !== null) {
      t.at(8);
      kvm_make_request(t, tv, REQ.VGIC_PROCESS_UPDATE);
    }
  } finally {
    t.leave();
    t.leave();
  }
}
