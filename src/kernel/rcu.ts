import { type Op, Wait } from '../explore/ops.ts';
import { readOnce, writeOnce } from './access.ts';
import { kernelFn } from './function.ts';
import type { Kernel } from './kernel.ts';
import type { LockClass } from './lockdep.ts';
import { type KObj, StructType } from './mem.ts';
import { mightSleep } from './sched.ts';
import { kfree } from './slab.ts';
import { defineFn, type Frame, withFrame } from './stack.ts';
import type { Task } from './task.ts';

const KVFREE_CALL_RCU = defineFn({ name: 'kvfree_call_rcu', file: 'mm/slab_common.c', steps: [] });
const RCU_CORE = defineFn({ name: 'rcu_core', file: 'kernel/rcu/tree.c', steps: [] });
const HANDLE_SOFTIRQS = defineFn({ name: 'handle_softirqs', file: 'kernel/softirq.c', steps: [] });

/** rcu_do_batch invoking one callback: the kfree of a kfree_rcu. */
const rcu_do_batch = kernelFn(
  { name: 'rcu_do_batch', file: 'kernel/rcu/tree.c', steps: ['invoke'] },
  (t, obj: KObj) => {
    t.at('invoke');
    kfree(t, obj);
  },
);

/** A grace period: the readers at its start and the quiescent-state count each had then. */
interface GracePeriod {
  waitFor: { task: Task; qs: number }[];
}

interface Callback {
  gp: GracePeriod;
  obj: KObj;
  /** The caller's clock: everything before kfree_rcu happens before the free (KCSAN). */
  vc: number[];
}

const RCU_LOCK_ADDR = 0xffff80008287a2c0n;

/**
 * RCU: read-side sections, kfree_rcu with grace periods, and one ksoftirqd thread per CPU that runs the
 * callbacks of that CPU in order once their grace period has ended.
 */
export class Rcu {
  private readonly queues = new Map<number, { cbs: Callback[]; obj: KObj }>();
  private readonly queueType = new StructType('rcu_segcblist', 8, [{ name: 'len' }]);
  private readonly cls: LockClass;
  readonly lockMap: { cls: LockClass; addr: bigint };

  constructor(private readonly k: Kernel) {
    this.cls = k.lockdep.classFor('rcu_read_lock', 'rcu_read_lock', 'rcu');
    this.lockMap = { cls: this.cls, addr: RCU_LOCK_ADDR };
  }

  /** Snapshot of the tasks inside a read side now (reads their RCU state). */
  private startGp(t: Task): GracePeriod {
    const waitFor: { task: Task; qs: number }[] = [];
    const exec = this.k.exec;
    for (const other of this.k.tasks) {
      if (exec.inStep) exec.fp.read(this.k.rcuLocs[other.index].id);
      if (other.rcuReader) waitFor.push({ task: other, qs: other.qs });
    }
    void t;
    return { waitFor };
  }

  /** Whether every reader of the snapshot has passed a quiescent state (reads their RCU state). */
  private ended(gp: GracePeriod): boolean {
    const exec = this.k.exec;
    let done = true;
    for (const w of gp.waitFor) {
      if (exec.inStep) exec.fp.read(this.k.rcuLocs[w.task.index].id);
      if (w.task.qs <= w.qs) done = false;
    }
    return done;
  }

  readLock(t: Task): void {
    this.k.lockdep.acquire(t, this.lockMap, 0, { read: 2 });
    this.k.lockdep.push(t, this.lockMap, 0, t.stack, 2, false);
    const was = t.rcuReader;
    t.rcuDepth++;
    this.k.rcuTransition(t, was);
  }

  readUnlock(t: Task): void {
    this.k.lockdep.release(t, this.lockMap);
    const was = t.rcuReader;
    t.rcuDepth--;
    this.k.rcuTransition(t, was);
  }

  /** kfree_rcu: the object is freed by ksoftirqd/<cpu> after a full grace period. */
  kfreeRcu(t: Task, obj: KObj): void {
    if (this.k.exec.recording) this.k.exec.note(`kfree_rcu(${obj.label})`);
    const aux: Frame = withFrame(t.stack, KVFREE_CALL_RCU);
    obj.aux = [aux, ...obj.aux].slice(0, 2);
    let q = this.queues.get(t.cpu);
    if (!q) {
      q = { cbs: [], obj: this.k.alloc(this.queueType, `rcu callbacks cpu ${t.cpu}`, {}, null, false) };
      this.queues.set(t.cpu, q);
      this.spawnDaemon(t.cpu, q);
    }
    q.cbs.push({ gp: this.startGp(t), obj, vc: t.release() });
    // The queue length is shared state: enqueueing enables the callback thread.
    const len = this.queueType.field<number>('len');
    writeOnce(t, q.obj, len, readOnce(t, q.obj, len) + 1);
  }

  /** synchronize_rcu: `yield synchronize_rcu(t)` blocks until a grace period has ended. */
  synchronize(t: Task): Op {
    mightSleep(t);
    const gp = this.startGp(t);
    return new Wait(() => this.ended(gp), 'RCU grace period');
  }

  private spawnDaemon(cpu: number, q: { cbs: Callback[]; obj: KObj }): void {
    const rcu = this;
    const len = this.queueType.field<number>('len');
    this.k.spawn(
      {
        comm: `ksoftirqd/${cpu}`,
        pid: 20 + cpu,
        cpu,
        kind: 'softirq',
        daemon: true,
        tail: [HANDLE_SOFTIRQS, RCU_CORE],
      },
      function* (t) {
        for (;;) {
          yield new Wait(() => readOnce(t, q.obj, len) > 0 && rcu.ended(q.cbs[0].gp), 'RCU callback');
          const cb = q.cbs.shift()!;
          writeOnce(t, q.obj, len, readOnce(t, q.obj, len) - 1);
          t.join(cb.vc);
          t.softirq++;
          rcu_do_batch(t, cb.obj);
          t.softirq--;
        }
      },
    );
  }
}

export function rcu_read_lock(t: Task): void {
  t.k.rcu.readLock(t);
}

export function rcu_read_unlock(t: Task): void {
  t.k.rcu.readUnlock(t);
}

export function kfree_rcu(t: Task, obj: KObj): void {
  t.k.rcu.kfreeRcu(t, obj);
}

export function synchronize_rcu(t: Task): Op {
  return t.k.rcu.synchronize(t);
}
