import { type AccessRecord, BadPtr, hex, KObj, type Loc } from './mem.ts';
import { cpuBlock, emit, KASAN_RULE, KReport, threadInfo } from './splat.ts';
import { traceLines } from './stack.ts';
import type { Task } from './task.ts';

function ordered(a: AccessRecord, t: Task): boolean {
  return a.task === t || a.clock <= t.clock(a.task.index);
}

/** Numeric value of a location as KCSAN prints it. */
export function numeric(v: unknown): bigint {
  if (typeof v === 'number') return BigInt(Math.trunc(v)) & 0xffffffffffffffffn;
  if (typeof v === 'boolean') return v ? 1n : 0n;
  if (typeof v === 'bigint') return v;
  if (v instanceof KObj || v instanceof BadPtr) return v.addr;
  if (v && typeof v === 'object' && 'addr' in v) return (v as { addr: bigint }).addr;
  return 0n;
}

function kind(a: { write: boolean; marked: boolean }): string {
  return (a.write ? 'write' : 'read') + (a.marked ? ' (marked)' : '');
}

/**
 * The report of a race between an earlier access `a` and the current access of `t`. KCSAN prints the
 * access that hit a watchpoint first and the watcher second: the watcher's instrumented access began
 * before the other one and completes after it, so in this execution the watcher is the later access
 * (`t`). The watcher re-reads the location after its delay, so "value changed" appears exactly when
 * the earlier access was a write that changed the value, the change the later access observed. An
 * earlier read saw the old value, so a read-then-write race has no such line.
 */
function race(t: Task, loc: Loc, a: AccessRecord, bWrite: boolean, bMarked: boolean): void {
  const k = t.k;
  const fa = a.stack ? a.stack.fn.name : '??';
  const fb = t.stack ? t.stack.fn.name : '??';
  const [f1, f2] = [fa, fb].sort();
  const title = `BUG: KCSAN: data-race in ${f1} / ${f2}`;
  const addr = `0x${hex(loc.addr)}`;
  const by = (x: Task) => (x.hardirq > 0 ? 'by interrupt' : `by task ${x.pid}`);
  const lines = [
    KASAN_RULE,
    title,
    '',
    `${kind(a)} to ${addr} of ${loc.field.size} bytes ${by(a.task)} on cpu ${a.task.cpu}:`,
    ...traceLines(a.stack),
    '',
    `${kind({ write: bWrite, marked: bMarked })} to ${addr} of ${loc.field.size} bytes ${by(t)} on cpu ${t.cpu}:`,
    ...traceLines(t.stack),
    '',
  ];
  if (a.write && numeric(a.before) !== numeric(a.after)) {
    const w = loc.field.size * 2;
    const f = (v: unknown) => `0x${numeric(v).toString(16).padStart(w, '0')}`;
    lines.push(`value changed: ${f(a.before)} -> ${f(a.after)}`, '');
  }
  lines.push('Reported by Kernel Concurrency Sanitizer on:', ...cpuBlock(k, t), KASAN_RULE);
  emit(k, new KReport('kcsan', title, false, lines, [threadInfo(t), threadInfo(a.task)], fb));
}

/**
 * Happens-before race detection in place of KCSAN's watchpoints: report when this access and an
 * earlier one by another task touch the same location, one writes, one is plain, and neither is
 * ordered before the other. `newValue` is the value a write stores (for a later "value changed" line).
 */
export function kcsanAccess(t: Task, loc: Loc, write: boolean, marked: boolean, newValue?: unknown): void {
  if (loc.field.racy && !t.k.switches.KCSAN_STRICT) return;
  const w = loc.lastWrite;
  if (w && !ordered(w, t) && !(marked && w.marked)) race(t, loc, w, write, marked);
  const clock = t.clock(t.index);
  if (write) {
    if (loc.reads) {
      for (const r of loc.reads)
        if (r && !ordered(r, t) && !(marked && r.marked)) race(t, loc, r, write, marked);
      loc.reads = null;
    }
    // Reuse the shadow record: an access allocates nothing in the common case.
    const rec = w && w.task === t ? w : (loc.lastWrite = { task: t, clock, marked, write, stack: t.stack });
    rec.clock = clock;
    rec.marked = marked;
    rec.stack = t.stack;
    rec.before = loc.value;
    rec.after = newValue;
  } else {
    if (!loc.reads) loc.reads = [];
    const r = loc.reads[t.index];
    if (r) {
      r.clock = clock;
      r.marked = marked;
      r.stack = t.stack;
    } else loc.reads[t.index] = { task: t, clock, marked, write, stack: t.stack };
  }
}
