import { type Lasting, type Learned, registerLasting } from '../explore/execution.ts';
import { warn } from './bug.ts';

/** Where an exploration's Session keeps lockdep's state. */
const LOCKDEP_KEY = 'lockdep';

import type { Kernel } from './kernel.ts';
import { hex } from './mem.ts';
import { cpuBlock, emit, identity, KReport, threadInfo } from './splat.ts';
import { type Frame, frames, traceLines } from './stack.ts';
import type { Task } from './task.ts';

/** Lock kinds; each has lockdep's wait types (enum lockdep_wait_type in include/linux/lockdep_types.h). */
export type LockKind = 'raw' | 'spin' | 'mutex' | 'rcu' | 'srcu';

export const USED_IN_HARDIRQ = 0;
export const ENABLED_HARDIRQ = 2;
export const USED_IN_SOFTIRQ = 4;
export const ENABLED_SOFTIRQ = 6;
const USAGE_NAMES = [
  'IN-HARDIRQ-W',
  'IN-HARDIRQ-R',
  'HARDIRQ-ON-W',
  'HARDIRQ-ON-R',
  'IN-SOFTIRQ-W',
  'IN-SOFTIRQ-R',
  'SOFTIRQ-ON-W',
  'SOFTIRQ-ON-R',
];

/**
 * Where something was recorded that a later report prints: the call trace's locations, innermost
 * first. Kept as text so that the state it belongs to can be saved and loaded (docs/scale.md).
 */
type Trace = string[];

function traceOf(top: Frame | null): Trace {
  return frames(top).map((f) => f.location());
}

function printed(trace: Trace | null, indent: string): string[] {
  return (trace ?? []).map((l) => indent + l);
}

/** A lock class: every lock initialised at one site (its key). */
export class LockClass {
  usage = 0;
  readonly usageStacks: (Trace | null)[] = new Array(8).fill(null);
  constructor(
    readonly id: number,
    readonly key: string,
    readonly name: string,
    readonly kind: LockKind,
  ) {}
}

/** One entry of a task's held-lock stack. */
export interface HeldLock {
  lock: LockInstance;
  sub: number;
  at: Frame | null;
  /** 0 exclusive, 2 recursive read (rcu_read_lock, SRCU read side). */
  read: 0 | 2;
  trylock: boolean;
  /** Hard-IRQ nesting level at acquisition: locks of an interrupted context do not constrain this one. */
  irqLevel: number;
}

/** What lockdep needs of a lock instance. */
export interface LockInstance {
  readonly cls: LockClass;
  readonly addr: bigint;
}

interface Edge {
  to: string;
  stack: Trace;
  execution: number;
}

/** LockdepState as JSON (`save`, `load`). */
interface SavedLockdep {
  classes: { key: string; name: string; kind: LockKind; usage: number; usageStacks: (Trace | null)[] }[];
  nameCount: [string, number][];
  edges: [string, [string, Edge][]][];
  chains: string[];
  nodeClass: [string, string, number][];
  off: boolean;
  reported: boolean;
}

/**
 * Lockdep state that lives for a whole exploration, as the kernel's lives for its whole uptime. A
 * split exploration saves it, compares what units learned with it and loads it elsewhere (`Lasting`,
 * docs/scale.md).
 */
export class LockdepState implements Lasting {
  readonly classes = new Map<string, LockClass>();
  private readonly nameCount = new Map<string, number>();
  /** Node "classId/subclass" -> outgoing edges by target node. */
  readonly edges = new Map<string, Map<string, Edge>>();
  readonly chains = new Set<string>();
  readonly nodeClass = new Map<string, { cls: LockClass; sub: number }>();
  off = false;
  /** A report was printed from this state. */
  reported = false;

  classFor(key: string, name: string, kind: LockKind): LockClass {
    let c = this.classes.get(key);
    if (!c) {
      const n = (this.nameCount.get(name) ?? 0) + 1;
      this.nameCount.set(name, n);
      c = new LockClass(this.classes.size, key, n === 1 ? name : `${name}#${n}`, kind);
      this.classes.set(key, c);
    }
    return c;
  }

