import type { ThreadBody } from '../../src/explore/ops.ts';
import { choose, POINT, point } from '../../src/explore/ops.ts';
import {
  cmpxchg,
  loadAcquire,
  type Ptr,
  peek,
  rd,
  readOnce,
  storeRelease,
  wr,
  writeOnce,
} from '../../src/kernel/access.ts';
import { type KTask, kernelFn } from '../../src/kernel/function.ts';
import type { TaskSpec } from '../../src/kernel/kernel.ts';
import {
  head,
  initListHead,
  list_add_tail,
  list_del,
  list_del_rcu,
  list_next,
  list_next_once,
  listEntry,
  listFields,
} from '../../src/kernel/list.ts';
import {
  initLock,
  local_irq_restore,
  local_irq_save,
  mutex_lock,
  mutex_unlock,
  raw_spin_lock,
  raw_spin_lock_irqsave,
  raw_spin_unlock,
  raw_spin_unlock_irqrestore,
  spin_lock,
  spin_unlock,
} from '../../src/kernel/locks.ts';
import { type KObj, StructType } from '../../src/kernel/mem.ts';
import { kfree_rcu, rcu_read_lock, rcu_read_unlock, synchronize_rcu } from '../../src/kernel/rcu.ts';
import { refcount_dec_and_test, refcount_inc } from '../../src/kernel/refcount.ts';
import { kfree } from '../../src/kernel/slab.ts';
import { defineFn } from '../../src/kernel/stack.ts';
import { type CorpusProgram, kernelProgram, oracle } from './program.ts';

const G = new StructType('globals', 128, [
  { name: 'x' },
  { name: 'y' },
  { name: 'p' },
  { name: 'flag' },
  { name: 'lockA', size: 4 },
  { name: 'lockB', size: 4 },
  { name: 'lockC', size: 4 },
  ...listFields('list'),
]);
const X = G.field<number>('x');
const Y = G.field<number>('y');
const P = G.field<Ptr>('p');
const FLAG = G.field<number>('flag');

const ITEM = new StructType('item', 96, [
  { name: 'val' },
  { name: 'refcount', size: 4 },
  ...listFields('node', 72),
]);
const VAL = ITEM.field<number>('val');
const REF = ITEM.field<number>('refcount');

const FILE = 'samples/vgic-lab/corpus.c';
const STEPS = ['s1', 's2', 's3'] as const;
type Body = (t: KTask<(typeof STEPS)[number]>) => ThreadBody;

/** The thread functions of the corpus: reports name them, and `t.at('s2')` moves within them. */
const worker = (body: Body) => kernelFn({ name: 'corpus_worker', file: FILE, steps: STEPS }, body);
const reader = (body: Body) => kernelFn({ name: 'corpus_reader', file: FILE, steps: STEPS }, body);
const updater = (body: Body) => kernelFn({ name: 'corpus_updater', file: FILE, steps: STEPS }, body);
const THREAD_FN = defineFn({ name: 'kthread', file: 'kernel/kthread.c', steps: [] });

function task(i: number, comm = `worker/${i}`): TaskSpec {
  return { comm, pid: 1000 + i, cpu: i, tail: [THREAD_FN] };
}

function globals(
  k: Parameters<Parameters<typeof kernelProgram>[3]>[0],
  init: Record<string, unknown> = {},
): KObj {
  return k.alloc(G, 'globals', init, null, false);
}

const lostUpdate = kernelProgram(
  'lost-update',
  'two threads increment a counter with plain accesses and no lock',
  ['BUG: KCSAN: data-race in corpus_worker / corpus_worker', 'lost update'],
  (k, exec) => {
    const g = globals(k);
    for (let i = 0; i < 2; i++) {
      k.spawn(
        task(i),
        worker(function* (t) {
          yield POINT;
          const v = rd(t, g, X);
          t.at('s1');
          yield POINT;
          wr(t, g, X, v + 1);
        }),
      );
    }
    return {
      atEnd: () => oracle(exec, 'lost update', peek(g, X) === 2),
      finalState: () => `x=${peek(g, X)}`,
    };
  },
);

