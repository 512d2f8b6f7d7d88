import type { Kernel } from './kernel.ts';
import { BadPtr, hex } from './mem.ts';
import { cpuBlock, emit, KReport, threadInfo } from './splat.ts';
import { type Frame, traceLines } from './stack.ts';
import type { Task } from './task.ts';

const CUT = '------------[ cut here ]------------';
const END = '---[ end trace 0000000000000000 ]---';

export interface WarnSite {
  /** Frame whose location and file:line the WARNING line names (defaults to the current frame). */
  at?: Frame | null;
  /** Message of WARN(cond, fmt) forms; printed between the cut line and the WARNING line on arm64. */
  message?: string;
  /** Lines printed before the cut line (mem_dump_obj for list corruption). */
  before?: string[];
  /** WARN_ON_ONCE key: fires at most once per execution. */
  once?: string;
  checker?: string;
  /** Title override (refcount and list reports are titled by their message). */
  title?: string;
  /** Model-only trailer lines (a ghost assertion names its property). */
  extra?: string[];
}

/** WARN_ON / WARN / WARN_ONCE splat, as __warn() in kernel/panic.c prints it. Non-fatal; sets taint W. */
export function warn(t: Task, site: WarnSite = {}): void {
  const k = t.k;
  if (site.once && !k.firstTime(site.once)) return;
  const top = site.at === undefined ? t.stack : site.at;
  const loc = top ? top.location() : '??';
  const fileLine = top ? top.fileLine() : '??:0';
  const lines = [...(site.before ?? []), CUT];
  if (site.message) lines.push(site.message);
  if (k.switches.WARN_FORMAT === 'comm')
    lines.push(`WARNING: ${fileLine} at ${loc}, CPU#${t.cpu}: ${t.comm}/${t.pid}`);
  else lines.push(`WARNING: CPU: ${t.cpu} PID: ${t.pid} at ${fileLine} ${loc}`);
  lines.push('Modules linked in:', ...cpuBlock(k, t), 'Call trace:', ...traceLines(top), END);
  // Taint W shows from the next report of the execution on.
  k.tainted = true;
  const fn = top ? top.fn.name : '??';
  const title =
    site.title ??
    (site.message ? site.message.replace(/ [0-9a-f]{16}\b|\([0-9a-f]+\)/g, '') : `WARNING in ${fn}`);
  emit(k, new KReport(site.checker ?? 'warn', title, false, lines, [threadInfo(t)], fn, site.extra ?? []));
}

/** BUG_ON / BUG: the arm64 "Oops - BUG" of a BRK instruction; fatal. */
export function bug(t: Task, at: Frame | null = t.stack): never {
  const k = t.k;
  const lines = [
    CUT,
    `kernel BUG at ${at ? at.fileLine() : '??:0'}!`,
    'Internal error: Oops - BUG: 00000000f2000800 [#1] PREEMPT SMP',
    'Modules linked in:',
    ...cpuBlock(k, t),
    `pc : ${at ? at.location() : '??'}`,
    'Call trace:',
    ...traceLines(at),
    END,
  ];
  const fn = at ? at.fn.name : '??';
  emit(k, new KReport('bug', `kernel BUG in ${fn}`, true, lines, [threadInfo(t)], fn));
  throw new Error('unreachable: fatal report returned');
}

/**
 * A load or store through NULL, a poison value or another unmapped pointer: a fatal oops, worded as
 * arm64's die_kernel_fault() (arch/arm64/mm/fault.c) words it.
 */
export function fault(t: Task, p: BadPtr, fieldOff: number, write: boolean): never {
  const k = t.k;
  const addr = p.addr + BigInt(fieldOff);
  const esr = write ? '0x0000000096000044' : '0x0000000096000004';
  const isNull = addr < 0x1000n;
  const lines = [
    isNull
      ? `Unable to handle kernel NULL pointer dereference at virtual address ${hex(addr)}`
      : `Unable to handle kernel paging request at virtual address ${hex(addr)}`,
    'Mem abort info:',
    `  ESR = ${esr}`,
  ];
  if (!isNull) lines.push(`[${hex(addr)}] address between user and kernel address ranges`);
  lines.push(
    `Internal error: Oops: ${esr.slice(2)} [#1] PREEMPT SMP`,
    'Modules linked in:',
    ...cpuBlock(k, t),
    `pc : ${t.stack ? t.stack.location() : '??'}`,
    'Call trace:',
    ...traceLines(t.stack),
    END,
  );
  const fn = t.stack ? t.stack.fn.name : '??';
  const title = isNull
    ? `Unable to handle kernel NULL pointer dereference in ${fn}`
    : `Unable to handle kernel paging request in ${fn}`;
  emit(k, new KReport('fault', title, true, lines, [threadInfo(t)], fn));
  throw new Error('unreachable: fatal report returned');
}

export function isBad(p: unknown): p is BadPtr {
  return p instanceof BadPtr;
}

export type { Kernel };