  /**
   * The classes, the usage bits and the lock chains it has seen, named by class keys (ids depend on
   * the order classes were met). A state that has all of another's facts runs no check the other
   * would: every acquisition finds its chain and its usage known.
   */
  learned(): Learned {
    const keys = [...this.classes.keys()];
    const node = (n: string) => {
      const [id, sub] = n.split('/');
      return `${keys[Number(id)]}/${sub}`;
    };
    const facts: string[] = [];
    for (const c of this.classes.values()) {
      // With its name: reports print it, and `name#2` depends on the order classes were met.
      facts.push(`class ${c.key} ${c.name}`);
      for (let b = 0; b < 8; b++) if (c.usage & (1 << b)) facts.push(`usage ${c.key} ${b}`);
    }
    for (const ch of this.chains) {
      const [held, next] = ch.split('>');
      const from = held === '' ? '' : held.split(',').map(node).join(',');
      facts.push(`chain ${from}>${node(next)}`);
    }
    return { facts, reported: this.reported };
  }

  covers(l: Learned): boolean {
    if (l.reported) return false;
    const mine = new Set(this.learned().facts);
    // Off after a report (LOCKDEP_ONE_SHOT) nothing is checked any more, but classes are still met.
    return l.facts.every((f) => mine.has(f) || (this.off && !f.startsWith('class ')));
  }

  save(): SavedLockdep {
    return {
      classes: [...this.classes.values()].map((c) => ({
        key: c.key,
        name: c.name,
        kind: c.kind,
        usage: c.usage,
        usageStacks: c.usageStacks,
      })),
      nameCount: [...this.nameCount],
      edges: [...this.edges].map(([from, out]) => [from, [...out]]),
      chains: [...this.chains],
      nodeClass: [...this.nodeClass].map(([n, v]) => [n, v.cls.key, v.sub]),
      off: this.off,
      reported: this.reported,
    };
  }

  static load(json: unknown): LockdepState {
    const j = json as SavedLockdep;
    const st = new LockdepState();
    for (const c of j.classes) {
      const cls = new LockClass(st.classes.size, c.key, c.name, c.kind);
      cls.usage = c.usage;
      c.usageStacks.forEach((t, i) => {
        cls.usageStacks[i] = t;
      });
      st.classes.set(c.key, cls);
    }
    for (const [name, n] of j.nameCount) st.nameCount.set(name, n);
    for (const [from, out] of j.edges) st.edges.set(from, new Map(out));
    for (const ch of j.chains) st.chains.add(ch);
    for (const [n, key, sub] of j.nodeClass) st.nodeClass.set(n, { cls: st.classes.get(key)!, sub });
    st.off = j.off;
    st.reported = j.reported;
    return st;
  }
}

registerLasting(LOCKDEP_KEY, LockdepState.load);

export function lockdepFor(k: Kernel): Lockdep {
  const state =
    k.switches.LOCKDEP_SCOPE === 'execution'
      ? new LockdepState()
      : k.exec.persist(LOCKDEP_KEY, () => new LockdepState());
  return new Lockdep(k, state);
}

function nodeKey(c: LockClass, sub: number): string {
  return `${c.id}/${sub}`;
}

/**
 * The lockdep validator (kernel/locking/lockdep.c) of one execution, over the exploration's accumulated
 * state.
 */
export class Lockdep {
  constructor(
    readonly k: Kernel,
    readonly state: LockdepState,
  ) {}

  private get on(): boolean {
    return this.k.switches.LOCKDEP && !this.state.off;
  }

  classFor(key: string, name: string, kind: LockKind): LockClass {
    return this.state.classFor(key, name, kind);
  }

  /** {outer:inner} wait types of a class. */
  waitTypes(c: LockClass): [number, number] {
    const nest = this.k.switches.LOCKDEP_RAW_LOCK_NESTING;
    switch (c.kind) {
      case 'raw':
        return [2, 2];
      case 'spin':
        return nest ? [3, 3] : [2, 2];
      case 'mutex':
        return nest ? [4, 4] : [3, 3];
      case 'rcu':
        return nest ? [1, 3] : [1, 2];
      case 'srcu':
        return [0, 0];
    }
  }