const lockedCounter = kernelProgram(
  'locked-counter',
  'two threads increment a counter under a raw spinlock (correct)',
  [],
  (k, exec) => {
    const g = globals(k);
    const l = initLock(k, 'raw', g, G.field('lockA'), 'counter_lock', '&counter_lock');
    for (let i = 0; i < 2; i++) {
      k.spawn(
        task(i),
        worker(function* (t) {
          const flags = yield raw_spin_lock_irqsave(t, l);
          t.at('s1');
          const v = rd(t, g, X);
          yield POINT;
          wr(t, g, X, v + 1);
          raw_spin_unlock_irqrestore(t, l, flags);
        }),
      );
    }
    return {
      atEnd: () => oracle(exec, 'lost update', peek(g, X) === 2),
      finalState: () => `x=${peek(g, X)}`,
    };
  },
);

const abba = kernelProgram(
  'abba',
  'thread 0 takes A then B, thread 1 takes B then A',
  ['WARNING: possible circular locking dependency detected', 'watchdog: BUG: soft lockup'],
  (k, _exec) => {
    const g = globals(k);
    const a = initLock(k, 'raw', g, G.field('lockA'), 'lock_a', '&lock_a');
    const b = initLock(k, 'raw', g, G.field('lockB'), 'lock_b', '&lock_b');
    for (let i = 0; i < 2; i++) {
      const [first, second] = i === 0 ? [a, b] : [b, a];
      k.spawn(
        task(i),
        worker(function* (t) {
          t.at('s1');
          yield raw_spin_lock(t, first);
          t.at('s2');
          yield raw_spin_lock(t, second);
          wr(t, g, X, i);
          raw_spin_unlock(t, second);
          raw_spin_unlock(t, first);
        }),
      );
    }
    return { finalState: () => `x=${peek(g, X)}` };
  },
);

/** Publishes one `item` in g.p; thread 0 is a vCPU-like reader, thread 1 unpublishes and frees it. */
function rcuPair(name: string, description: string, expect: string[], guestWindow: boolean): CorpusProgram {
  return kernelProgram(name, description, expect, (k, _exec) => {
    const obj = k.alloc(ITEM, 'item', { val: 7, refcount: 1 });
    const g = globals(k, { p: obj });
    let seen = -1;
    k.spawn(
      task(0, 'CPU 0/KVM'),
      reader(function* (t) {
        yield POINT;
        // Guest window: IRQs off is a reader, but guest mode is an extended quiescent state.
        const flags = guestWindow ? local_irq_save(t) : 0;
        if (!guestWindow) rcu_read_lock(t);
        t.at('s1');
        const p = readOnce(t, g, P);
        if (guestWindow) t.setGuest(true);
        yield point('guest runs');
        if (guestWindow) t.setGuest(false);
        t.at('s3');
        if (p) seen = rd(t, p, VAL);
        if (guestWindow) local_irq_restore(t, flags);
        else rcu_read_unlock(t);
      }),
    );
    k.spawn(
      task(1),
      updater(function* (t) {
        yield POINT;
        writeOnce(t, g, P, null);
        t.at('s1');
        kfree_rcu(t, obj);
      }),
    );
    return { finalState: () => `seen=${seen}` };
  });
}

const rcuGuestUaf = rcuPair(
  'rcu-guest-window-uaf',
  'a pointer taken with IRQs off is used after a guest-mode window while kfree_rcu frees it',
  ['BUG: KASAN: slab-use-after-free in corpus_reader'],
  true,
);

const rcuReaderOk = rcuPair(
  'rcu-reader-ok',
  'the same pointer used inside one rcu_read_lock section (correct)',
  [],
  false,
);

