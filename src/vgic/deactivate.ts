import { LR_ACTIVE } from '../gic/lr.ts';
import { kernelFn } from '../kernel/function.ts';
import { local_irq_restore, local_irq_save, raw_spin_lock, raw_spin_unlock } from '../kernel/locks.ts';
import { vgic_v3_compute_lr } from './flush.ts';
import { vgic_v3_fold_lr } from './fold.ts';
import { flagsOf, type Gen, irqLock, vcpuOf } from './irq.ts';
import { kvm_make_request } from './kick.ts';
import { F, REQ } from './layout.ts';
import { vgic_mmio_write_active } from './mmio.ts';
import { physDeactivate } from './phys.ts';
import { vgic_get_irq, vgic_put_irq } from './refs.ts';
import { replaceable } from './replace.ts';
import type { Vcpu, Vm } from './vm.ts';

/**
 * vgic_v3_deactivate: the host side of a trapped ICV_DIR_EL1 write that matched no LR of the trapping
 * vCPU. Emulates the deactivation with a pseudo-LR, or — when the IRQ sits in some vCPU's LR — falls
 * back to the ICACTIVER path, which halts the guest.
 */
const v3_deactivate = kernelFn(
  {
    name: 'vgic_v3_deactivate',
    file: 'arch/arm64/kvm/vgic/vgic-v3.c',
    steps: ['get_irq', 'lock', 'fold_lr', 'put_irq', 'change_active', 'make_request'],
  },
  function* (t, vm: Vm, v: Vcpu, intid: number): Gen {
    if (v.cpuif.vmcr.eoimode !== 1 || intid >= 32 + vm.spis.length) return;
    const flags = local_irq_save(t);
    t.at('get_irq');
    const irq = yield* vgic_get_irq(t, vm, v, intid);
    if (!irq) {
      local_irq_restore(t, flags);
      return;
    }
    t.at('lock');
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
      t.at('fold_lr');
      if (lr.hw) physDeactivate(t, v, lr.pintid);
      yield* vgic_v3_fold_lr(t, vm, v, lr);
    }
    t.at('put_irq');
    yield* vgic_put_irq(t, vm, irq);
    local_irq_restore(t, flags);
    if (mmio) {
      t.at('change_active');
      yield* vgic_mmio_write_active(t, vm, v, intid, false, true);
    }
    if (tv !== null) {
      t.at('make_request');
      kvm_make_request(t, tv, REQ.VGIC_PROCESS_UPDATE);
    }
  },
);

/** The trapped ICV_DIR_EL1 write, entered through its sys_regs.c handler access_gic_dir. */
const vgic_v3_deactivate_builtin = kernelFn(
  { name: 'access_gic_dir', file: 'arch/arm64/kvm/sys_regs.c', steps: [] },
  function* (t, vm: Vm, v: Vcpu, intid: number): Gen {
    yield* v3_deactivate(t, vm, v, intid);
  },
);

/** vgic_v3_deactivate, or the design module's replacement of it. */
export const vgic_v3_deactivate = replaceable('vgic_v3_deactivate', vgic_v3_deactivate_builtin);