  private contextWait(t: Task): number {
    const nest = this.k.switches.LOCKDEP_RAW_LOCK_NESTING;
    if (t.hardirq > 0) return 2;
    if (t.softirq > 0) return nest ? 3 : 2;
    return nest ? 5 : 4;
  }

  usageString(c: LockClass): string {
    let s = '';
    for (const base of [USED_IN_HARDIRQ, USED_IN_HARDIRQ + 1, USED_IN_SOFTIRQ, USED_IN_SOFTIRQ + 1]) {
      const used = (c.usage >> base) & 1;
      const enabled = (c.usage >> (base + 2)) & 1;
      s += used ? (enabled ? '?' : '-') : enabled ? '+' : '.';
    }
    return s;
  }

  className(c: LockClass, sub: number): string {
    return sub ? `${c.name}/${sub}` : c.name;
  }

  /** `(<class>){<usage>}-{<outer>:<inner>}` */
  classDesc(c: LockClass, sub = 0): string {
    const [o, i] = this.waitTypes(c);
    return `(${this.className(c, sub)}){${this.usageString(c)}}-{${o || i}:${i}}`;
  }

  desc(l: LockInstance, sub: number, at: Frame | null): string {
    return `${hex(l.addr)} ${this.classDesc(l.cls, sub)}, at: ${at ? at.location() : '??'}`;
  }

  heldList(t: Task): string[] {
    const n = t.held.length;
    if (n === 0) return [`no locks held by ${t.name}.`];
    const out = [`${n} ${n === 1 ? 'lock' : 'locks'} held by ${t.name}:`];
    for (const [i, h] of t.held.entries()) out.push(` #${i}: ${this.desc(h.lock, h.sub, h.at)}`);
    return out;
  }

  private header(title: string, sepLen = title.length): string[] {
    return ['', '='.repeat(sepLen), title, identity(this.k), '-'.repeat(sepLen)];
  }

  private backtrace(t: Task): string[] {
    return ['stack backtrace:', ...cpuBlock(this.k, t), 'Call trace:', ...traceLines(t.stack)];
  }

  private report(t: Task, title: string, lines: string[], fatal = false): void {
    const fn = t.stack ? t.stack.fn.name : '??';
    if (this.k.switches.LOCKDEP_ONE_SHOT) this.state.off = true;
    this.state.reported = true;
    emit(this.k, new KReport('lockdep', title, fatal, lines, [threadInfo(t)], fn));
  }

  /**
   * The checks of one acquisition attempt, in `__lock_acquire`'s order: wait context, usage, recursion,
   * dependency edges. Called when the thread starts trying (before it may spin), as lockdep does.
   */
  acquire(t: Task, l: LockInstance, sub: number, opts: { trylock?: boolean; read?: 0 | 2 } = {}): void {
    if (!this.on) return;
    const trylock = opts.trylock ?? false;
    const read = opts.read ?? 0;
    const c = l.cls;
    if (!trylock) this.checkWaitContext(t, l, sub);
    this.markUsage(t, l, sub, read, trylock);
    if (read !== 2) {
      for (const h of t.held) {
        if (h.lock.cls === c && h.sub === sub && h.read !== 2) {
          this.recursive(t, l, sub, h);
          return;
        }
      }
    }
    if (!trylock) this.addEdges(t, l, sub, read);
  }

  private checkWaitContext(t: Task, l: LockInstance, sub: number): void {
    const [outer, inner] = this.waitTypes(l.cls);
    const want = outer || inner;
    if (want === 0) return;
    let curr = this.contextWait(t);
    for (const h of t.held) {
      if (h.irqLevel !== t.hardirq) continue;
      const hi = this.waitTypes(h.lock.cls)[1];
      if (hi && hi < curr) curr = hi;
    }
    if (want <= curr) return;
    const title = '[ BUG: Invalid wait context ]';
    const ctx = this.contextWait(t);
    this.report(t, title, [
      ...this.header(title),
      `${t.name} is trying to lock:`,
      this.desc(l, sub, t.stack),
      'other info that might help us debug this:',
      `context-{${ctx}:${ctx}}`,
      ...this.heldList(t),
      ...this.backtrace(t),
    ]);
  }

