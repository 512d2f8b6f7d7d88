import { point } from '../explore/ops.ts';
import { wr } from '../kernel/access.ts';
import { bug } from '../kernel/bug.ts';
import { kernelFn } from '../kernel/function.ts';
import {
  head,
  list_add_tail,
  list_del,
  list_empty,
  list_entries,
  list_splice_tail_init,
  listEntry,
} from '../kernel/list.ts';
import {
  local_irq_restore,
  local_irq_save,
  raw_spin_lock,
  raw_spin_lock_nested,
  raw_spin_unlock,
} from '../kernel/locks.ts';
import type { KObj } from '../kernel/mem.ts';
import { type Gen, irqLock, vcpuOf, vgic_target_oracle } from './irq.ts';
import { kvm_make_request, kvm_vcpu_kick } from './kick.ts';
import { IRQ, REQ, VGIC_IRQ } from './layout.ts';
import { vgic_get_irq_ref, vgic_put_irq_norelease, vgic_release_deleted_lpis } from './refs.ts';
import { replaceable } from './replace.ts';
import type { Vcpu, Vm } from './vm.ts';

const FILE = 'arch/arm64/kvm/vgic/vgic.c';

/**
 * vgic_prune_ap_list: on v's own thread, IRQs off. Drops idle entries, migrates re-routed pending ones
 * to their new target (both ap_list_locks, lower vcpu_id first) and restarts after every migration,
 * since the list may have changed arbitrarily in window WM (docs/model.md, Glossary).
 */
const vgic_prune_ap_list_builtin = kernelFn(
  {
    name: 'vgic_prune_ap_list',
    file: FILE,
    steps: [
      'lock_ap_list',
      'splice_overflow',
      'lock_irq',
      'check',
      'list_del',
      'get_ref',
      'lock_lo',
      'lock_hi',
      'relock_irq',
      'recheck',
      'migrate',
      'put_irq',
      'release_deleted',
    ],
    lines: { lock_irq: 741 },
  },
  function* (t, vm: Vm, v: Vcpu): Gen {
    let deleted = false;
    retry: for (;;) {
      t.at('lock_ap_list');
      yield raw_spin_lock(t, v.apLock);
      if (v.overflowHead && !list_empty(t, v.overflowHead)) {
        t.at('splice_overflow');
        list_splice_tail_init(t, v.overflowHead, v.apHead);
      }
      for (const pos of list_entries(t, v.apHead)) {
        const irq = listEntry(pos, VGIC_IRQ, 'ap_list') as KObj;
        t.at('lock_irq');
        yield raw_spin_lock(t, irqLock(t, irq));
        t.at('check');
        if (vcpuOf(t, irq) !== v) bug(t);
        const target = vgic_target_oracle(t, vm, irq);
        if (target === null) {
          t.at('list_del');
          list_del(t, head(irq, 'ap_list'));
          wr(t, irq, IRQ.vcpu, null);
          raw_spin_unlock(t, irqLock(t, irq));
          deleted = (yield* vgic_put_irq_norelease(t, vm, irq)) || deleted;
          continue;
        }
        if (target === v) {
          raw_spin_unlock(t, irqLock(t, irq));
          continue;
        }
        // Migration to another vCPU.
        t.at('get_ref');
        if (vm.design.fixes.PRUNE_REF_ACROSS_MIGRATION) vgic_get_irq_ref(t, irq);
        raw_spin_unlock(t, irqLock(t, irq));
        raw_spin_unlock(t, v.apLock);
        yield point('window WM');
        const [lo, hi] = v.id < target.id ? [v, target] : [target, v];
        t.at('lock_lo');
        yield raw_spin_lock(t, lo.apLock);
        t.at('lock_hi');
        yield raw_spin_lock_nested(t, hi.apLock, 1);
        t.at('relock_irq');
        yield raw_spin_lock(t, irqLock(t, irq));
        let kick = false;
        t.at('recheck');
        if (
          vgic_target_oracle(t, vm, irq) === target &&
          (!vm.design.fixes.PRUNE_CHECK_STILL_OURS || vcpuOf(t, irq) === v)
        ) {
          t.at('migrate');
          list_del(t, head(irq, 'ap_list'));
          wr(t, irq, IRQ.vcpu, target);
          list_add_tail(t, head(irq, 'ap_list'), target.apHead);
          kick = true;
        }
        raw_spin_unlock(t, irqLock(t, irq));
        raw_spin_unlock(t, hi.apLock);
        raw_spin_unlock(t, lo.apLock);
        if (vm.design.fixes.PRUNE_REF_ACROSS_MIGRATION) {
          t.at('put_irq');
          deleted = (yield* vgic_put_irq_norelease(t, vm, irq)) || deleted;
        }
        if (kick) {
          kvm_make_request(t, target, REQ.IRQ_PENDING);
          kvm_vcpu_kick(t, target);
        }
        continue retry;
      }
      raw_spin_unlock(t, v.apLock);
      break;
    }
    if (deleted) {
      t.at('release_deleted');
      yield* vgic_release_deleted_lpis(t, vm);
    }
  },
);

/** vgic_prune_ap_list, or the design module's replacement of it. */
export const vgic_prune_ap_list = replaceable('vgic_prune_ap_list', vgic_prune_ap_list_builtin);

/** kvm_vgic_process_async_update: prune after another vCPU's DIR trap deactivated one of ours. */
export const kvm_vgic_process_async_update = kernelFn(
  { name: 'kvm_vgic_process_async_update', file: FILE, steps: ['prune'] },
  function* (t, vm: Vm, v: Vcpu): Gen {
    const flags = local_irq_save(t);
    t.at('prune');
    yield* vgic_prune_ap_list(t, vm, v);
    local_irq_restore(t, flags);
  },
);