/** A list of three items under a raw lock; thread 1 deletes the middle one. */
function listProgram(name: string, description: string, expect: string[], rcu: boolean): CorpusProgram {
  return kernelProgram(name, description, expect, (k, _exec) => {
    const g = globals(k);
    const lock = initLock(k, 'raw', g, G.field('lockA'), 'list_lock', '&list_lock');
    const h = head(g, 'list');
    initListHead(h);
    const items: KObj[] = [];
    for (let i = 0; i < 3; i++) {
      const it = k.alloc(ITEM, `item ${i}`, { val: i });
      initListHead(head(it, 'node'));
      items.push(it);
    }
    const walker = k.task(task(0));
    const remover = k.task(task(1));
    // The prologue links the items as kernel code would (under the lock, DEBUG_LIST-checked) but
    // outside the schedule, then orders itself before both threads: the walk races only the delete.
    k.runPrologue(
      remover,
      (function* () {
        const flags = yield raw_spin_lock_irqsave(remover, lock);
        for (const it of items) list_add_tail(remover, head(it, 'node'), h);
        raw_spin_unlock_irqrestore(remover, lock, flags);
      })(),
    );
    k.prologueDone();
    let sum = 0;
    k.start(
      walker,
      reader(function* (t) {
        if (rcu) rcu_read_lock(t);
        let pos = rcu ? list_next_once(t, h) : list_next(t, h);
        while (pos !== h) {
          t.at('s2');
          const e = listEntry(pos, ITEM, 'node');
          sum += rd(t, e, VAL);
          yield point('walk');
          t.at('s3');
          pos = rcu ? list_next_once(t, pos) : list_next(t, pos);
        }
        if (rcu) rcu_read_unlock(t);
      }),
    );
    k.start(
      remover,
      updater(function* (t) {
        const flags = yield raw_spin_lock_irqsave(t, lock);
        t.at('s1');
        if (rcu) list_del_rcu(t, head(items[1], 'node'));
        else list_del(t, head(items[1], 'node'));
        raw_spin_unlock_irqrestore(t, lock, flags);
        t.at('s2');
        if (rcu) kfree_rcu(t, items[1]);
      }),
    );
    return { finalState: () => `sum=${sum}` };
  });
}

const listDelVsWalk = listProgram(
  'list-del-vs-walk',
  'list_del under the lock while another thread walks the list without it',
  ['Unable to handle kernel paging request in corpus_reader'],
  false,
);

const listDelRcuOk = listProgram(
  'list-del-rcu-reader-ok',
  'list_del_rcu + kfree_rcu while an RCU reader walks the list (correct)',
  [],
  true,
);

const spinUnderRaw = kernelProgram(
  'spinlock-under-raw',
  'a spinlock_t taken while holding a raw_spinlock_t',
  ['[ BUG: Invalid wait context ]'],
  (k) => {
    const g = globals(k);
    const raw = initLock(k, 'raw', g, G.field('lockA'), 'raw_lock', '&raw_lock');
    const spin = initLock(k, 'spin', g, G.field('lockB'), 'spin_lock', '&spin_lock');
    k.spawn(
      task(0),
      worker(function* (t) {
        const flags = yield raw_spin_lock_irqsave(t, raw);
        t.at('s1');
        yield spin_lock(t, spin);
        spin_unlock(t, spin);
        raw_spin_unlock_irqrestore(t, raw, flags);
      }),
    );
  },
);

const mutexUnderSpin = kernelProgram(
  'mutex-under-spinlock',
  'a mutex taken while holding a spinlock_t: invalid wait context and sleeping while atomic',
  ['[ BUG: Invalid wait context ]', 'BUG: sleeping function called from invalid context'],
  (k) => {
    const g = globals(k);
    const spin = initLock(k, 'spin', g, G.field('lockA'), 'spin_lock', '&spin_lock');
    const m = initLock(k, 'mutex', g, G.field('lockB'), 'the_mutex', '&the_mutex');
    k.spawn(
      task(0),
      worker(function* (t) {
        yield spin_lock(t, spin);
        t.at('s1');
        yield mutex_lock(t, m);
        mutex_unlock(t, m);
        spin_unlock(t, spin);
      }),
    );
  },
);

const refcountUnderflow = kernelProgram(
  'refcount-underflow',
  'two threads each drop the only reference',
  ['refcount_t: underflow; use-after-free in corpus_worker'],
  (k) => {
    const obj = k.alloc(ITEM, 'item', { refcount: 1 });
    for (let i = 0; i < 2; i++) {
      k.spawn(
        task(i),
        worker(function* (t) {
          yield POINT;
          t.at('s1');
          if (refcount_dec_and_test(t, obj, REF)) kfree_rcu(t, obj);
        }),
      );
    }
  },
);