  private recursive(t: Task, l: LockInstance, sub: number, h: HeldLock): void {
    const title = 'WARNING: possible recursive locking detected';
    const name = this.className(l.cls, sub);
    this.report(t, title, [
      ...this.header(title),
      `${t.name} is trying to acquire lock:`,
      this.desc(l, sub, t.stack),
      '',
      'but task is already holding lock:',
      this.desc(h.lock, h.sub, h.at),
      '',
      'other info that might help us debug this:',
      ' Possible unsafe locking scenario:',
      '',
      '       CPU0',
      '       ----',
      `  lock(${name});`,
      `  lock(${name});`,
      '',
      ' *** DEADLOCK ***',
      '',
      ' May be due to missing lock nesting notation',
      '',
      ...this.heldList(t),
      '',
      ...this.backtrace(t),
    ]);
  }

  /** Records held -> new edges for the held locks of the current IRQ context and checks for cycles. */
  private addEdges(t: Task, l: LockInstance, sub: number, read: 0 | 2): void {
    const next = nodeKey(l.cls, sub);
    this.state.nodeClass.set(next, { cls: l.cls, sub });
    const ctx = t.held.filter((h) => h.irqLevel === t.hardirq);
    const chain = `${ctx.map((h) => nodeKey(h.lock.cls, h.sub)).join(',')}>${next}`;
    if (this.state.chains.has(chain)) return;
    this.state.chains.add(chain);
    for (const h of ctx) {
      // A recursive-read acquisition (rcu_read_lock) never closes a strong cycle: no edges from or to it.
      if (h.read === 2 || read === 2) continue;
      const prev = nodeKey(h.lock.cls, h.sub);
      if (prev === next) continue;
      let out = this.state.edges.get(prev);
      if (out?.has(next)) continue;
      const path = this.findPath(next, prev);
      if (path) {
        this.circular(t, l, sub, h, path);
        continue;
      }
      if (!out) this.state.edges.set(prev, (out = new Map()));
      // A lock held by trylock adds no dependency on its own acquisition, so its node may be new here.
      if (!this.state.nodeClass.has(prev)) this.state.nodeClass.set(prev, { cls: h.lock.cls, sub: h.sub });
      out.set(next, { to: next, stack: traceOf(t.stack), execution: this.k.executionNo });
      this.checkSafeUnsafe(t, l, sub, h);
    }
  }

  /** Breadth-first search for a dependency path; returns the edges from `from` to `to`. */
  private findPath(from: string, to: string): Edge[] | null {
    const parent = new Map<string, { prev: string; edge: Edge }>();
    const queue = [from];
    const seen = new Set([from]);
    while (queue.length > 0) {
      const n = queue.shift()!;
      if (n === to) {
        const path: Edge[] = [];
        for (let x = to; x !== from; ) {
          const p = parent.get(x)!;
          path.unshift(p.edge);
          x = p.prev;
        }
        return path;
      }
      for (const [m, e] of this.state.edges.get(n) ?? []) {
        if (seen.has(m)) continue;
        seen.add(m);
        parent.set(m, { prev: n, edge: e });
        queue.push(m);
      }
    }
    return null;
  }

  private nodeDesc(key: string): string {
    const n = this.state.nodeClass.get(key)!;
    return this.classDesc(n.cls, n.sub);
  }

  private nodeName(key: string): string {
    const n = this.state.nodeClass.get(key)!;
    return this.className(n.cls, n.sub);
  }

