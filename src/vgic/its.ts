import { POINT } from '../explore/ops.ts';
import { poke, rd, readOnce, wr } from '../kernel/access.ts';
import { kernelFn } from '../kernel/function.ts';
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
import type { Task } from '../kernel/task.ts';
import { XArray } from '../kernel/xarray.ts';
import { type Gen, irqLock, setFlag } from './irq.ts';
import { F, GICR_CTLR, IRQ, ITE, ITS, ITS_ITE, VCPU, VGIC_ITS } from './layout.ts';
import { vgic_queue_irq_unlock } from './queue.ts';
import {
  vgic_free_lpi,
  vgic_get_irq_ref,
  vgic_get_lpi,
  vgic_put_irq,
  vgic_try_get_irq_ref,
  XA_LOAD_GET_REF_STEPS,
  xa_load_get_ref,
} from './refs.ts';
import type { Vcpu, Vm } from './vm.ts';

const FILE = 'arch/arm64/kvm/vgic/vgic-its.c';
/** The property byte of an LPI the scenario gives none for. */
const DEFAULT_LPI_PROPS = { priority: 0xa0, enabled: true };

/** The ITS commands the model has: those that change AP lists or LPI references. */
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

/** The command of one kind, as its handler takes it. */
type ItsCmd<K extends ItsCommand['cmd']> = Extract<ItsCommand, { cmd: K }>;

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
    this.cmdLock = initLock(k, 'mutex', this.obj, ITS.cmdLock, 'vgic_its_create_cmd', '&its->cmd_lock');
    this.itsLock = initLock(k, 'mutex', this.obj, ITS.itsLock, 'vgic_its_create_its', '&its->its_lock');
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
const update_affinity = kernelFn(
  { name: 'update_affinity', file: FILE, steps: ['set_target'] },
  function* (t, irq: KObj, target: Vcpu | null): Gen {
    const flags = yield raw_spin_lock_irqsave(t, irqLock(t, irq));
    t.at('set_target');
    wr(t, irq, IRQ.target, target);
    raw_spin_unlock_irqrestore(t, irqLock(t, irq), flags);
  },
);

/**
 * vgic_add_lpi (for MAPTI): reuse a live object for the INTID (the lookup reference becomes the ITE's
 * reference) or allocate one with refcount 1 and store it under xa_lock, re-checking for a concurrent
 * add. Then apply the property byte and the pending bit, queueing if pending.
 */
const vgic_add_lpi = kernelFn(
  {
    name: 'vgic_add_lpi',
    file: FILE,
    steps: ['alloc', 'xa_lock', 'xa_load', 'free_dead', 'update_lpi_config', 'sync_pending_status'],
  },
  function* (t, vm: Vm, intid: number, target: Vcpu | null): Gen<KObj> {
    const existing = yield* vgic_get_lpi(t, vm, intid);
    if (existing) return existing;
    t.at('alloc');
    let irq = vm.newIrq(intid, 'vgic_add_lpi', null, t);
    poke(irq, IRQ.target, target);
    t.at('xa_lock');
    const flags = yield spin_lock_irqsave(t, vm.lpiXa.lock);
    t.at('xa_load');
    const raced = vm.lpiXa.load(t, intid);
    if (raced && vgic_try_get_irq_ref(t, raced)) {
      kfree(t, irq);
      irq = raced;
    } else {
      vm.lpiXa.store(t, intid, irq);
      // With LPI_RELEASE_UNDER_XA_LOCK a dead object still in the slot (its last put was a PUT_NR)
      // is this function's to free; without it, it is left to whoever erases the slot.
      if (raced && vm.design.fixes.LPI_RELEASE_UNDER_XA_LOCK) {
        t.at('free_dead');
        vgic_free_lpi(t, vm, raced);
      }
    }
    spin_unlock_irqrestore(t, vm.lpiXa.lock, flags);
    t.at('update_lpi_config');
    yield* update_lpi_config(t, vm, irq, intid);
    t.at('sync_pending_status');
    yield* vgic_v3_lpi_sync_pending_status(t, vm, irq, intid);
    return irq;
  },
);

