import { cmpxchg, storeRelease, wr } from '../kernel/access.ts';
import { kernelFn } from '../kernel/function.ts';
import { head, list_del, list_del_rcu, list_entries, listEntry } from '../kernel/list.ts';
import {
  raw_spin_lock,
  raw_spin_lock_irqsave,
  raw_spin_unlock,
  raw_spin_unlock_irqrestore,
} from '../kernel/locks.ts';
import type { KObj } from '../kernel/mem.ts';
import { type Gen, intidOf, irqLock, isLpi, setFlags } from './irq.ts';
import { its_invalidate_all_caches } from './its.ts';
import { kvm_arm_halt_guest, kvm_arm_resume_guest } from './kick.ts';
import { F, GICR_CTLR, IRQ, VCPU, VGIC_IRQ } from './layout.ts';
import { vgic_put_irq_norelease, vgic_release_deleted_lpis } from './refs.ts';
import { replaceable } from './replace.ts';
import type { Vcpu, Vm } from './vm.ts';

/**
 * vgic_flush_pending_lpis: callable from any thread against any vCPU. Unlinks every LPI from v's AP
 * list with list_del (V4a: list_del_rcu) and drops the AP list's reference. It does not look at the
 * LRs: an LPI in v's LRs while v runs is unlinked all the same.
 */
const vgic_flush_pending_lpis_builtin = kernelFn(
  {
    name: 'vgic_flush_pending_lpis',
    file: 'arch/arm64/kvm/vgic/vgic.c',
    steps: ['lock', 'intid', 'irq_lock', 'list_del', 'put_irq', 'release_deleted'],
  },
  function* (t, vm: Vm, v: Vcpu): Gen {
    let deleted = false;
    t.at('lock');
    const flags = yield raw_spin_lock_irqsave(t, v.apLock);
    for (const pos of list_entries(t, v.apHead)) {
      const irq = listEntry(pos, VGIC_IRQ, 'ap_list') as KObj;
      t.at('intid');
      if (!isLpi(intidOf(t, irq))) continue;
      t.at('irq_lock');
      yield raw_spin_lock(t, irqLock(t, irq));
      if (vm.design.fixes.FLUSH_LPIS_CLEARS_PENDING) setFlags(t, irq, 0, F.PENDING_LATCH);
      t.at('list_del');
      if (vm.design.flushLpisDelRcu) list_del_rcu(t, head(irq, 'ap_list'));
      else list_del(t, head(irq, 'ap_list'));
      wr(t, irq, IRQ.vcpu, null);
      raw_spin_unlock(t, irqLock(t, irq));
      t.at('put_irq');
      deleted = (yield* vgic_put_irq_norelease(t, vm, irq)) || deleted;
    }
    raw_spin_unlock_irqrestore(t, v.apLock, flags);
    if (deleted) {
      t.at('release_deleted');
      yield* vgic_release_deleted_lpis(t, vm);
    }
  },
);

/** vgic_flush_pending_lpis, or the design module's replacement of it. */
export const vgic_flush_pending_lpis = replaceable(
  'vgic_flush_pending_lpis',
  vgic_flush_pending_lpis_builtin,
);

/** vgic_mmio_write_v3r_ctlr: EnableLPIs 1 -> 0 flushes the redistributor's pending LPIs. */
export const vgic_mmio_write_v3r_ctlr = kernelFn(
  {
    name: 'vgic_mmio_write_v3r_ctlr',
    file: 'arch/arm64/kvm/vgic/vgic-mmio-v3.c',
    steps: ['cmpxchg', 'flush_lpis', 'invalidate_caches', 'set_release'],
  },
  function* (t, vm: Vm, v: Vcpu, enableLpis: boolean): Gen {
    if (!vm.its) return;
    t.at('cmpxchg');
    if (!enableLpis) {
      if (cmpxchg(t, v.obj, VCPU.ctlr, GICR_CTLR.ENABLE_LPIS, GICR_CTLR.RWP) !== GICR_CTLR.ENABLE_LPIS)
        return;
      if (vm.design.fixes.HALT_ON_LPI_DISABLE) yield* kvm_arm_halt_guest(t, vm);
      t.at('flush_lpis');
      yield* vgic_flush_pending_lpis(t, vm, v);
      t.at('invalidate_caches');
      yield* its_invalidate_all_caches(t, vm);
      if (vm.design.fixes.HALT_ON_LPI_DISABLE) kvm_arm_resume_guest(t, vm);
      t.at('set_release');
      // The writer's clock as the store publishes it: whoever sees the completion is ordered after.
      v.ghost.lpisDisabledAt = t.vc.slice();
      storeRelease(t, v.obj, VCPU.ctlr, 0);
      vm.checks.lpisDisabled(t, vm, v);
    } else if (cmpxchg(t, v.obj, VCPU.ctlr, 0, GICR_CTLR.ENABLE_LPIS) === 0) {
      v.ghost.lpisDisabledAt = null;
    }
  },
);
