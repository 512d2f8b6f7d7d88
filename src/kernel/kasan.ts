import type { Kernel } from './kernel.ts';
import { hex, type KObj, type Loc } from './mem.ts';
import { cpuBlock, emit, KASAN_RULE, KReport, threadInfo } from './splat.ts';
import { type Frame, traceLines } from './stack.ts';
import type { Task } from './task.ts';

/** Shadow byte of the granule at `addr`, in generic KASAN's encoding (fa/fb freed object, fc redzone). */
function shadowByte(k: Kernel, addr: bigint): string {
  for (const o of k.objects) {
    if (!o.slab || addr < o.addr || addr >= o.end) continue;
    // Slab objects span a power of two of at least 8 bytes at 8-aligned addresses: no partial granule.
    if (o.freed) return addr === o.addr ? 'fa' : 'fb';
    return '00';
  }
  return 'fc';
}

function shadowRows(k: Kernel, addr: bigint): string[] {
  const rowOf = (a: bigint) => a & ~127n;
  const bad = rowOf(addr);
  const out: string[] = [];
  for (let r = -2n; r <= 2n; r++) {
    const row = bad + r * 128n;
    const bytes: string[] = [];
    for (let g = 0n; g < 16n; g++) bytes.push(shadowByte(k, row + g * 8n));
    out.push(`${r === 0n ? '>' : ' '}${hex(row)}: ${bytes.join(' ')}`);
    if (r === 0n) out.push(`${' '.repeat(19 + 3 * Number((addr - row) / 8n))}^`);
  }
  return out;
}

function objectBlock(k: Kernel, obj: KObj, addr: bigint): string[] {
  const off = addr - obj.addr;
  const size = obj.size;
  const where =
    off >= BigInt(size)
      ? `The buggy address is located ${off - BigInt(size)} bytes to the right of`
      : `The buggy address is located ${off} bytes inside of`;
  const out = [`Allocated by task ${obj.allocPid}:`, ...traceLines(obj.allocStack), ''];
  if (obj.freed) out.push(`Freed by task ${obj.freePid}:`, ...traceLines(obj.freeStack), '');
  if (obj.aux[0]) out.push('Last potentially related work creation:', ...traceLines(obj.aux[0]), '');
  if (obj.aux[1])
    out.push('Second to last potentially related work creation:', ...traceLines(obj.aux[1]), '');
  out.push(
    `The buggy address belongs to the object at ${hex(obj.addr)}`,
    ` which belongs to the cache ${obj.type.cache} of size ${obj.type.cache.replace(/^kmalloc-(cg-)?/, '')}`,
    where,
    ` ${obj.freed ? 'freed ' : 'allocated '}${size}-byte region [${hex(obj.addr)}, ${hex(obj.end)})`,
    '',
    'The buggy address belongs to the physical page:',
    'page: (not modelled)',
    '',
    'Memory state around the buggy address:',
    ...shadowRows(k, addr),
    KASAN_RULE,
  );
  return out;
}

function kasanReport(
  t: Task,
  type: string,
  headline: string,
  obj: KObj,
  addr: bigint,
  at: Frame | null,
): void {
  const k = t.k;
  const fnName = at ? at.fn.name : '??';
  const lines = [
    KASAN_RULE,
    `BUG: KASAN: ${type} in ${at ? at.location() : '??'}`,
    headline,
    '',
    ...cpuBlock(k, t),
    'Call trace:',
    ...traceLines(at),
    '',
    ...objectBlock(k, obj, addr),
  ];
  const title = `BUG: KASAN: ${type} in ${fnName}`;
  if (k.switches.KASAN_ONE_SHOT && !k.firstTime('kasan')) return;
  emit(k, new KReport('kasan', title, false, lines, [threadInfo(t)], fnName));
}

/** An access to a field of a freed object: slab-use-after-free. */
export function kasanAccess(t: Task, loc: Loc, write: boolean): void {
  const addr = loc.addr;
  kasanReport(
    t,
    'slab-use-after-free',
    `${write ? 'Write' : 'Read'} of size ${loc.field.size} at addr ${hex(addr)} by task ${t.comm}/${t.pid}`,
    loc.obj,
    addr,
    t.stack,
  );
}

/** A free of an already freed object. `at` is the frame of the freeing caller. */
export function kasanDoubleFree(t: Task, obj: KObj, at: Frame | null): void {
  kasanReport(
    t,
    'double-free',
    `Free of addr ${hex(obj.addr)} by task ${t.comm}/${t.pid}`,
    obj,
    obj.addr,
    at,
  );
}