/** update_lpi_config: apply the LPI's property byte (priority, enable), which may queue it. */
const update_lpi_config = kernelFn(
  { name: 'update_lpi_config', file: FILE, steps: ['lock', 'set_props'] },
  function* (t, vm: Vm, irq: KObj, intid: number): Gen {
    const props = vm.lpiProps.get(intid) ?? DEFAULT_LPI_PROPS;
    t.at('lock');
    const flags = yield raw_spin_lock_irqsave(t, irqLock(t, irq));
    t.at('set_props');
    wr(t, irq, IRQ.priority, props.priority & 0xfc);
    setFlag(t, irq, F.ENABLED, props.enabled);
    yield* vgic_queue_irq_unlock(t, vm, irq, flags);
  },
);

/** vgic_v3_lpi_sync_pending_status: a set bit of the pending table pends and queues the LPI, then is consumed. */
const vgic_v3_lpi_sync_pending_status = kernelFn(
  {
    name: 'vgic_v3_lpi_sync_pending_status',
    file: 'arch/arm64/kvm/vgic/vgic-v3.c',
    steps: ['lock', 'queue'],
  },
  function* (t, vm: Vm, irq: KObj, intid: number): Gen {
    if (!vm.lpiPendingTable.has(intid)) return;
    t.at('lock');
    const flags = yield raw_spin_lock_irqsave(t, irqLock(t, irq));
    setFlag(t, irq, F.PENDING_LATCH, true);
    t.at('queue');
    yield* vgic_queue_irq_unlock(t, vm, irq, flags);
    vm.lpiPendingTable.delete(intid);
  },
);

/** its_free_ite: unlink the ITE and drop its reference (the LPI stays on any AP list it is on). */
const its_free_ite = kernelFn(
  { name: 'its_free_ite', file: FILE, steps: ['kfree', 'put_irq'] },
  function* (t, vm: Vm, its: Its, device: number, event: number): Gen {
    const ite = its.ite(device, event);
    if (!ite) return;
    its.devices.get(device)!.delete(event);
    t.at('kfree');
    const irq = rd(t, ite.obj, ITE.irq);
    kfree(t, ite.obj);
    t.at('put_irq');
    yield* vgic_put_irq(t, vm, irq);
  },
);

/** vgic_its_free_device: free every ITE of the device, then invalidate the translation cache. */
const vgic_its_free_device = kernelFn(
  { name: 'vgic_its_free_device', file: FILE, steps: ['free_ite', 'invalidate_cache'] },
  function* (t, vm: Vm, its: Its, device: number): Gen {
    for (const ev of [...(its.devices.get(device)?.keys() ?? [])]) {
      t.at('free_ite');
      yield* its_free_ite(t, vm, its, device, ev);
    }
    t.at('invalidate_cache');
    yield* its_invalidate_all_caches(t, vm);
    its.devices.delete(device);
  },
);

/** vgic_its_invalidate_all_caches: erase every translation-cache entry and drop its reference. */
export const its_invalidate_all_caches = kernelFn(
  { name: 'vgic_its_invalidate_all_caches', file: FILE, steps: ['erase', 'put_irq'] },
  function* (t, vm: Vm): Gen {
    const its = vm.its;
    if (!its) return;
    for (const [key, loaded] of its.cache.entries(t)) {
      t.at('erase');
      const flags = yield spin_lock_irqsave(t, its.cache.lock);
      const erased = its.cache.erase(t, key);
      spin_unlock_irqrestore(t, its.cache.lock, flags);
      t.at('put_irq');
      // Before CVE-2026-46316's fix the entry loaded by the walk is PUT even if another invalidation
      // erased it first: a double PUT.
      const put = vm.design.fixes.CACHE_INVALIDATE_PUTS_ERASED_ONLY ? erased : loaded;
      if (put) yield* vgic_put_irq(t, vm, put);
    }
  },
);

function cacheKey(device: number, event: number): number {
  return device * 65536 + event;
}

/**
 * vgic_its_cache_translation: the cache takes its own reference (a GET: the ITE's reference, stable
 * under its_lock, keeps the count above 0) and drops the one of an entry it replaces.
 */
const vgic_its_cache_translation = kernelFn(
  { name: 'vgic_its_cache_translation', file: FILE, steps: ['store', 'put_irq'] },
  function* (t, vm: Vm, its: Its, key: number, irq: KObj): Gen {
    vgic_get_irq_ref(t, irq);
    t.at('store');
    const flags = yield spin_lock_irqsave(t, its.cache.lock);
    const old = its.cache.store(t, key, irq);
    spin_unlock_irqrestore(t, its.cache.lock, flags);
    t.at('put_irq');
    if (old) yield* vgic_put_irq(t, vm, old);
  },
);