  private circular(t: Task, l: LockInstance, sub: number, held: HeldLock, path: Edge[]): void {
    const title = 'WARNING: possible circular locking dependency detected';
    const newName = this.className(l.cls, sub);
    const heldName = this.className(held.lock.cls, held.sub);
    const lines = [
      ...this.header(title),
      `${t.name} is trying to acquire lock:`,
      this.desc(l, sub, t.stack),
      '',
      'but task is already holding lock:',
      this.desc(held.lock, held.sub, held.at),
      '',
      'which lock already depends on the new lock.',
      '',
      '',
      'the existing dependency chain (in reverse order) is:',
      '',
    ];
    for (let j = path.length; j >= 1; j--) {
      const e = path[j - 1];
      lines.push(`-> #${j} ${this.nodeDesc(e.to)}:`, ...printed(e.stack, '       '));
      lines.push(`       (edge recorded in execution ${e.execution})`, '');
    }
    lines.push(`-> #0 ${this.classDesc(l.cls, sub)}:`, ...traceLines(t.stack, '       '), '');
    lines.push('other info that might help us debug this:', '');
    const parentName = path.length >= 2 ? this.nodeName(path[path.length - 2].to) : newName;
    if (path.length >= 2)
      lines.push('Chain exists of:', `  ${newName} --> ${parentName} --> ${heldName}`, '');
    lines.push(
      ' Possible unsafe locking scenario:',
      '',
      '       CPU0                    CPU1',
      '       ----                    ----',
      `  lock(${heldName});`,
      `                               lock(${parentName});`,
      `                               lock(${heldName});`,
      `  lock(${newName});`,
      '',
      ' *** DEADLOCK ***',
      '',
      ...this.heldList(t),
      '',
      ...this.backtrace(t),
    );
    this.report(t, `${title} in ${t.stack ? t.stack.fn.name : '??'}`, lines);
  }

  /** IRQ usage of this acquisition (lockdep's mark_usage); a newly set bit runs the IRQ-safety checks. */
  private markUsage(t: Task, l: LockInstance, sub: number, read: 0 | 2, trylock: boolean): void {
    const c = l.cls;
    const r = read ? 1 : 0;
    const bits: number[] = [];
    if (!trylock) {
      if (t.hardirq > 0) bits.push(USED_IN_HARDIRQ + r);
      if (t.softirq > 0) bits.push(USED_IN_SOFTIRQ + r);
    }
    if (!t.irqsOff) {
      bits.push(ENABLED_HARDIRQ + r);
      if (t.bhOff === 0 && t.softirq === 0) bits.push(ENABLED_SOFTIRQ + r);
    }
    for (const b of bits) {
      if (c.usage & (1 << b)) continue;
      c.usage |= 1 << b;
      c.usageStacks[b] = traceOf(t.stack);
      if (r === 0) this.checkUsage(t, l, sub, b);
    }
  }

  private checkUsage(t: Task, l: LockInstance, sub: number, bit: number): void {
    const c = l.cls;
    const inBit = bit & ~2;
    const onBit = bit | 2;
    const other = bit === inBit ? onBit : inBit;
    if (c.usage & (1 << other)) {
      this.inconsistent(t, l, sub, other, bit);
      return;
    }
    // A class that became IRQ-safe must not reach an IRQ-unsafe one, and vice versa.
    const irq = bit >= USED_IN_SOFTIRQ ? 'SOFTIRQ' : 'HARDIRQ';
    const forward = bit === inBit;
    const start = [...this.state.nodeClass.entries()].filter(([, v]) => v.cls === c).map(([k2]) => k2);
    for (const s of start) {
      const hit = this.reach(s, forward, (x) => (x.usage & (1 << (forward ? onBit : inBit))) !== 0);
      if (hit) {
        this.inversion(t, l, sub, hit, irq, forward);
        return;
      }
    }
  }

  private reach(from: string, forward: boolean, pred: (c: LockClass) => boolean): LockClass | null {
    const seen = new Set([from]);
    const queue = [from];
    while (queue.length > 0) {
      const n = queue.shift()!;
      const nexts: string[] = [];
      if (forward) for (const m of this.state.edges.get(n)?.keys() ?? []) nexts.push(m);
      else for (const [src, out] of this.state.edges) if (out.has(n)) nexts.push(src);
      for (const m of nexts) {
        if (seen.has(m)) continue;
        seen.add(m);
        if (pred(this.state.nodeClass.get(m)!.cls)) return this.state.nodeClass.get(m)!.cls;
        queue.push(m);
      }
    }
    return null;
  }

