/**
 * A design module: the locked fold of V4b ("KVM: arm64: vgic: take ap_list_lock in fold", Hyunwoo
 * Kim, 7 Jun 2026) written as code on mainline V3. vgic_fold_state holds the vCPU's ap_list_lock
 * across the LR fold and the EOIcount replay, collects the acked level SPIs in a bitmap and notifies
 * them after the unlock; vgic_v3_fold_lr_state (and vgic_v2_fold_lr_state on a GICv2 VM) walks only
 * from a last_lr_irq that is still on this vCPU's list, and drops the reference flush took on it
 * (pinLastLr) without releasing under the lock.
 *   vgic-lab check lpi-disable-vs-eoicount-replay --design examples/v4b-module.ts
 * gives the verdicts of the built-in V4b (test/cli/cli.test.ts checks that it does).
 */
import type { DesignModule, FoldOpts, Gen, ModelApi, Vcpu, Vm } from 'vgic-lab/model';

export default function design(m: ModelApi): DesignModule {
  /** vgic_v3_fold_lr_state or, for a GICv2 VM (`vm: {gic: v2}`), vgic_v2_fold_lr_state: the same walk. */
  const foldLrState = (gic: 2 | 3) =>
    m.kernelFn(
      {
        name: `vgic_v${gic}_fold_lr_state`,
        file: `arch/arm64/kvm/vgic/vgic-v${gic}.c`,
        steps: m.FOLD_LR_STATE_STEPS,
      },
      function* (t, vm: Vm, v: Vcpu, opts: FoldOpts = { eoiSpis: null, norelease: false }): Gen<boolean> {
        m.lockdep_assert_held(t, v.apLock);
        const foldLr = gic === 2 ? m.vgic_v2_fold_lr : m.vgic_v3_fold_lr;
        const acc = { deleted: false };
        const eoicount = v.eoicountShadow;
        for (let i = 0; i < v.usedLrs; i++) {
          t.at('fold_lr');
          acc.deleted = (yield* foldLr(t, vm, v, v.lrShadow[i], { ...opts, fromLr: true })) || acc.deleted;
        }
        const last = vm.lastLrIrq[t.cpu];
        // Walk only from an entry still on this vCPU's list: another CPU may have unlinked it.
        if (last && m.vcpuOf(t, last) === v)
          yield* m.vgic_eoicount_replay(t, vm, v, eoicount, opts, acc, true);
        m.foldDone(t, vm, v);
        if (last && vm.lastLrPinned[t.cpu]) {
          t.at('put_last');
          acc.deleted = (yield* m.vgic_put_irq_norelease(t, vm, last)) || acc.deleted;
          vm.lastLrPinned[t.cpu] = false;
        }
        v.usedLrs = 0;
        return acc.deleted;
      },
    );
  const vgic_v3_fold_lr_state = foldLrState(3);
  const vgic_v2_fold_lr_state = foldLrState(2);

  const vgic_fold_state = m.kernelFn(
    {
      name: 'vgic_fold_state',
      file: 'arch/arm64/kvm/vgic/vgic.c',
      steps: ['lock', 'fold_lr_state', 'release_deleted', 'notify'],
    },
    function* (t, vm: Vm, v: Vcpu): Gen {
      if (!vm.lastLrIrq[t.cpu]) {
        v.usedLrs = 0;
        m.foldDone(t, vm, v);
        return;
      }
      const eoiSpis = new Set<number>();
      t.at('lock');
      yield m.raw_spin_lock(t, v.apLock);
      t.at('fold_lr_state');
      const fold = vm.config.gic === 2 ? vgic_v2_fold_lr_state : vgic_v3_fold_lr_state;
      const deleted = yield* fold(t, vm, v, { eoiSpis, norelease: true });
      m.raw_spin_unlock(t, v.apLock);
      if (deleted) {
        t.at('release_deleted');
        yield* m.vgic_release_deleted_lpis(t, vm);
      }
      // kvm_notify_acked_irq takes the eventfd's spinlock_t: only after the raw ap_list_lock is dropped.
      for (const s of [...eoiSpis].sort((a, b) => a - b)) {
        t.at('notify');
        yield* m.kvm_notify_acked_irq(t, vm, s);
      }
    },
  );

  return {
    name: 'V4b-module',
    description: 'the locked fold (V4b) written as a design module on V3',
    reference: 'https://lore.kernel.org/r/aiXvwGD1hS6vwLEd@v4bel',
    base: 'V3',
    fields: { pinLastLr: true },
    replace: { vgic_fold_state, vgic_v3_fold_lr_state, vgic_v2_fold_lr_state },
  };
}