/**
 * vgic_its_trigger_msi (its_lock held): resolve the translation through the device and ITE tables
 * (vgic_its_resolve_lpi: the ITE exists, its collection is mapped, LPIs are enabled on the target),
 * cache it with its own reference, pend and queue. Returns whether the LPI was made pending.
 */
const vgic_its_trigger_msi = kernelFn(
  { name: 'vgic_its_trigger_msi', file: FILE, steps: ['cache_translation', 'lock', 'queue'] },
  function* (t, vm: Vm, its: Its, device: number, event: number): Gen<boolean> {
    const ite = its.ite(device, event);
    if (!ite) return false;
    const target = its.collectionVcpu(ite.collection);
    if (!target || !(readOnce(t, target.obj, VCPU.ctlr) & GICR_CTLR.ENABLE_LPIS)) return false;
    t.at('cache_translation');
    const irq = rd(t, ite.obj, ITE.irq);
    yield* vgic_its_cache_translation(t, vm, its, cacheKey(device, event), irq);
    t.at('lock');
    const flags = yield raw_spin_lock_irqsave(t, irqLock(t, irq));
    setFlag(t, irq, F.PENDING_LATCH, true);
    t.at('queue');
    yield* vgic_queue_irq_unlock(t, vm, irq, flags);
    return true;
  },
);

/** MAPD: map a device with no ITEs, or unmap it. */
const vgic_its_cmd_handle_mapd = kernelFn(
  { name: 'vgic_its_cmd_handle_mapd', file: FILE, steps: [] },
  function* (t, vm: Vm, its: Its, c: ItsCmd<'MAPD'>): Gen {
    // A valid MAPD of a mapped device replaces it: the old ITEs go first.
    if (its.devices.has(c.device)) yield* vgic_its_free_device(t, vm, its, c.device);
    if (c.valid) its.devices.set(c.device, new Map());
  },
);

/** MAPC: map a collection to a vCPU (retargeting its LPIs), or unmap it. */
const vgic_its_cmd_handle_mapc = kernelFn(
  { name: 'vgic_its_cmd_handle_mapc', file: FILE, steps: ['invalidate_cache', 'update_affinity'] },
  function* (t, vm: Vm, its: Its, c: ItsCmd<'MAPC'>): Gen {
    if (c.vcpu === null) {
      // vgic_its_free_collection: the ITEs stay detached even if the collection is mapped again.
      for (const ite of [...its.itesOf(c.collection)]) ite.collection = null;
      its.collections.delete(c.collection);
      t.at('invalidate_cache');
      yield* its_invalidate_all_caches(t, vm);
    } else {
      its.collections.set(c.collection, c.vcpu);
      for (const ite of its.itesOf(c.collection)) {
        t.at('update_affinity');
        yield* update_affinity(t, rd(t, ite.obj, ITE.irq), vm.vcpus[c.vcpu]);
      }
    }
  },
);

/** MAPTI: an ITE for an event of a mapped device that has none. */
const vgic_its_cmd_handle_mapi = kernelFn(
  { name: 'vgic_its_cmd_handle_mapi', file: FILE, steps: ['add_lpi'] },
  function* (t, vm: Vm, its: Its, c: ItsCmd<'MAPTI'>): Gen {
    const dev = its.devices.get(c.device);
    if (!dev || dev.has(c.event)) return;
    t.at('add_lpi');
    const irq = yield* vgic_add_lpi(t, vm, c.intid, its.collectionVcpu(c.collection));
    const ite = vm.k.alloc(ITS_ITE, `ite ${c.device}/${c.event}`, { irq, event_id: c.event }, t);
    dev.set(c.event, { obj: ite, collection: c.collection });
  },
);

/** INT: the same as an MSI arriving through the slow path. */
const vgic_its_cmd_handle_int = kernelFn(
  { name: 'vgic_its_cmd_handle_int', file: FILE, steps: ['trigger_msi'] },
  function* (t, vm: Vm, its: Its, c: ItsCmd<'INT'>): Gen {
    t.at('trigger_msi');
    yield* vgic_its_trigger_msi(t, vm, its, c.device, c.event);
  },
);