  private inconsistent(t: Task, l: LockInstance, sub: number, oldBit: number, newBit: number): void {
    const title = 'WARNING: inconsistent lock state';
    const name = this.className(l.cls, sub);
    const stamp = (s: { step: number; at: Frame | null }) =>
      `(${s.step}): [${hex(0xffff800080000000n + BigInt(s.step))}] ${s.at ? s.at.location() : '0x0'}`;
    const lines = [
      ...this.header(title),
      `inconsistent {${USAGE_NAMES[oldBit]}} -> {${USAGE_NAMES[newBit]}} usage.`,
      `${t.name} [HC${t.hardirq > 0 ? 1 : 0}[${t.hardirq}]:SC${t.softirq > 0 ? 1 : 0}[${t.softirq}]:HE${t.irqsOff ? 0 : 1}:SE${t.bhOff > 0 ? 0 : 1}] takes:`,
      this.desc(l, sub, t.stack),
      `{${USAGE_NAMES[oldBit]}} state was registered at:`,
      ...printed(l.cls.usageStacks[oldBit], '  '),
      `irq event stamp: ${this.k.exec.stepCount}`,
      `hardirqs last  enabled at ${stamp(t.hardirqsOn)}`,
      `hardirqs last disabled at ${stamp(t.hardirqsOff)}`,
      `softirqs last  enabled at ${stamp({ step: 0, at: null })}`,
      `softirqs last disabled at ${stamp({ step: 0, at: null })}`,
      '',
      'other info that might help us debug this:',
      ' Possible unsafe locking scenario:',
      '',
      '       CPU0',
      '       ----',
      `  lock(${name});`,
      '  <Interrupt>',
      `    lock(${name});`,
      '',
      ' *** DEADLOCK ***',
      '',
      ...this.heldList(t),
      '',
      ...this.backtrace(t),
    ];
    this.report(t, `${title} in ${t.stack ? t.stack.fn.name : '??'}`, lines);
  }

  private inversion(
    t: Task,
    l: LockInstance,
    sub: number,
    other: LockClass,
    irq: string,
    becameSafe: boolean,
  ): void {
    const title = 'WARNING: possible irq lock inversion dependency detected';
    const name = this.className(l.cls, sub);
    const [safe, unsafe] = becameSafe ? [name, other.name] : [other.name, name];
    const lines = [
      ...this.header(title),
      `${t.name} just changed the state of lock:`,
      this.desc(l, sub, t.stack),
      becameSafe
        ? `but this lock took another, ${irq}-unsafe lock in the past:`
        : `but this lock was taken by another, ${irq}-safe lock in the past:`,
      ` ${this.classDesc(other)}`,
      '',
      'and interrupts could create inverse lock ordering between them.',
      '',
      'other info that might help us debug this:',
      ' Possible interrupt unsafe locking scenario:',
      '',
      '       CPU0                    CPU1',
      '       ----                    ----',
      `  lock(${unsafe});`,
      '                               local_irq_disable();',
      `                               lock(${safe});`,
      `                               lock(${unsafe});`,
      '  <Interrupt>',
      `    lock(${safe});`,
      '',
      ' *** DEADLOCK ***',
      '',
      ...this.heldList(t),
      '',
      ...this.backtrace(t),
    ];
    this.report(t, `${title} in ${t.stack ? t.stack.fn.name : '??'}`, lines);
  }

