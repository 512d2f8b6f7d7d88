import { POINT } from '../explore/ops.ts';
import { rd, readOnce, wr } from '../kernel/access.ts';
import {
  initLock,
  type Lock,
  mutex_lock,
  mutex_unlock,
  raw_spin_lock_irqsave,
  raw_spin_unlock_irqrestore,
  spin_lock_irqsave,
  spin_unlock_irqrestore,
} from '../kernel/locks.ts';
import type { KObj } from '../kernel/mem.ts';
import { kfree } from '../kernel/slab.ts';
import { Fn } from '../kernel/stack.ts';
import type { Task } from '../kernel/task.ts';
import { XArray } from '../kernel/xarray.ts';
import { type Gen, irqLock, setFlag } from './irq.ts';
import { F, GICR_CTLR, IRQ, ITS_ITE, VCPU, VGIC_ITS } from './layout.ts';
import { vgic_queue_irq_unlock } from './queue.ts';
import {
  vgic_get_irq_ref,
  vgic_get_lpi,
  vgic_put_irq,
  vgic_try_get_irq_ref,
  xa_load_get_ref,
} from './refs.ts';
import type { Vcpu, Vm } from './vm.ts';

const FILE = 'arch/arm64/kvm/vgic/vgic-its.c';
/** The property byte of an LPI the scenario gives none for. */
const DEFAULT_LPI_PROPS = { priority: 0xa0, enabled: true };
const FN = {
  addLpi: new Fn('vgic_add_lpi', 0xd, 'arch/arm64/kvm/vgic/vgic-its.c'),
  process: new Fn('vgic_its_process_commands', 6, FILE),
  handle: new Fn('vgic_its_handle_command', 9, FILE),
  mapti: new Fn('vgic_its_cmd_handle_mapi', 0xb, FILE),
  discard: new Fn('vgic_its_cmd_handle_discard', 8, FILE),
  movi: new Fn('vgic_its_cmd_handle_movi', 6, FILE),
  movall: new Fn('vgic_its_cmd_handle_movall', 6, FILE),
  int: new Fn('vgic_its_cmd_handle_int', 6, FILE),
  clear: new Fn('vgic_its_cmd_handle_clear', 4, FILE),
  freeIte: new Fn('its_free_ite', 5, FILE),
  freeDevice: new Fn('vgic_its_free_device', 4, FILE),
  mapd: new Fn('vgic_its_cmd_handle_mapd', 6, FILE),
  mapc: new Fn('vgic_its_cmd_handle_mapc', 6, FILE),
  inv: new Fn('vgic_its_cmd_handle_inv', 3, FILE),
  updateLpiConfig: new Fn('update_lpi_config', 4, FILE),
  syncPending: new Fn('vgic_v3_lpi_sync_pending_status', 6, 'arch/arm64/kvm/vgic/vgic-v3.c'),
  cacheTranslation: new Fn('vgic_its_cache_translation', 5, FILE),
  checkCache: new Fn('vgic_its_check_cache', 3, FILE),
  invalidate: new Fn('vgic_its_invalidate_all_caches', 4, FILE),
  injectCached: new Fn('vgic_its_inject_cached_translation', 6, FILE),
  injectMsi: new Fn('vgic_its_inject_msi', 4, FILE),
  triggerMsi: new Fn('vgic_its_trigger_msi', 6, FILE),
  updateAffinity: new Fn('update_affinity', 3, FILE),
};

/** ITS commands of vgic-host.md §3.15 that change AP lists or references. */
export type ItsCommand =
  | { cmd: 'MAPD'; device: number; valid: boolean }
  | { cmd: 'MAPC'; collection: number; vcpu: number | null }
  | { cmd: 'MAPTI'; device: number; event: number; intid: number; collection: number }
  | { cmd: 'INT'; device: number; event: number }
  | { cmd: 'DISCARD'; device: number; event: number }
  | { cmd: 'MOVI'; device: number; event: number; collection: number }
  | { cmd: 'MOVALL'; from: number; to: number }
  | { cmd: 'CLEAR'; device: number; event: number }
  | { cmd: 'INV'; device: number; event: number };

interface Ite {
  obj: KObj;
  /** null once MAPC unmapped the collection: the ITE is detached for good. */
  collection: number | null;
}