const refcountAddOnZero = kernelProgram(
  'refcount-addition-on-zero',
  'an RCU reader takes a reference with refcount_inc instead of refcount_inc_not_zero',
  ['refcount_t: addition on 0; use-after-free in corpus_reader'],
  (k) => {
    const obj = k.alloc(ITEM, 'item', { refcount: 1 });
    const g = globals(k, { p: obj });
    k.spawn(
      task(0),
      reader(function* (t) {
        yield POINT;
        rcu_read_lock(t);
        const p = readOnce(t, g, P);
        yield POINT;
        t.at('s2');
        if (p) refcount_inc(t, p, REF);
        rcu_read_unlock(t);
      }),
    );
    k.spawn(
      task(1),
      updater(function* (t) {
        yield POINT;
        writeOnce(t, g, P, null);
        t.at('s1');
        if (refcount_dec_and_test(t, obj, REF)) kfree_rcu(t, obj);
      }),
    );
  },
);

const kcsanFlag = kernelProgram(
  'kcsan-plain-flag',
  'a plain write and a plain read of a flag: a data race in every execution, nothing crashes',
  ['BUG: KCSAN: data-race in corpus_reader / corpus_updater'],
  (k) => {
    const g = globals(k);
    k.spawn(
      task(0),
      updater(function* (t) {
        yield POINT;
        wr(t, g, FLAG, 1);
      }),
    );
    k.spawn(
      task(1),
      reader(function* (t) {
        yield POINT;
        rd(t, g, FLAG);
      }),
    );
  },
);

const doubleFree = kernelProgram(
  'double-free',
  'two threads test a plain "freed" flag and both free the object',
  ['BUG: KASAN: double-free in corpus_worker'],
  (k) => {
    const obj = k.alloc(ITEM, 'item');
    const g = globals(k);
    for (let i = 0; i < 2; i++) {
      k.spawn(
        task(i),
        worker(function* (t) {
          yield POINT;
          if (readOnce(t, g, FLAG) === 0) {
            yield POINT;
            t.at('s2');
            writeOnce(t, g, FLAG, 1);
            kfree(t, obj);
          }
        }),
      );
    }
  },
);

const messagePassing = kernelProgram(
  'message-passing',
  'data published with smp_store_release and read after smp_load_acquire (correct)',
  [],
  (k, exec) => {
    const g = globals(k);
    let got = -1;
    k.spawn(
      task(0),
      updater(function* (t) {
        yield POINT;
        wr(t, g, X, 42);
        yield POINT;
        storeRelease(t, g, FLAG, 1);
      }),
    );
    k.spawn(
      task(1),
      reader(function* (t) {
        yield POINT;
        if (loadAcquire(t, g, FLAG) === 1) got = rd(t, g, X);
      }),
    );
    return {
      atEnd: () => oracle(exec, 'stale message', got === -1 || got === 42),
      finalState: () => `got=${got}`,
    };
  },
);

const irqInconsistent = kernelProgram(
  'irq-inconsistent',
  'a lock taken in a hard-IRQ handler and elsewhere with IRQs enabled',
  ['WARNING: inconsistent lock state'],
  (k) => {
    const g = globals(k);
    const l = initLock(k, 'raw', g, G.field('lockA'), 'irq_lock', '&irq_lock');
    k.spawn(
      task(0),
      worker(function* (t) {
        yield POINT;
        t.irqEnter();
        yield raw_spin_lock(t, l);
        wr(t, g, X, 1);
        raw_spin_unlock(t, l);
        t.irqExit();
      }),
    );
    k.spawn(
      task(1),
      updater(function* (t) {
        yield POINT;
        yield raw_spin_lock(t, l);
        wr(t, g, X, 2);
        raw_spin_unlock(t, l);
      }),
    );
  },
);

