import { hex } from './mem.ts';
import { cpuBlock, emit, KReport, threadInfo } from './splat.ts';
import { traceLines } from './stack.ts';
import type { Task } from './task.ts';

/** might_sleep (__might_resched in kernel/sched/core.c): sleeping while atomic is a non-fatal BUG report. */
export function mightSleep(t: Task): void {
  const preemptCount = t.preempt + (t.hardirq > 0 ? 0x10000 : 0);
  if (preemptCount === 0 && !t.irqsOff && t.rcuDepth === 0) return;
  const k = t.k;
  const at = t.stack;
  const stamp = (s: { step: number; at: typeof at }) =>
    `(${s.step}): [${hex(0xffff800080000000n + BigInt(s.step))}] ${s.at ? s.at.location() : '0x0'}`;
  const lines = [
    `BUG: sleeping function called from invalid context at ${at ? at.fileLine() : '??:0'}`,
    `in_atomic(): ${preemptCount > 0 ? 1 : 0}, irqs_disabled(): ${t.irqsOff ? 128 : 0}, non_block: 0, pid: ${t.pid}, name: ${t.comm}`,
    `preempt_count: ${preemptCount.toString(16)}, expected: 0`,
    `RCU nest depth: ${t.rcuDepth}, expected: 0`,
    ...k.lockdep.heldList(t),
  ];
  if (t.irqsOff) {
    lines.push(
      `irq event stamp: ${k.exec.stepCount}`,
      `hardirqs last  enabled at ${stamp(t.hardirqsOn)}`,
      `hardirqs last disabled at ${stamp(t.hardirqsOff)}`,
      `softirqs last  enabled at ${stamp({ step: 0, at: null })}`,
      `softirqs last disabled at ${stamp({ step: 0, at: null })}`,
    );
  }
  lines.push(...cpuBlock(k, t), 'Call trace:', ...traceLines(at));
  const fn = at ? at.fn.name : '??';
  emit(
    k,
    new KReport(
      'might_sleep',
      `BUG: sleeping function called from invalid context in ${fn}`,
      false,
      lines,
      [threadInfo(t)],
      fn,
    ),
  );
}