/** One ITS: devices with their ITEs, collections, and the translation cache (each entry holds a reference). */
export class Its {
  readonly obj: KObj;
  readonly cmdLock: Lock;
  readonly itsLock: Lock;
  readonly devices = new Map<number, Map<number, Ite>>();
  readonly collections = new Map<number, number | null>();
  readonly cache: XArray;

  constructor(readonly vm: Vm) {
    const k = vm.k;
    this.obj = k.alloc(VGIC_ITS, 'vgic_its', { enabled: 1 });
    this.cmdLock = initLock(
      k,
      'mutex',
      this.obj,
      VGIC_ITS.field('cmd_lock'),
      'vgic_its_create_cmd',
      '&its->cmd_lock',
    );
    this.itsLock = initLock(
      k,
      'mutex',
      this.obj,
      VGIC_ITS.field('its_lock'),
      'vgic_its_create_its',
      '&its->its_lock',
    );
    this.cache = new XArray(k, 'its translation cache', 'vgic_its_cache');
  }

  ite(device: number, event: number): Ite | undefined {
    return this.devices.get(device)?.get(event);
  }

  /** its_is_collection_mapped + collection_to_vcpu: null for a detached ITE or an unmapped collection. */
  collectionVcpu(collection: number | null): Vcpu | null {
    const id = collection === null ? undefined : this.collections.get(collection);
    return id === undefined || id === null ? null : this.vm.vcpus[id];
  }

  /** The ITEs attached to a collection. */
  *itesOf(collection: number): Generator<Ite> {
    for (const dev of this.devices.values())
      for (const ite of dev.values()) if (ite.collection === collection) yield ite;
  }
}

/** update_affinity: retarget an LPI under its irq_lock (no requeue, no kick). */
function* update_affinity(t: Task, irq: KObj, target: Vcpu | null): Gen {
  t.enter(FN.updateAffinity);
  try {
    const flags = yield raw_spin_lock_irqsave(t, irqLock(t, irq));
    t.at(1);
    wr(t, irq, IRQ.target, target);
    raw_spin_unlock_irqrestore(t, irqLock(t, irq), flags);
  } finally {
    t.leave();
  }
}

/**
 * vgic_add_lpi (§3.15 MAPTI): reuse a live object for the INTID (the lookup reference becomes the ITE's
 * reference) or allocate one with refcount 1 and store it under xa_lock, re-checking for a concurrent
 * add. Then apply the property byte and the pending bit, queueing if pending.
 */
function* vgic_add_lpi(t: Task, vm: Vm, intid: number, target: Vcpu | null): Gen<KObj> {
  t.enter(FN.addLpi);
  try {
    const existing = vgic_get_lpi(t, vm, intid);
    if (existing) return existing;
    t.at(1);
    let irq = vm.newIrq(intid, 'vgic_add_lpi', null, t);
    irq.loc(IRQ.target).value = target;
    t.at(3);
    const flags = yield spin_lock_irqsave(t, vm.lpiXa.lock);
    t.at(4);
    const raced = vm.lpiXa.load(t, intid);
    if (raced && vgic_try_get_irq_ref(t, raced)) {
      kfree(t, irq);
      irq = raced;
    } else vm.lpiXa.store(t, intid, irq);
    spin_unlock_irqrestore(t, vm.lpiXa.lock, flags);
    t.at(8);
    yield* update_lpi_config(t, vm, irq, intid);
    t.at(9);
    yield* vgic_v3_lpi_sync_pending_status(t, vm, irq, intid);
    return irq;
  } finally {
    t.leave();
  }
}

/** update_lpi_config: apply the LPI's property byte (priority, enable), which may queue it. */
function* update_lpi_config(t: Task, vm: Vm, irq: KObj, intid: number): Gen {
  t.enter(FN.updateLpiConfig);
  try {
    const props = vm.lpiProps.get(intid) ?? DEFAULT_LPI_PROPS;
    t.at(1);
    const flags = yield raw_spin_lock_irqsave(t, irqLock(t, irq));
    t.at(2);
    wr(t, irq, IRQ.priority, props.priority & 0xfc);
    setFlag(t, irq, F.ENABLED, props.enabled);
    yield* vgic_queue_irq_unlock(t, vm, irq, flags);
  } finally {
    t.leave();
  }
}