  /** New edge held -> new: an IRQ-safe class before it and an IRQ-unsafe class after it deadlock. */
  private checkSafeUnsafe(t: Task, l: LockInstance, sub: number, h: HeldLock): void {
    for (const [irq, inBit, onBit] of [
      ['HARDIRQ', USED_IN_HARDIRQ, ENABLED_HARDIRQ],
      ['SOFTIRQ', USED_IN_SOFTIRQ, ENABLED_SOFTIRQ],
    ] as const) {
      const isSafe = (c: LockClass) => (c.usage & (1 << inBit)) !== 0;
      const isUnsafe = (c: LockClass) => (c.usage & (1 << onBit)) !== 0;
      const prevKey = nodeKey(h.lock.cls, h.sub);
      const nextKey = nodeKey(l.cls, sub);
      const safe = isSafe(h.lock.cls) ? h.lock.cls : this.reach(prevKey, false, isSafe);
      if (!safe) continue;
      const unsafe = isUnsafe(l.cls) ? l.cls : this.reach(nextKey, true, isUnsafe);
      if (!unsafe) continue;
      const title = `WARNING: ${irq}-safe -> ${irq}-unsafe lock order detected`;
      const ctx = `[HC${t.hardirq > 0 ? 1 : 0}[${t.hardirq}]:SC${t.softirq > 0 ? 1 : 0}[${t.softirq}]:HE${t.irqsOff ? 0 : 1}:SE${t.bhOff > 0 ? 0 : 1}]`;
      const lines = [
        ...this.header(title, 53),
        `${t.name} ${ctx} is trying to acquire:`,
        this.desc(l, sub, t.stack),
        '',
        'and this task is already holding:',
        this.desc(h.lock, h.sub, h.at),
        'which would create a new lock dependency:',
        ` ${this.classDesc(h.lock.cls, h.sub)} -> ${this.classDesc(l.cls, sub)}`,
        '',
        `but this new dependency connects a ${irq}-irq-safe lock:`,
        ` ${this.classDesc(safe)}`,
        '',
        `... which became ${irq}-irq-safe at:`,
        ...printed(safe.usageStacks[inBit], '  '),
        '',
        `to a ${irq}-irq-unsafe lock:`,
        ` ${this.classDesc(unsafe)}`,
        '',
        `... which became ${irq}-irq-unsafe at:`,
        ...printed(unsafe.usageStacks[onBit], '  '),
        '',
        'other info that might help us debug this:',
        '',
        ' Possible interrupt unsafe locking scenario:',
        '',
        '       CPU0                    CPU1',
        '       ----                    ----',
        `  lock(${unsafe.name});`,
        '                               local_irq_disable();',
        `                               lock(${safe.name});`,
        `                               lock(${unsafe.name});`,
        '  <Interrupt>',
        `    lock(${safe.name});`,
        '',
        ' *** DEADLOCK ***',
        '',
        ...this.heldList(t),
        '',
        ...this.backtrace(t),
      ];
      this.report(t, `${title} in ${t.stack ? t.stack.fn.name : '??'}`, lines);
      return;
    }
  }

  /** Pushes an acquired lock on the task's held stack. */
  push(t: Task, l: LockInstance, sub: number, at: Frame | null, read: 0 | 2, trylock: boolean): void {
    t.held.push({ lock: l, sub, at, read, trylock, irqLevel: t.hardirq });
  }

  /** Pops a released lock; a lock that is not held is "bad unlock balance". Returns whether held. */
  release(t: Task, l: LockInstance): boolean {
    for (let i = t.held.length - 1; i >= 0; i--) {
      if (t.held[i].lock === l) {
        t.held.splice(i, 1);
        return true;
      }
    }
    if (this.on) {
      const title = 'WARNING: bad unlock balance detected!';
      this.report(t, title, [
        ...this.header(title),
        `${t.name} is trying to release lock (${l.cls.name}) at:`,
        `[${hex(0xffff800080000000n)}] ${t.stack ? t.stack.location() : '??'}`,
        'but there are no more locks to release!',
        '',
        'other info that might help us debug this:',
        ...this.heldList(t),
        '',
        ...this.backtrace(t),
      ]);
    }
    return false;
  }

  /** Freeing memory that holds a lock this task holds (lockdep's debug_check_no_locks_freed). */
  checkFreed(t: Task, start: bigint, end: bigint): void {
    if (!this.on) return;
    for (const h of t.held) {
      if (h.lock.addr >= start && h.lock.addr < end) {
        const title = 'WARNING: held lock freed!';
        this.report(t, title, [
          ...this.header(title),
          `${t.name} is freeing memory ${hex(start)}-${hex(end - 1n)}, with a lock still held there!`,
          this.desc(h.lock, h.sub, h.at),
          ...this.heldList(t),
          '',
          ...this.backtrace(t),
        ]);
        return;
      }
    }
  }

  /** lockdep_assert_held: a plain WARN at the annotation when the lock is not held. */
  assertHeld(t: Task, l: LockInstance): void {
    if (!this.k.switches.LOCKDEP) return;
    if (t.held.some((h) => h.lock === l)) return;
    const fn = t.stack ? t.stack.fn.name : '??';
    warn(t, { checker: 'lockdep', title: `WARNING: lockdep_assert_held(${l.cls.name}) in ${fn}` });
  }
}
