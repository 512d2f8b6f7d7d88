import type { Violation } from '../explore/violation.ts';
import type { Kernel } from './kernel.ts';
import type { Task } from './task.ts';

/** A kernel report with its checker, title and lines: the explorer sees a Violation. */
export class KReport implements Violation {
  step = -1;
  constructor(
    readonly checker: string,
    readonly title: string,
    readonly fatal: boolean,
    readonly lines: readonly string[],
    /** comm, PID, CPU and context of each involved thread, the reporting one first. */
    readonly threads: readonly ThreadInfo[],
    /** Innermost model function of the reporting thread. */
    readonly fn: string,
    /** Model-only lines printed after the trailer (wait-for cycle, ghost assertion). */
    readonly extra: readonly string[] = [],
  ) {}

  text(): string {
    return this.lines.join('\n');
  }
}

export interface ThreadInfo {
  comm: string;
  pid: number;
  cpu: number;
  context: string;
}

export function threadInfo(t: Task): ThreadInfo {
  const context = t.hardirq > 0 ? 'hardirq' : t.softirq > 0 ? 'softirq' : t.inGuest ? 'guest' : 'task';
  return { comm: t.comm, pid: t.pid, cpu: t.cpu, context };
}

export function taint(k: Kernel): string {
  return k.tainted ? 'Tainted: G        W         ' : 'Not tainted';
}

/** `7.1.0-vgiclab-v3 #5127 Not tainted` as lockdep prints it. */
export function identity(k: Kernel): string {
  return `${k.release} #${k.executionNo} ${k.tainted ? 'Tainted: G        W' : 'Not tainted'}`;
}

/** The `CPU:` line, the optional `Tainted:` line and `Hardware name:` (as dump_stack_print_info()). */
export function cpuBlock(k: Kernel, t: Task): string[] {
  const out = [
    `CPU: ${t.cpu} UID: 0 PID: ${t.pid} Comm: ${t.comm} ${taint(k)} ${k.release} #${k.executionNo} PREEMPT`,
  ];
  if (k.tainted) out.push('Tainted: [W]=WARN');
  out.push(`Hardware name: ${k.config.hardware}`);
  return out;
}

export const KASAN_RULE = '='.repeat(66);

/** Hands a report to the explorer; fatal ones end the execution. PANIC_ON_WARN makes every one fatal. */
export function emit(k: Kernel, r: KReport): void {
  if (k.switches.PANIC_ON_WARN && !r.fatal) {
    k.exec.report(new KReport(r.checker, r.title, true, r.lines, r.threads, r.fn, r.extra));
    return;
  }
  k.exec.report(r);
}

/** The model trailer that every report ends with (docs/findings.md). */
export function trailer(
  design: string,
  scenario: string,
  execution: number,
  step: number,
  schedule: string,
  extra: readonly string[] = [],
): string[] {
  return [
    `vgic-lab: design=${design} scenario=${scenario} execution=${execution} step=${step < 0 ? 'prologue' : step} schedule=${schedule}`,
    ...extra,
  ];
}
