import { point } from '../explore/ops.ts';
import { wr } from '../kernel/access.ts';
import { bug } from '../kernel/bug.ts';
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
import { Fn } from '../kernel/stack.ts';
import type { Task } from '../kernel/task.ts';
import { type Gen, irqLock, oracle, vcpuOf } from './irq.ts';
import { kvm_make_request, kvm_vcpu_kick } from './kick.ts';
import { IRQ, REQ, VGIC_IRQ } from './layout.ts';
import { vgic_get_irq_ref, vgic_put_irq_norelease, vgic_release_deleted_lpis } from './refs.ts';
import type { Vcpu, Vm } from './vm.ts';

const FILE = 'arch/arm64/kvm/vgic/vgic.c';
const FN = {
  prune: new Fn('vgic_prune_ap_list', 0x2a, FILE, { 3: 741 }),
  asyncUpdate: new Fn('kvm_vgic_process_async_update', 3, FILE),
};

/**
 * vgic_prune_ap_list (vgic-host.md §3.11): T(v), IRQs off. Drops idle entries, migrates re-routed
 * pending ones to their new target (both ap_list_locks, lower vcpu_id first) and restarts after every
 * migration, since the list may have changed arbitrarily in window WM.
 */
export function* vgic_prune_ap_list(t: Task, vm: Vm, v: Vcpu): Gen {
  t.enter(FN.prune);
  try {
    let deleted = false;
    retry: for (;;) {
      t.at(1);
      yield raw_spin_lock(t, v.apLock);
      if (v.overflowHead && !list_empty(t, v.overflowHead)) {
        t.at(2);
        list_splice_tail_init(t, v.overflowHead, v.apHead);
      }
      for (const pos of list_entries(t, v.apHead)) {
        const irq = listEntry(pos, VGIC_IRQ, 'ap_list') as KObj;
        t.at(3);
        yield raw_spin_lock(t, irqLock(t, irq));
        t.at(4);
        if (vcpuOf(t, irq) !== v) bug(t);
        const target = oracle(t, vm, irq);
        if (target === null) {
          t.at(5);
          list_del(t, head(irq, 'ap_list'));
          wr(t, irq, IRQ.vcpu, null);
          raw_spin_unlock(t, irqLock(t, irq));
          deleted = (yield* vgic_put_irq_norelease(t, irq)) || deleted;
          continue;
        }
        if (target === v) {
          raw_spin_unlock(t, irqLock(t, irq));
          continue;
        }
        // Migration to another vCPU.
        t.at(0x10);
        if (vm.design.fixes.PRUNE_REF_ACROSS_MIGRATION) vgic_get_irq_ref(t, irq);
        raw_spin_unlock(t, irqLock(t, irq));
        raw_spin_unlock(t, v.apLock);
        yield point('window WM');
        const [lo, hi] = v.id < target.id ? [v, target] : [target, v];
        t.at(0x13);
        yield raw_spin_lock(t, lo.apLock);
        t.at(0x14);
        yield raw_spin_lock_nested(t, hi.apLock, 1);
        t.at(0x15);
        yield raw_spin_lock(t, irqLock(t, irq));
        let kick = false;
        t.at(0x16);
        if (
          oracle(t, vm, irq) === target &&
          (!vm.design.fixes.PRUNE_CHECK_STILL_OURS || vcpuOf(t, irq) === v)
        ) {
          t.at(0x17);
          list_del(t, head(irq, 'ap_list'));
          wr(t, irq, IRQ.vcpu, target);
          list_add_tail(t, head(irq, 'ap_list'), target.apHead);
          kick = true;
        }
        raw_spin_unlock(t, irqLock(t, irq));
        raw_spin_unlock(t, hi.apLock);
        raw_spin_unlock(t, lo.apLock);
        if (vm.design.fixes.PRUNE_REF_ACROSS_MIGRATION) {
          t.at(0x19);
          deleted = (yield* vgic_put_irq_norelease(t, irq)) || deleted;
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
      t.at(0x28);
      yield* vgic_release_deleted_lpis(t, vm);
    }
  } finally {
    t.leave();
  }
}

/** kvm_vgic_process_async_update: prune after another vCPU's DIR trap deactivated one of ours. */
export function* kvm_vgic_process_async_update(t: Task, vm: Vm, v: Vcpu): Gen {
  t.enter(FN.asyncUpdate);
  try {
    const flags = local_irq_save(t);
    t.at(1);
    yield* vgic_prune_ap_list(t, vm, v);
    local_irq_restore(t, flags);
  } finally {
    t.leave();
  }
}
