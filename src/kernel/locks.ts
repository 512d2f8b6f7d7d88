import { acquired, type Footprint } from '../explore/footprint.ts';
import type { Op } from '../explore/ops.ts';
import { fault } from './bug.ts';
import { kasanAccess } from './kasan.ts';
import type { Kernel } from './kernel.ts';
import type { LockClass, LockInstance, LockKind } from './lockdep.ts';
import { BadPtr, type Field, type KObj, type Loc } from './mem.ts';
import { mightSleep } from './sched.ts';
import { defineFn, withFrame } from './stack.ts';
import type { Task } from './task.ts';

/**
 * A lock instance: raw_spinlock_t, spinlock_t or mutex. It lives in a field of a modelled object (so a
 * freed or poisoned container is caught when the lock word is touched); its class is its init site.
 */
export class Lock implements LockInstance {
  owner: Task | null = null;
  /** KCSAN: the clock published by the last release. */
  vc: number[] | null = null;
  constructor(
    readonly kind: LockKind,
    readonly cls: LockClass,
    readonly loc: Loc,
    /**
     * What a release writes, for partial-order reduction: not the lock word. A blocking acquisition
     * then conflicts with the other acquisitions only, so the explorer reverses the order of whole
     * critical sections (acquisition against acquisition). Were the release to conflict with the next
     * acquisition, that pair would be the race DPOR tries to reverse, which is impossible (the lock is
     * held before the release), and the feasible reversal would be missed. A trylock reads it: whether
     * it succeeds depends on where the release falls.
     */
    readonly releaseId: number,
  ) {}

  get addr(): bigint {
    return this.loc.addr;
  }
}

/** Creates the lock in `obj.field`, of class `key` (the init site) printed as `name`. */
export function initLock(
  k: Kernel,
  kind: LockKind,
  obj: KObj,
  f: Field<Lock>,
  key: string,
  name: string,
  /** The lock's location id, when it was reserved earlier (an object made at its first use). */
  id = k.exec.newLocId(),
): Lock {
  const l = new Lock(kind, k.lockdep.classFor(key, name, kind), obj.loc(f), id);
  obj.loc(f).value = l;
  return l;
}

/** The lock stored in `p->f`; a bad pointer faults, a freed container is a KASAN report. */
export function lockAt(t: Task, p: KObj | BadPtr, f: Field<Lock>): Lock {
  if (p instanceof BadPtr) fault(t, p, f.off, false);
  const loc = p.loc(f);
  if (p.freed && t.k.switches.KASAN && t.k.exec.inStep) kasanAccess(t, loc, false);
  return loc.value as Lock;
}

const IRQS_ON = 0;
const IRQS_OFF = 128;

class LockOp implements Op {
  constructor(
    readonly t: Task,
    readonly l: Lock,
    readonly sub: number,
    readonly flags: number,
  ) {}
  enabled(): boolean {
    return this.l.owner === null;
  }
  perform(): unknown {
    take(this.t, this.l, this.sub, false);
    return this.flags;
  }
  label(): string {
    return `lock ${this.l.cls.name}${this.sub ? `/${this.sub}` : ''}`;
  }
  waitsFor(): unknown {
    return this.l;
  }
  footprint(fp: Footprint): void {
    acquired(fp, this.l.loc.id, this.l.releaseId);
  }
}

class TryLockOp implements Op {
  constructor(
    readonly t: Task,
    readonly l: Lock,
  ) {}
  enabled(): boolean {
    return true;
  }
  perform(): unknown {
    const t = this.t;
    t.k.exec.fp.write(this.l.loc.id);
    t.k.exec.fp.read(this.l.releaseId);
    if (this.l.owner !== null) {
      if (this.l.kind !== 'mutex' && !sleeps(t, this.l)) t.preemptEnable();
      return false;
    }
    t.k.lockdep.acquire(t, this.l, 0, { trylock: true });
    take(t, this.l, 0, true);
    return true;
  }
  label(): string {
    return `trylock ${this.l.cls.name}`;
  }
}

function take(t: Task, l: Lock, sub: number, trylock: boolean): void {
  if (t.k.exec.recording)
    t.k.exec.note(
      `${trylock ? 'trylock' : 'lock'} ${l.cls.name}${sub ? `/${sub}` : ''} (${l.loc.obj.label})`,
    );
  l.owner = t;
  acquired(t.k.exec.fp, l.loc.id, trylock ? -1 : l.releaseId);
  if (l.vc) t.join(l.vc);
  t.k.lockdep.push(t, l, sub, t.stack, 0, trylock);
}

