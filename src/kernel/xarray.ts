import { peek, readOnce, writeOnce } from './access.ts';
import type { Kernel } from './kernel.ts';
import type { LockKind } from './lockdep.ts';
import { initLock, type Lock } from './locks.ts';
import { type KObj, StructType } from './mem.ts';
import type { Task } from './task.ts';

const XA_TYPE = new StructType('xarray', 16, [
  { name: 'xa_lock', size: 4 },
  { name: 'xa_head', off: 8 },
]);
const SLOT_TYPE = new StructType('xa_slot', 8, [{ name: 'entry' }]);
const ENTRY = SLOT_TYPE.field<KObj | null>('entry');

/**
 * An xarray: index -> object, one instrumented slot per index, with its `xa_lock` (a spinlock_t).
 * Stores and erases require the lock (the `__xa_*` forms); loads are RCU readers.
 */
export class XArray {
  readonly obj: KObj;
  readonly lock: Lock;
  private readonly slots = new Map<number, KObj>();

  constructor(
    private readonly k: Kernel,
    label: string,
    lockKey = 'xa_init_flags',
    /** The lock's kind and lockdep name, for a structure whose lock is not an xa_lock. */
    lock: { kind: LockKind; name: string } = { kind: 'spin', name: '&xa->xa_lock' },
  ) {
    this.obj = k.alloc(XA_TYPE, label, {}, null, false);
    this.lock = initLock(k, lock.kind, this.obj, XA_TYPE.field('xa_lock'), lockKey, lock.name);
  }

  private slot(index: number): KObj {
    let s = this.slots.get(index);
    if (!s) {
      s = this.k.alloc(SLOT_TYPE, `xa slot ${index}`, { entry: null }, null, false);
      this.slots.set(index, s);
    }
    return s;
  }

  /** xa_load: takes and drops rcu_read_lock itself; the caller needs its own protection for the result. */
  load(t: Task, index: number): KObj | null {
    t.k.rcu.readLock(t);
    const v = readOnce(t, this.slot(index), ENTRY);
    t.k.rcu.readUnlock(t);
    return v;
  }

  /** __xa_store: the caller holds xa_lock. Returns the old entry. */
  store(t: Task, index: number, v: KObj | null): KObj | null {
    t.k.lockdep.assertHeld(t, this.lock);
    const s = this.slot(index);
    const old = readOnce(t, s, ENTRY);
    writeOnce(t, s, ENTRY, v);
    return old;
  }

  /** __xa_erase: the caller holds xa_lock. Returns the erased entry. */
  erase(t: Task, index: number): KObj | null {
    return this.store(t, index, null);
  }

  /** Entries without instrumentation (oracles, state dumps), in index order. */
  peekEntries(): [number, KObj][] {
    const out: [number, KObj][] = [];
    for (const [i, s] of [...this.slots].sort((a, b) => a[0] - b[0])) {
      const v = peek(s, ENTRY);
      if (v) out.push([i, v]);
    }
    return out;
  }

  /** Entries in index order, reading each slot (xa_for_each under the lock or RCU). */
  entries(t: Task): [number, KObj][] {
    const out: [number, KObj][] = [];
    for (const [i, s] of [...this.slots].sort((a, b) => a[0] - b[0])) {
      const v = readOnce(t, s, ENTRY);
      if (v) out.push([i, v]);
    }
    return out;
  }
}