const recursive = kernelProgram(
  'recursive-lock',
  'a thread takes a lock it already holds',
  ['WARNING: possible recursive locking detected', 'watchdog: BUG: soft lockup'],
  (k) => {
    const g = globals(k);
    const l = initLock(k, 'raw', g, G.field('lockA'), 'self_lock', '&self_lock');
    k.spawn(
      task(0),
      worker(function* (t) {
        yield raw_spin_lock(t, l);
        t.at('s1');
        yield raw_spin_lock(t, l);
        raw_spin_unlock(t, l);
        raw_spin_unlock(t, l);
      }),
    );
  },
);

const synchronizeOk = kernelProgram(
  'synchronize-rcu-ok',
  'unpublish, synchronize_rcu, kfree against an RCU reader (correct)',
  [],
  (k, _exec) => {
    const obj = k.alloc(ITEM, 'item', { val: 5 });
    const g = globals(k, { p: obj });
    let seen = -1;
    k.spawn(
      task(0),
      reader(function* (t) {
        yield POINT;
        rcu_read_lock(t);
        const p = readOnce(t, g, P);
        yield POINT;
        t.at('s2');
        if (p) seen = rd(t, p, VAL);
        rcu_read_unlock(t);
      }),
    );
    k.spawn(
      task(1),
      updater(function* (t) {
        yield POINT;
        writeOnce(t, g, P, null);
        t.at('s1');
        yield synchronize_rcu(t);
        t.at('s2');
        kfree(t, obj);
      }),
    );
    return { finalState: () => `seen=${seen}` };
  },
);

/** N threads writing N distinct locations: exactly one Mazurkiewicz trace. */
export function independentWriters(n: number): CorpusProgram {
  const T = new StructType(
    'cells',
    8 * n,
    Array.from({ length: n }, (_, i) => ({ name: `c${i}` })),
  );
  return kernelProgram(
    `independent-writers-${n}`,
    `${n} threads each write their own location`,
    [],
    (k, _exec) => {
      const cells = k.alloc(T, 'cells', {}, null, false);
      for (let i = 0; i < n; i++) {
        k.spawn(
          task(i),
          worker(function* (t) {
            yield POINT;
            wr(t, cells, T.fields[i], 1);
            yield POINT;
            wr(t, cells, T.fields[i], 2);
          }),
        );
      }
      return { finalState: () => T.fields.map((f) => peek(cells, f)).join(',') };
    },
  );
}

/**
 * lastzero(N) from the DPOR literature (Abdulla et al. 2014): thread 0 scans array[N..0] for the last
 * zero while threads 1..N each set array[i] = array[i-1] + 1. Accesses are marked (READ_ONCE/WRITE_ONCE):
 * the benchmark measures interleavings, not races.
 */
export function lastzero(n: number): CorpusProgram {
  const T = new StructType(
    'array',
    8 * (n + 1),
    Array.from({ length: n + 1 }, (_, i) => ({ name: `a${i}` })),
  );
  const A = T.fields.map((f) => T.field<number>(f.name));
  return kernelProgram(`lastzero-${n}`, `lastzero with ${n} writer threads`, [], (k, _exec) => {
    const arr = k.alloc(T, 'array', {}, null, false);
    let found = -1;
    k.spawn(
      task(0),
      reader(function* (t) {
        for (let i = n; i >= 0; i--) {
          yield POINT;
          if (readOnce(t, arr, A[i]) === 0) {
            found = i;
            break;
          }
        }
      }),
    );
    for (let j = 1; j <= n; j++) {
      k.spawn(
        task(j),
        worker(function* (t) {
          yield POINT;
          const v = readOnce(t, arr, A[j - 1]);
          yield POINT;
          writeOnce(t, arr, A[j], v + 1);
        }),
      );
    }
    return { finalState: () => `found=${found} ${T.fields.map((f) => peek(arr, f)).join(',')}` };
  });
}

/**
 * indexer(N) (Flanagan & Godefroid, POPL 2005): thread t inserts w = 11m + t for m = 1..4 into a
 * 128-slot table at slot 7w mod 128 with cmpxchg, probing linearly. Slots collide only from N = 12 on.
 */
