import { atomicRmw, rd, wr } from '../kernel/access.ts';
import { kernelFn } from '../kernel/function.ts';
import { head, list_add_tail } from '../kernel/list.ts';
import {
  lockdep_assert_held,
  raw_spin_lock,
  raw_spin_lock_irqsave,
  raw_spin_unlock,
  raw_spin_unlock_irqrestore,
} from '../kernel/locks.ts';
import type { KObj } from '../kernel/mem.ts';
import { flagsOf, type Gen, intidOf, irqLock, isSpi, setFlag, vcpuOf, vgic_target_oracle } from './irq.ts';
import { kvm_make_all_cpus_request, kvm_make_request, kvm_vcpu_kick } from './kick.ts';
import { DIST, F, IRQ, REQ } from './layout.ts';
import { vgic_get_irq, vgic_get_irq_ref, vgic_put_irq } from './refs.ts';
import type { Vcpu, Vm } from './vm.ts';

const FILE = 'arch/arm64/kvm/vgic/vgic.c';

/**
 * vgic_queue_irq_unlock: entered holding irq_lock (taken with irqsave, `flags`); returns with it
 * dropped. Links the IRQ at the tail of its target's AP list, taking the AP list's reference, and kicks
 * the target. Retries without bound when the IRQ changed in window W3 (docs/model.md, Glossary).
 */
export const vgic_queue_irq_unlock = kernelFn(
  {
    name: 'vgic_queue_irq_unlock',
    file: FILE,
    steps: [
      'assert_held',
      'oracle',
      'kick_queued',
      'lock_ap_list',
      'lock_irq',
      'recheck',
      'retry',
      'add_tail',
      'active_spis',
      'kick',
    ],
    lines: { assert_held: 370 },
  },
  function* (t, vm: Vm, irq: KObj, flags: unknown): Gen<boolean> {
    const lock = irqLock(t, irq);
    t.at('assert_held');
    lockdep_assert_held(t, lock);
    for (;;) {
      t.at('oracle');
      const target = vgic_target_oracle(t, vm, irq);
      if (vcpuOf(t, irq) !== null || target === null) {
        raw_spin_unlock_irqrestore(t, lock, flags);
        if (target) {
          t.at('kick_queued');
          kvm_make_request(t, target, REQ.IRQ_PENDING);
          kvm_vcpu_kick(t, target);
        }
        return false;
      }
      raw_spin_unlock_irqrestore(t, lock, flags);
      t.at('lock_ap_list');
      const apFlags = yield raw_spin_lock_irqsave(t, target.apLock);
      t.at('lock_irq');
      yield raw_spin_lock(t, lock);
      t.at('recheck');
      if (vcpuOf(t, irq) !== null || vgic_target_oracle(t, vm, irq) !== target) {
        raw_spin_unlock(t, lock);
        raw_spin_unlock_irqrestore(t, target.apLock, apFlags);
        t.at('retry');
        flags = yield raw_spin_lock_irqsave(t, lock);
        continue;
      }
      t.at('add_tail');
      vgic_get_irq_ref(t, irq);
      list_add_tail(t, head(irq, 'ap_list'), target.apHead);
      wr(t, irq, IRQ.vcpu, target);
      t.at('active_spis');
      // Only the first SPI in flight makes every vCPU re-flush and set TDIR: a DIR for an SPI
      // acknowledged on another vCPU must trap.
      const bcast =
        vm.design.lrOverflow &&
        vm.config.gic === 3 &&
        vm.config.hostTdir &&
        isSpi(vm, intidOf(t, irq)) &&
        atomicRmw(t, vm.obj, DIST.activeSpis, (n) => n + 1) === 0;
      raw_spin_unlock(t, lock);
      raw_spin_unlock_irqrestore(t, target.apLock, apFlags);
      t.at('kick');
      if (!bcast) {
        kvm_make_request(t, target, REQ.IRQ_PENDING);
        kvm_vcpu_kick(t, target);
      } else {
        yield* kvm_make_all_cpus_request(t, vm, REQ.IRQ_PENDING);
      }
      return true;
    }
  },
);

/**
 * kvm_vgic_inject_irq: raise or lower a line (level) or pulse an edge. Returns 0 or -EINVAL (-22).
 */
export const kvm_vgic_inject_irq = kernelFn(
  {
    name: 'kvm_vgic_inject_irq',
    file: FILE,
    steps: ['get_irq', 'lock', 'validate', 'set_pending', 'queue', 'put_irq'],
  },
  function* (t, vm: Vm, v: Vcpu | null, intid: number, level: boolean, owner: unknown = null): Gen<number> {
    if (intid < 32 && !v) return -22;
    t.at('get_irq');
    const irq = yield* vgic_get_irq(t, vm, v, intid);
    if (!irq) return -22;
    t.at('lock');
    const flags = yield raw_spin_lock_irqsave(t, irqLock(t, irq));
    t.at('validate');
    const f = flagsOf(t, irq);
    const levelTriggered = (f & F.CONFIG_LEVEL) !== 0;
    const valid =
      rd(t, irq, IRQ.owner) === owner && (levelTriggered ? ((f & F.LINE_LEVEL) !== 0) !== level : level);
    if (!valid) {
      raw_spin_unlock_irqrestore(t, irqLock(t, irq), flags);
      yield* vgic_put_irq(t, vm, irq);
      return 0;
    }
    t.at('set_pending');
    if (levelTriggered) setFlag(t, irq, F.LINE_LEVEL, level);
    else setFlag(t, irq, F.PENDING_LATCH, true);
    t.at('queue');
    yield* vgic_queue_irq_unlock(t, vm, irq, flags);
    t.at('put_irq');
    yield* vgic_put_irq(t, vm, irq);
    return 0;
  },
);