/** DISCARD: unmap an interrupt. */
const vgic_its_cmd_handle_discard = kernelFn(
  { name: 'vgic_its_cmd_handle_discard', file: FILE, steps: ['free_ite'] },
  function* (t, vm: Vm, its: Its, c: ItsCmd<'DISCARD'>): Gen {
    // Only a mapped interrupt of a mapped collection is discarded (else a command error).
    if (!its.collectionVcpu(its.ite(c.device, c.event)?.collection ?? null)) return;
    yield* its_invalidate_all_caches(t, vm);
    t.at('free_ite');
    yield* its_free_ite(t, vm, its, c.device, c.event);
  },
);

/** MOVI: move an interrupt to another collection. */
const vgic_its_cmd_handle_movi = kernelFn(
  { name: 'vgic_its_cmd_handle_movi', file: FILE, steps: ['update_affinity'] },
  function* (t, vm: Vm, its: Its, c: ItsCmd<'MOVI'>): Gen {
    const ite = its.ite(c.device, c.event);
    // Both the ITE's collection and the new one must be mapped.
    const to = its.collectionVcpu(c.collection);
    if (!ite || !its.collectionVcpu(ite.collection) || !to) return;
    ite.collection = c.collection;
    yield* its_invalidate_all_caches(t, vm);
    t.at('update_affinity');
    yield* update_affinity(t, rd(t, ite.obj, ITE.irq), to);
  },
);

/** MOVALL: retarget the LPIs of one vCPU (of every vCPU before the fix) to another. */
const vgic_its_cmd_handle_movall = kernelFn(
  { name: 'vgic_its_cmd_handle_movall', file: FILE, steps: ['get_irq'] },
  function* (t, vm: Vm, _its: Its, c: ItsCmd<'MOVALL'>): Gen {
    const to = vm.vcpus[c.to];
    if (c.from === c.to) return;
    for (const [intid] of vm.lpiXa.entries(t)) {
      t.at('get_irq');
      const irq = yield* vgic_get_lpi(t, vm, intid);
      if (!irq) continue;
      if (!vm.design.fixes.MOVALL_FILTER_SOURCE || rd(t, irq, IRQ.target) === vm.vcpus[c.from]) {
        yield* update_affinity(t, irq, to);
      }
      yield* vgic_put_irq(t, vm, irq);
    }
    yield* its_invalidate_all_caches(t, vm);
  },
);

/** CLEAR: clear the pending latch of a mapped interrupt. */
const vgic_its_cmd_handle_clear = kernelFn(
  { name: 'vgic_its_cmd_handle_clear', file: FILE, steps: ['clear_pending'] },
  function* (t, _vm: Vm, its: Its, c: ItsCmd<'CLEAR'>): Gen {
    const ite = its.ite(c.device, c.event);
    if (!ite) return;
    // Written without irq_lock in the 2025 code.
    const irq = rd(t, ite.obj, ITE.irq);
    t.at('clear_pending');
    const f = rd(t, irq, IRQ.flags);
    yield POINT;
    wr(t, irq, IRQ.flags, f & ~F.PENDING_LATCH);
  },
);

/** INV: re-read the property byte of a mapped interrupt. */
const vgic_its_cmd_handle_inv = kernelFn(
  { name: 'vgic_its_cmd_handle_inv', file: FILE, steps: ['update_lpi_config'] },
  function* (t, vm: Vm, its: Its, c: ItsCmd<'INV'>): Gen {
    const ite = its.ite(c.device, c.event);
    if (!ite) return;
    const irq = rd(t, ite.obj, ITE.irq);
    t.at('update_lpi_config');
    yield* update_lpi_config(t, vm, irq, rd(t, irq, IRQ.intid));
  },
);