/** vgic_v3_lpi_sync_pending_status: a set bit of the pending table pends and queues the LPI, then is consumed. */
function* vgic_v3_lpi_sync_pending_status(t: Task, vm: Vm, irq: KObj, intid: number): Gen {
  if (!vm.lpiPendingTable.has(intid)) return;
  t.enter(FN.syncPending);
  try {
    t.at(2);
    const flags = yield raw_spin_lock_irqsave(t, irqLock(t, irq));
    setFlag(t, irq, F.PENDING_LATCH, true);
    t.at(3);
    yield* vgic_queue_irq_unlock(t, vm, irq, flags);
    vm.lpiPendingTable.delete(intid);
  } finally {
    t.leave();
  }
}

/** its_free_ite: unlink the ITE and drop its reference (the LPI stays on any AP list it is on). */
function* its_free_ite(t: Task, vm: Vm, its: Its, device: number, event: number): Gen {
  t.enter(FN.freeIte);
  try {
    const ite = its.ite(device, event);
    if (!ite) return;
    its.devices.get(device)!.delete(event);
    t.at(2);
    const irq = rd<KObj>(t, ite.obj, ITS_ITE.field('irq'));
    kfree(t, ite.obj);
    t.at(3);
    yield* vgic_put_irq(t, vm, irq);
  } finally {
    t.leave();
  }
}

/** vgic_its_free_device: free every ITE of the device, then invalidate the translation cache. */
function* vgic_its_free_device(t: Task, vm: Vm, its: Its, device: number): Gen {
  t.enter(FN.freeDevice);
  try {
    for (const ev of [...(its.devices.get(device)?.keys() ?? [])]) {
      t.at(1);
      yield* its_free_ite(t, vm, its, device, ev);
    }
    t.at(2);
    yield* its_invalidate_all_caches(t, vm);
    its.devices.delete(device);
  } finally {
    t.leave();
  }
}

/** vgic_its_invalidate_all_caches: erase every translation-cache entry and drop its reference. */
export function* its_invalidate_all_caches(t: Task, vm: Vm): Gen {
  const its = vm.its;
  if (!its) return;
  t.enter(FN.invalidate);
  try {
    for (const [key, loaded] of its.cache.entries(t)) {
      t.at(1);
      const flags = yield spin_lock_irqsave(t, its.cache.lock);
      const erased = its.cache.erase(t, key);
      spin_unlock_irqrestore(t, its.cache.lock, flags);
      t.at(2);
      // Before CVE-2026-46316's fix the entry loaded by the walk is PUT even if another invalidation
      // erased it first: a double PUT.
      const put = vm.design.fixes.CACHE_INVALIDATE_PUTS_ERASED_ONLY ? erased : loaded;
      if (put) yield* vgic_put_irq(t, vm, put);
    }
  } finally {
    t.leave();
  }
}

function cacheKey(device: number, event: number): number {
  return device * 65536 + event;
}

/**
 * vgic_its_cache_translation: the cache takes its own reference (a GET: the ITE's reference, stable
 * under its_lock, keeps the count above 0) and drops the one of an entry it replaces.
 */
function* vgic_its_cache_translation(t: Task, vm: Vm, its: Its, key: number, irq: KObj): Gen {
  t.enter(FN.cacheTranslation);
  try {
    vgic_get_irq_ref(t, irq);
    t.at(2);
    const flags = yield spin_lock_irqsave(t, its.cache.lock);
    const old = its.cache.store(t, key, irq);
    spin_unlock_irqrestore(t, its.cache.lock, flags);
    t.at(3);
    if (old) yield* vgic_put_irq(t, vm, old);
  } finally {
    t.leave();
  }
}

/**
 * vgic_its_trigger_msi (its_lock held): resolve the translation through the device and ITE tables
 * (vgic_its_resolve_lpi: the ITE exists, its collection is mapped, LPIs are enabled on the target),
 * cache it with its own reference, pend and queue. Returns whether the LPI was made pending.
 */
