/**
 * A design module: V4a ("Use list_del_rcu() when flushing pending LPIs") written as code instead of
 * the flushLpisDelRcu field — mainline V3 with vgic_flush_pending_lpis replaced. Run it with
 *   vgic-lab check lpi-disable-vs-eoicount-replay-discarded --design examples/v4a-module.ts
 * It gives the verdicts of the built-in V4a (test/cli/cli.test.ts checks that it does).
 */
import type { DesignModule, Gen, KObj, ModelApi, Vcpu, Vm } from 'vgic-lab/model';

export default function design(m: ModelApi): DesignModule {
  const vgic_flush_pending_lpis = m.kernelFn(
    {
      name: 'vgic_flush_pending_lpis',
      file: 'arch/arm64/kvm/vgic/vgic.c',
      steps: ['lock', 'intid', 'irq_lock', 'list_del', 'put_irq', 'release_deleted'],
    },
    function* (t, vm: Vm, v: Vcpu): Gen {
      let deleted = false;
      t.at('lock');
      const flags = yield m.raw_spin_lock_irqsave(t, v.apLock);
      for (const pos of m.list_entries(t, v.apHead)) {
        const irq = m.listEntry(pos, m.VGIC_IRQ, 'ap_list') as KObj;
        t.at('intid');
        if (!m.isLpi(m.intidOf(t, irq))) continue;
        t.at('irq_lock');
        yield m.raw_spin_lock(t, m.irqLock(t, irq));
        if (vm.design.fixes.FLUSH_LPIS_CLEARS_PENDING) m.setFlags(t, irq, 0, m.F.PENDING_LATCH);
        t.at('list_del');
        // The proposal: unlink so that a lockless walker standing on the entry can still step off it.
        m.list_del_rcu(t, m.head(irq, 'ap_list'));
        m.wr(t, irq, m.IRQ.vcpu, null);
        m.raw_spin_unlock(t, m.irqLock(t, irq));
        t.at('put_irq');
        deleted = (yield* m.vgic_put_irq_norelease(t, vm, irq)) || deleted;
      }
      m.raw_spin_unlock_irqrestore(t, v.apLock, flags);
      if (deleted) {
        t.at('release_deleted');
        yield* m.vgic_release_deleted_lpis(t, vm);
      }
    },
  );
  return {
    name: 'V4a-module',
    description: 'V3 with vgic_flush_pending_lpis unlinking with list_del_rcu (V4a, written as a module)',
    reference:
      '"[PATCH] KVM: arm64: vgic: Use list_del_rcu() when flushing pending LPIs", Hyunwoo Kim, 4 Jun 2026',
    base: 'V3',
    replace: { vgic_flush_pending_lpis },
  };
}
