import fc from 'fast-check';
import { choose, POINT, type ThreadBody, Wait } from '../../src/explore/ops.ts';
import { peek, rd, readOnce, wr } from '../../src/kernel/access.ts';
import { kernelFn } from '../../src/kernel/function.ts';
import {
  initLock,
  type Lock,
  raw_spin_lock,
  raw_spin_trylock,
  raw_spin_unlock,
} from '../../src/kernel/locks.ts';
import { type KObj, StructType } from '../../src/kernel/mem.ts';
import type { Task } from '../../src/kernel/task.ts';
import { type CorpusProgram, kernelProgram } from '../corpus/program.ts';

/**
 * Small random programs over the kernel runtime for differential tests of the explorer: threads of
 * reads, writes, critical sections (one or more steps long), trylocks, blocking waits and value choices
 * on a few shared variables and locks. Every instruction is its own step, so critical sections span
 * several steps and waits can block, which is where partial-order reduction goes wrong.
 */
export type Instr =
  | { k: 'read'; v: number }
  | { k: 'write'; v: number; c: number }
  | { k: 'cs'; l: number; body: Instr[] }
  | { k: 'try'; l: number; body: Instr[] }
  | { k: 'wait'; v: number; c: number }
  | { k: 'choice' };

export interface RandomProgram {
  threads: Instr[][];
}

const NVARS = 2;
const NLOCKS = 2;
const G = new StructType('g', 256, [
  ...Array.from({ length: NVARS }, (_, i) => ({ name: `x${i}` })),
  ...Array.from({ length: NLOCKS }, (_, i) => ({ name: `l${i}`, size: 4 })),
]);
const X = Array.from({ length: NVARS }, (_, i) => G.field<number>(`x${i}`));
const L = Array.from({ length: NLOCKS }, (_, i) => G.field<Lock>(`l${i}`));

const simple: fc.Arbitrary<Instr> = fc.oneof(
  fc.record({ k: fc.constant('read' as const), v: fc.nat(NVARS - 1) }),
  fc.record({ k: fc.constant('write' as const), v: fc.nat(NVARS - 1), c: fc.integer({ min: 1, max: 2 }) }),
  fc.record({ k: fc.constant('wait' as const), v: fc.nat(NVARS - 1), c: fc.integer({ min: 1, max: 2 }) }),
  fc.constant({ k: 'choice' as const }),
);

const instr: fc.Arbitrary<Instr> = fc.oneof(
  { weight: 3, arbitrary: simple },
  {
    weight: 2,
    arbitrary: fc.record({
      k: fc.constantFrom('cs' as const, 'try' as const),
      l: fc.nat(NLOCKS - 1),
      body: fc.array(simple, { minLength: 0, maxLength: 2 }),
    }),
  },
);

/** Programs small enough that naive enumeration of every interleaving stays cheap. */
export function randomProgram(maxThreads = 3): fc.Arbitrary<RandomProgram> {
  return fc
    .array(fc.array(instr, { minLength: 1, maxLength: 3 }), { minLength: 2, maxLength: maxThreads })
    .filter((threads) => threads.reduce((n, t) => n + steps(t), 0) <= 9)
    .map((threads) => ({ threads }));
}

function steps(body: Instr[]): number {
  return body.reduce((n, i) => n + (i.k === 'cs' || i.k === 'try' ? 2 + steps(i.body) : 1), 0);
}

interface Shared {
  obj: KObj;
  locks: Lock[];
}

function* run(t: Task, g: Shared, body: Instr[], acc: { v: number }): ThreadBody {
  for (const i of body) {
    switch (i.k) {
      case 'read':
        yield POINT;
        acc.v += rd(t, g.obj, X[i.v]);
        break;
      case 'write':
        yield POINT;
        wr(t, g.obj, X[i.v], acc.v + i.c);
        break;
      case 'wait':
        yield new Wait(() => readOnce(t, g.obj, X[i.v]) >= i.c, `x${i.v} >= ${i.c}`);
        break;
      case 'choice':
        acc.v += 10 * ((yield choose(2, 'random')) as number);
        break;
      case 'cs':
        yield raw_spin_lock(t, g.locks[i.l]);
        yield* run(t, g, i.body, acc);
        yield POINT;
        raw_spin_unlock(t, g.locks[i.l]);
        break;
      case 'try': {
        const ok = (yield raw_spin_trylock(t, g.locks[i.l])) as boolean;
        if (!ok) break;
        acc.v += 100;
        yield* run(t, g, i.body, acc);
        yield POINT;
        raw_spin_unlock(t, g.locks[i.l]);
        break;
      }
    }
  }
}

export function describe(p: RandomProgram): string {
  const one = (i: Instr): string => {
    switch (i.k) {
      case 'read':
        return `r x${i.v}`;
      case 'write':
        return `x${i.v}=acc+${i.c}`;
      case 'wait':
        return `wait x${i.v}>=${i.c}`;
      case 'choice':
        return 'choose';
      case 'cs':
        return `lock l${i.l} { ${i.body.map(one).join('; ')} }`;
      case 'try':
        return `trylock l${i.l} { ${i.body.map(one).join('; ')} }`;
    }
  };
  return p.threads.map((t, n) => `T${n}: ${t.map(one).join('; ')}`).join(' | ');
}

export function programOf(p: RandomProgram): CorpusProgram {
  return kernelProgram('random', describe(p), [], (k, _exec) => {
    const obj = k.alloc(G, 'g', {}, null, false);
    const locks = L.map((f, i) => initLock(k, 'raw', obj, f, `l${i}`, `&l${i}`));
    const g: Shared = { obj, locks };
    const accs = p.threads.map(() => ({ v: 0 }));
    p.threads.forEach((body, n) => {
      k.spawn(
        { comm: `T${n}`, pid: 100 + n, cpu: n, tail: [] },
        kernelFn({ name: 'random_worker', file: 'lib/random.c', steps: [] }, function* (t) {
          yield* run(t, g, body, accs[n]);
        }),
      );
    });
    return {
      finalState: () => `${X.map((f) => peek(obj, f)).join(',')} / ${accs.map((a) => a.v).join(',')}`,
    };
  });
}