function* vgic_its_trigger_msi(t: Task, vm: Vm, its: Its, device: number, event: number): Gen<boolean> {
  t.enter(FN.triggerMsi);
  try {
    const ite = its.ite(device, event);
    if (!ite) return false;
    const target = its.collectionVcpu(ite.collection);
    if (!target || !(readOnce<number>(t, target.obj, VCPU.ctlr) & GICR_CTLR.ENABLE_LPIS)) return false;
    t.at(1);
    const irq = rd<KObj>(t, ite.obj, ITS_ITE.field('irq'));
    yield* vgic_its_cache_translation(t, vm, its, cacheKey(device, event), irq);
    t.at(3);
    const flags = yield raw_spin_lock_irqsave(t, irqLock(t, irq));
    setFlag(t, irq, F.PENDING_LATCH, true);
    t.at(4);
    yield* vgic_queue_irq_unlock(t, vm, irq, flags);
    return true;
  } finally {
    t.leave();
  }
}

/** INT: the same as an MSI arriving through the slow path. */
function* its_int(t: Task, vm: Vm, its: Its, device: number, event: number): Gen {
  t.enter(FN.int);
  try {
    t.at(1);
    yield* vgic_its_trigger_msi(t, vm, its, device, event);
  } finally {
    t.leave();
  }
}

/** One command, under its_lock (vgic_its_handle_command). */
function* vgic_its_handle_command(t: Task, vm: Vm, its: Its, c: ItsCommand): Gen {
  t.enter(FN.handle);
  try {
    t.at(1);
    yield mutex_lock(t, its.itsLock);
    t.at(2);
    switch (c.cmd) {
      case 'MAPD':
        // A valid MAPD of a mapped device replaces it: the old ITEs go first.
        t.enter(FN.mapd);
        try {
          if (its.devices.has(c.device)) yield* vgic_its_free_device(t, vm, its, c.device);
          if (c.valid) its.devices.set(c.device, new Map());
        } finally {
          t.leave();
        }
        break;
      case 'MAPC':
        t.enter(FN.mapc);
        try {
          if (c.vcpu === null) {
            // vgic_its_free_collection: the ITEs stay detached even if the collection is mapped again.
            for (const ite of [...its.itesOf(c.collection)]) ite.collection = null;
            its.collections.delete(c.collection);
            t.at(2);
            yield* its_invalidate_all_caches(t, vm);
          } else {
            its.collections.set(c.collection, c.vcpu);
            for (const ite of its.itesOf(c.collection)) {
              t.at(4);
              yield* update_affinity(t, rd<KObj>(t, ite.obj, ITS_ITE.field('irq')), vm.vcpus[c.vcpu]);
            }
          }
        } finally {
          t.leave();
        }
        break;
      case 'MAPTI': {
        t.enter(FN.mapti);
        try {
          const dev = its.devices.get(c.device);
          if (!dev || dev.has(c.event)) break;
          t.at(6);
          const irq = yield* vgic_add_lpi(t, vm, c.intid, its.collectionVcpu(c.collection));
          const ite = vm.k.alloc(ITS_ITE, `ite ${c.device}/${c.event}`, { irq, event_id: c.event }, t);
          dev.set(c.event, { obj: ite, collection: c.collection });
        } finally {
          t.leave();
        }
        break;
      }
      case 'INT':
        yield* its_int(t, vm, its, c.device, c.event);
        break;
      case 'DISCARD':
        t.enter(FN.discard);
        try {
          // Only a mapped interrupt of a mapped collection is discarded (else a command error).
          if (!its.collectionVcpu(its.ite(c.device, c.event)?.collection ?? null)) break;
          yield* its_invalidate_all_caches(t, vm);
          t.at(5);
          yield* its_free_ite(t, vm, its, c.device, c.event);
        } finally {
          t.leave();
        }
        break;
      case 'MOVI': {
        t.enter(FN.movi);
        try {
          const ite = its.ite(c.device, c.event);
          // Both the ITE's collection and the new one must be mapped.
          const to = its.collectionVcpu(c.collection);
          if (!ite || !its.collectionVcpu(ite.collection) || !to) break;
          ite.collection = c.collection;
          yield* its_invalidate_all_caches(t, vm);
          t.at(4);
          yield* update_affinity(t, rd<KObj>(t, ite.obj, ITS_ITE.field('irq')), to);
        } finally {
          t.leave();
        }
        break;
      }
      case 'MOVALL': {
        t.enter(FN.movall);
        try {
          const to = vm.vcpus[c.to];
          if (c.from === c.to) break;
          for (const [intid] of vm.lpiXa.entries(t)) {
            t.at(2);
            const irq = vgic_get_lpi(t, vm, intid);
            if (!irq) continue;
            if (!vm.design.fixes.MOVALL_FILTER_SOURCE || rd(t, irq, IRQ.target) === vm.vcpus[c.from]) {
              yield* update_affinity(t, irq, to);
            }
            yield* vgic_put_irq(t, vm, irq);
          }
          yield* its_invalidate_all_caches(t, vm);
        } finally {
          t.leave();
        }
        break;
      }
      case 'CLEAR': {
        t.enter(FN.clear);
        try {
          const ite = its.ite(c.device, c.event);
          if (!ite) break;
          // Written without irq_lock in the 2025 code.
          const irq = rd<KObj>(t, ite.obj, ITS_ITE.field('irq'));
          t.at(2);
          const f = rd<number>(t, irq, IRQ.flags);
          yield POINT;
          wr(t, irq, IRQ.flags, f & ~F.PENDING_LATCH);
        } finally {
          t.leave();
        }
        break;
      }
      case 'INV': {
        t.enter(FN.inv);
        try {
          const ite = its.ite(c.device, c.event);
          if (!ite) break;
          const irq = rd<KObj>(t, ite.obj, ITS_ITE.field('irq'));
          t.at(1);
          yield* update_lpi_config(t, vm, irq, rd<number>(t, irq, IRQ.intid));
        } finally {
          t.leave();
        }
        break;
      }
    }
    mutex_unlock(t, its.itsLock);
  } finally {
    t.leave();
  }
}