/** PREEMPT_RT's spinlock_t: an rtmutex that may sleep; irqsave leaves IRQs on, preemption stays on. */
function sleeps(t: Task, l: Lock): boolean {
  return l.kind === 'spin' && t.k.switches.PREEMPT_RT;
}

const RT_SPIN_LOCK = defineFn({
  name: 'rt_spin_lock',
  file: 'kernel/locking/spinlock_rt.c',
  steps: ['might_resched'],
  lines: { might_resched: 48 },
});

function announce(t: Task, l: Lock, sub: number, irqsave: boolean): Op {
  const flags = t.irqsOff ? IRQS_OFF : IRQS_ON;
  if (sleeps(t, l)) {
    const caller = t.stack;
    t.stack = withFrame(caller, RT_SPIN_LOCK, 'might_resched');
    mightSleep(t);
    t.stack = caller;
  } else {
    if (irqsave) t.setIrqsOff(true);
    if (l.kind === 'mutex') mightSleep(t);
    else t.preemptDisable();
  }
  t.k.lockdep.acquire(t, l, sub);
  return new LockOp(t, l, sub, flags);
}

function unlock(t: Task, l: Lock): void {
  const held = t.k.lockdep.release(t, l);
  if (!held && l.owner !== t) return;
  if (t.k.exec.recording) t.k.exec.note(`unlock ${l.cls.name} (${l.loc.obj.label})`);
  l.owner = null;
  t.k.exec.fp.write(l.releaseId);
  l.vc = t.release();
  if (l.kind !== 'mutex' && !sleeps(t, l)) t.preemptEnable();
}

/** `yield raw_spin_lock(t, l)`: announces the acquisition; the lock is held when the yield returns. */
export function raw_spin_lock(t: Task, l: Lock): Op {
  return announce(t, l, 0, false);
}

export function raw_spin_lock_nested(t: Task, l: Lock, subclass: number): Op {
  return announce(t, l, subclass, false);
}

/** `const flags = yield raw_spin_lock_irqsave(t, l)`: IRQs go off before spinning, as in the kernel. */
export function raw_spin_lock_irqsave(t: Task, l: Lock): Op {
  return announce(t, l, 0, true);
}

export function raw_spin_lock_irq(t: Task, l: Lock): Op {
  return announce(t, l, 0, true);
}

export function raw_spin_trylock(t: Task, l: Lock): Op {
  if (!sleeps(t, l)) t.preemptDisable();
  return new TryLockOp(t, l);
}

export function raw_spin_unlock(t: Task, l: Lock): void {
  unlock(t, l);
}

export function raw_spin_unlock_irqrestore(t: Task, l: Lock, flags: unknown): void {
  unlock(t, l);
  if (flags === IRQS_ON) t.setIrqsOff(false);
}

export function raw_spin_unlock_irq(t: Task, l: Lock): void {
  const rt = sleeps(t, l);
  unlock(t, l);
  if (!rt) t.setIrqsOff(false);
}

// spinlock_t has the same operations: its class's wait type differs, and under PREEMPT_RT it sleeps
// (the checks above ask the lock's kind).
export const spin_lock = raw_spin_lock;
export const spin_lock_nested = raw_spin_lock_nested;
export const spin_lock_irqsave = raw_spin_lock_irqsave;
export const spin_lock_irq = raw_spin_lock_irq;
export const spin_trylock = raw_spin_trylock;
export const spin_unlock = raw_spin_unlock;
export const spin_unlock_irqrestore = raw_spin_unlock_irqrestore;
export const spin_unlock_irq = raw_spin_unlock_irq;

export function mutex_lock(t: Task, l: Lock): Op {
  return announce(t, l, 0, false);
}

export function mutex_lock_nested(t: Task, l: Lock, subclass: number): Op {
  return announce(t, l, subclass, false);
}

export function mutex_trylock(t: Task, l: Lock): Op {
  return new TryLockOp(t, l);
}

export function mutex_unlock(t: Task, l: Lock): void {
  unlock(t, l);
}

/** local_irq_save / local_irq_restore. */
export function local_irq_save(t: Task): number {
  const flags = t.irqsOff ? IRQS_OFF : IRQS_ON;
  t.setIrqsOff(true);
  return flags;
}

export function local_irq_restore(t: Task, flags: number): void {
  t.setIrqsOff(flags === IRQS_OFF);
}

export function lockdep_assert_held(t: Task, l: Lock): void {
  t.k.lockdep.assertHeld(t, l);
}

/** might_lock: lockdep's checks of an acquisition, without taking the lock. */
export function might_lock(t: Task, l: Lock): void {
  t.k.lockdep.acquire(t, l, 0);
  t.k.lockdep.push(t, l, 0, t.stack, 0, false);
  t.k.lockdep.release(t, l);
}