/** One command, under its_lock (vgic_its_handle_command). */
const vgic_its_handle_command = kernelFn(
  { name: 'vgic_its_handle_command', file: FILE, steps: ['lock', 'dispatch'] },
  function* (t, vm: Vm, its: Its, c: ItsCommand): Gen {
    t.at('lock');
    yield mutex_lock(t, its.itsLock);
    t.at('dispatch');
    switch (c.cmd) {
      case 'MAPD':
        yield* vgic_its_cmd_handle_mapd(t, vm, its, c);
        break;
      case 'MAPC':
        yield* vgic_its_cmd_handle_mapc(t, vm, its, c);
        break;
      case 'MAPTI':
        yield* vgic_its_cmd_handle_mapi(t, vm, its, c);
        break;
      case 'INT':
        yield* vgic_its_cmd_handle_int(t, vm, its, c);
        break;
      case 'DISCARD':
        yield* vgic_its_cmd_handle_discard(t, vm, its, c);
        break;
      case 'MOVI':
        yield* vgic_its_cmd_handle_movi(t, vm, its, c);
        break;
      case 'MOVALL':
        yield* vgic_its_cmd_handle_movall(t, vm, its, c);
        break;
      case 'CLEAR':
        yield* vgic_its_cmd_handle_clear(t, vm, its, c);
        break;
      case 'INV':
        yield* vgic_its_cmd_handle_inv(t, vm, its, c);
        break;
    }
    mutex_unlock(t, its.itsLock);
  },
);

/** A CWRITER write: the commands run under cmd_lock, each under its_lock. */
export const vgic_its_process_commands = kernelFn(
  { name: 'vgic_its_process_commands', file: FILE, steps: ['lock', 'handle_command'] },
  function* (t, vm: Vm, cmds: readonly ItsCommand[]): Gen {
    const its = vm.its;
    if (!its) return;
    t.at('lock');
    yield mutex_lock(t, its.cmdLock);
    for (const c of cmds) {
      t.at('handle_command');
      yield* vgic_its_handle_command(t, vm, its, c);
    }
    mutex_unlock(t, its.cmdLock);
  },
);

/** vgic_its_check_cache: the cached translation, with a reference. */
const vgic_its_check_cache = kernelFn(
  { name: 'vgic_its_check_cache', file: FILE, steps: XA_LOAD_GET_REF_STEPS },
  function* (t, vm: Vm, its: Its, device: number, event: number): Gen<KObj | null> {
    return yield* xa_load_get_ref(t, vm, its.cache, cacheKey(device, event));
  },
);

/** The MSI fast path (vgic_its_inject_cached_translation): cache lookup, pend, queue, PUT. */
const vgic_its_inject_cached_translation = kernelFn(
  { name: 'vgic_its_inject_cached_translation', file: FILE, steps: ['lock', 'queue', 'put_irq'] },
  function* (t, vm: Vm, device: number, event: number): Gen<boolean> {
    const its = vm.its;
    if (!its) return false;
    const irq = yield* vgic_its_check_cache(t, vm, its, device, event);
    if (!irq) return false;
    t.at('lock');
    const flags = yield raw_spin_lock_irqsave(t, irqLock(t, irq));
    setFlag(t, irq, F.PENDING_LATCH, true);
    t.at('queue');
    yield* vgic_queue_irq_unlock(t, vm, irq, flags);
    t.at('put_irq');
    yield* vgic_put_irq(t, vm, irq);
    return true;
  },
);

/** vgic_its_inject_msi's slow path: the translation under its_lock. */
const vgic_its_inject_msi_slow = kernelFn(
  { name: 'vgic_its_inject_msi', file: FILE, steps: ['lock', 'trigger_msi'] },
  function* (t, vm: Vm, its: Its, device: number, event: number): Gen<boolean> {
    t.at('lock');
    yield mutex_lock(t, its.itsLock);
    t.at('trigger_msi');
    const delivered = yield* vgic_its_trigger_msi(t, vm, its, device, event);
    mutex_unlock(t, its.itsLock);
    return delivered;
  },
);

/**
 * vgic_its_inject_msi (KVM_SIGNAL_MSI from userspace, process context): the cached translation when
 * there is one, else the slow path under its_lock (a mutex, which is why irqfd's atomic injection
 * takes only the cached one). Returns whether the MSI was delivered.
 */
export function* vgic_its_inject_msi(t: Task, vm: Vm, device: number, event: number): Gen<boolean> {
  if (yield* vgic_its_inject_cached_translation(t, vm, device, event)) return true;
  const its = vm.its;
  if (!its) return false;
  return yield* vgic_its_inject_msi_slow(t, vm, its, device, event);
}