/** A CWRITER write: the commands run under cmd_lock, each under its_lock. */
export function* vgic_its_process_commands(t: Task, vm: Vm, cmds: readonly ItsCommand[]): Gen {
  const its = vm.its;
  if (!its) return;
  t.enter(FN.process);
  try {
    t.at(1);
    yield mutex_lock(t, its.cmdLock);
    for (const c of cmds) {
      t.at(2);
      yield* vgic_its_handle_command(t, vm, its, c);
    }
    mutex_unlock(t, its.cmdLock);
  } finally {
    t.leave();
  }
}

/** The MSI fast path (vgic_its_inject_cached_translation): cache lookup, pend, queue, PUT. */
function* vgic_its_inject_cached_translation(t: Task, vm: Vm, device: number, event: number): Gen<boolean> {
  const its = vm.its;
  if (!its) return false;
  t.enter(FN.injectCached);
  try {
    t.enter(FN.checkCache);
    const irq = xa_load_get_ref(t, its.cache, cacheKey(device, event));
    t.leave();
    if (!irq) return false;
    t.at(2);
    const flags = yield raw_spin_lock_irqsave(t, irqLock(t, irq));
    setFlag(t, irq, F.PENDING_LATCH, true);
    t.at(3);
    yield* vgic_queue_irq_unlock(t, vm, irq, flags);
    t.at(4);
    yield* vgic_put_irq(t, vm, irq);
    return true;
  } finally {
    t.leave();
  }
}

/**
 * vgic_its_inject_msi (KVM_SIGNAL_MSI from userspace, process context): the cached translation when
 * there is one, else the slow path under its_lock (a mutex, which is why irqfd's atomic injection
 * takes only the cached one). Returns whether the MSI was delivered.
 */
export function* vgic_its_inject_msi(t: Task, vm: Vm, device: number, event: number): Gen<boolean> {
  if (yield* vgic_its_inject_cached_translation(t, vm, device, event)) return true;
  const its = vm.its;
  if (!its) return false;
  t.enter(FN.injectMsi);
  try {
    t.at(1);
    yield mutex_lock(t, its.itsLock);
    t.at(2);
    const delivered = yield* vgic_its_trigger_msi(t, vm, its, device, event);
    mutex_unlock(t, its.itsLock);
    return delivered;
  } finally {
    t.leave();
  }
}