export function indexer(n: number): CorpusProgram {
  const SIZE = 128;
  const T = new StructType(
    'table',
    8 * SIZE,
    Array.from({ length: SIZE }, (_, i) => ({ name: `s${i}` })),
  );
  return kernelProgram(`indexer-${n}`, `indexer with ${n} threads`, [], (k, _exec) => {
    const table = k.alloc(T, 'table', {}, null, false);
    for (let tid = 0; tid < n; tid++) {
      k.spawn(
        task(tid),
        worker(function* (t) {
          for (let m = 1; m <= 4; m++) {
            const w = m * 11 + tid;
            let h = (w * 7) % SIZE;
            for (;;) {
              yield POINT;
              if (cmpxchg(t, table, T.fields[h], 0, w) === 0) break;
              h = (h + 1) % SIZE;
            }
          }
        }),
      );
    }
    return {
      finalState: () =>
        T.fields
          .map((f) => peek(table, f))
          .filter((v) => v !== 0)
          .join(','),
    };
  });
}

/** Three threads over three locks in a ring: lockdep's "Chain exists of" case. */
const ring = kernelProgram(
  'lock-ring',
  'threads take A->B, B->C and C->A: a three-lock cycle',
  ['WARNING: possible circular locking dependency detected', 'watchdog: BUG: soft lockup'],
  (k) => {
    const g = globals(k);
    const locks = [
      initLock(k, 'raw', g, G.field('lockA'), 'lock_a', '&lock_a'),
      initLock(k, 'raw', g, G.field('lockB'), 'lock_b', '&lock_b'),
      initLock(k, 'raw', g, G.field('lockC'), 'lock_c', '&lock_c'),
    ];
    for (let i = 0; i < 3; i++) {
      k.spawn(
        task(i),
        worker(function* (t) {
          yield raw_spin_lock(t, locks[i]);
          t.at('s1');
          yield raw_spin_lock(t, locks[(i + 1) % 3]);
          wr(t, g, Y, i);
          raw_spin_unlock(t, locks[(i + 1) % 3]);
          raw_spin_unlock(t, locks[i]);
        }),
      );
    }
  },
);

/**
 * Thread 0 takes A then B or B then A, as a value chosen at run time says; thread 1 takes A alone. No
 * execution has both orders: only lockdep's graph, carried from one execution to the next, sees the
 * cycle (test/explore/split.test.ts).
 */
export const abbaAcross = kernelProgram(
  'abba-across',
  'the two lock orders in different executions',
  ['WARNING: possible circular locking dependency detected'],
  (k) => {
    const g = globals(k);
    const a = initLock(k, 'raw', g, G.field('lockA'), 'lock_a', '&lock_a');
    const b = initLock(k, 'raw', g, G.field('lockB'), 'lock_b', '&lock_b');
    k.spawn(
      task(0),
      worker(function* (t) {
        const order = yield choose(2, 'order');
        const [first, second] = order === 0 ? [a, b] : [b, a];
        yield raw_spin_lock(t, first);
        yield raw_spin_lock(t, second);
        wr(t, g, X, 1);
        raw_spin_unlock(t, second);
        raw_spin_unlock(t, first);
      }),
    );
    k.spawn(
      task(1),
      worker(function* (t) {
        yield raw_spin_lock(t, a);
        wr(t, g, X, 2);
        raw_spin_unlock(t, a);
      }),
    );
  },
);

/** The corpus with known answers (test/explore and the benchmark run it). */
export const CORPUS: readonly CorpusProgram[] = [
  lostUpdate,
  lockedCounter,
  abba,
  ring,
  rcuGuestUaf,
  rcuReaderOk,
  listDelVsWalk,
  listDelRcuOk,
  spinUnderRaw,
  mutexUnderSpin,
  refcountUnderflow,
  refcountAddOnZero,
  kcsanFlag,
  doubleFree,
  messagePassing,
  irqInconsistent,
  recursive,
  synchronizeOk,
  independentWriters(3),
  lastzero(3),
];

export function corpusProgram(name: string): CorpusProgram {
  const p = CORPUS.find((c) => c.name === name);
  if (!p) throw new Error(`no corpus program ${name}`);
  return p;
}
