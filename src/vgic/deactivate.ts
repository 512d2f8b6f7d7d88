import { LR_ACTIVE } from '../gic/lr.ts';
import { rd } from '../kernel/access.ts';
import { warn } from '../kernel/bug.ts';
import { type KTask, kernelFn } from '../kernel/function.ts';
import { local_irq_restore, local_irq_save, raw_spin_lock, raw_spin_unlock } from '../kernel/locks.ts';
import { vgic_v3_compute_lr } from './flush.ts';
import { vgic_v3_fold_lr } from './fold.ts';
import { flagsOf, type Gen, irqLock, vcpuOf } from './irq.ts';
import { kvm_make_request } from './kick.ts';
import { F, IRQ, REQ } from './layout.ts';
import { vgic_mmio_write_active } from './mmio.ts';
import { physDeactivate } from './phys.ts';
import { vgic_get_irq, vgic_put_irq } from './refs.ts';
import { replaceable } from './replace.ts';
import { vgic_v2_compute_lr, vgic_v2_fold_lr } from './v2.ts';
import type { Vcpu, Vm } from './vm.ts';

const DEACTIVATE_STEPS = ['get_irq', 'lock', 'fold_lr', 'put_irq', 'change_active', 'make_request'] as const;

/**
 * The deactivation of an interrupt outside the trapping vCPU's LRs, as vgic_v3_deactivate and
 * vgic_v2_deactivate do it: with a pseudo-LR folded as if the guest had deactivated it in an LR, or —
 * when the IRQ sits in some vCPU's LR — through the ICACTIVER path, which halts the guest. `sgiSource`
 * (GICv2) is the source the DIR value names: an SGI whose active instance came from another source is
 * left alone.
 */
function* deactivate(
  t: KTask<(typeof DEACTIVATE_STEPS)[number]>,
  vm: Vm,
  v: Vcpu,
  intid: number,
  sgiSource: number | null,
): Gen {
  const v2 = vm.config.gic === 2;
  const flags = local_irq_save(t);
  t.at('get_irq');
  const irq = yield* vgic_get_irq(t, vm, v, intid);
  if (!irq) {
    if (v2) warn(t, { once: 'v2_deactivate:no_irq', title: 'WARNING in vgic_v2_deactivate: no such IRQ' });
    local_irq_restore(t, flags);
    return;
  }
  t.at('lock');
  yield raw_spin_lock(t, irqLock(t, irq));
  let tv = vcpuOf(t, irq);
  let mmio = false;
  let lr = null;
  if (tv !== null) {
    if (flagsOf(t, irq) & F.ON_LR) mmio = true;
    else if (sgiSource !== null && intid < 16 && rd(t, irq, IRQ.activeSource) !== sgiSource) tv = null;
    else {
      lr = (v2 ? vgic_v2_compute_lr : vgic_v3_compute_lr)(t, irq);
      lr.state &= ~LR_ACTIVE;
    }
  }
  raw_spin_unlock(t, irqLock(t, irq));
  if (lr) {
    // Window WD: no lock held.
    t.at('fold_lr');
    if (lr.hw) physDeactivate(t, v, lr.pintid);
    yield* (v2 ? vgic_v2_fold_lr : vgic_v3_fold_lr)(t, vm, v, lr);
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
}

/**
 * vgic_v3_deactivate: the host side of a trapped ICV_DIR_EL1 write that matched no LR of the trapping
 * vCPU (EOImode 1, SGIs, PPIs and SPIs only).
 */
const v3_deactivate = kernelFn(
  { name: 'vgic_v3_deactivate', file: 'arch/arm64/kvm/vgic/vgic-v3.c', steps: DEACTIVATE_STEPS },
  function* (t, vm: Vm, v: Vcpu, intid: number): Gen {
    if (v.cpuif.vmcr.eoimode !== 1 || intid >= 32 + vm.spis.length) return;
    yield* deactivate(t, vm, v, intid, null);
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

/**
 * vgic_v2_deactivate: the host side of a GICv2 guest's GICV_DIR write, which always traps (GICv2 has
 * no TDIR). As vgic_v3_deactivate, with the SGI's source: the value's CPUID must be the source of the
 * active instance, or the write deactivates nothing. By the time it runs, the trapping vCPU's own LRs
 * were folded on the exit, so `on_lr` means another vCPU's LR.
 */
const vgic_v2_deactivate_builtin = kernelFn(
  { name: 'vgic_v2_deactivate', file: 'arch/arm64/kvm/vgic/vgic-v2.c', steps: DEACTIVATE_STEPS },
  function* (t, vm: Vm, v: Vcpu, value: number): Gen {
    if (v.cpuif.vmcr.eoimode !== 1) return;
    yield* deactivate(t, vm, v, value & ~(7 << 10), (value >> 10) & 7);
  },
);

/** vgic_v2_deactivate, or the design module's replacement of it. */
export const vgic_v2_deactivate = replaceable('vgic_v2_deactivate', vgic_v2_deactivate_builtin);

/** A write of GICV_DIR, trapped like a distributor register (vgic-mmio-v2.c). */
export const vgic_mmio_write_dir = kernelFn(
  { name: 'vgic_mmio_write_dir', file: 'arch/arm64/kvm/vgic/vgic-mmio-v2.c', steps: ['deactivate'] },
  function* (t, vm: Vm, v: Vcpu, value: number): Gen {
    t.at('deactivate');
    yield* vgic_v2_deactivate(t, vm, v, value);
  },
);
