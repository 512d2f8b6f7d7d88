import type { ExThread } from '../explore/execution.ts';
import type { Violation } from '../explore/violation.ts';
import type { Kernel } from './kernel.ts';
import { Lock } from './locks.ts';
import { hex } from './mem.ts';
import { cpuBlock, KReport, threadInfo } from './splat.ts';
import { traceLines } from './stack.ts';
import type { Task } from './task.ts';

function waitOf(th: ExThread): unknown {
  return th.next?.waitsFor?.();
}

/**
 * Every live thread is blocked: the header is the watchdog that would fire for the first thread of the
 * wait-for cycle, then every held lock in the system and the cycle itself.
 */
export function deadlockReport(k: Kernel, blocked: ExThread[]): Violation {
  const taskOf = (th: ExThread) => th.data as Task;
  // Follow the wait-for chain from the first thread that waits for a lock; stop at a repeat.
  const start = blocked.find((th) => waitOf(th) instanceof Lock) ?? blocked[0];
  const chain: Task[] = [];
  const parts: string[] = [];
  let cur: ExThread | undefined = start;
  while (cur && !chain.includes(taskOf(cur))) {
    const t = taskOf(cur);
    chain.push(t);
    const w = waitOf(cur);
    if (w instanceof Lock) {
      const owner: Task | null = w.owner;
      const how = w.kind === 'mutex' ? 'sleeps on' : 'spins on';
      parts.push(
        `${t.name} (cpu ${t.cpu}, IRQs ${t.irqsOff ? 'off' : 'on'}) ${how} ${w.cls.name} ${hex(w.addr)} held by ${owner ? owner.name : 'nobody'}`,
      );
      cur = owner ? owner.thread : undefined;
    } else {
      parts.push(`${t.name} (cpu ${t.cpu}) waits for ${String(w ?? 'an event')}`);
      cur = undefined;
    }
  }
  const first = taskOf(start);
  const w0 = waitOf(start);
  const spinning = w0 instanceof Lock && w0.kind !== 'mutex';
  const lines: string[] = [];
  let title: string;
  const fn = first.stack ? first.stack.fn.name : '??';
  if (spinning && first.irqsOff) {
    lines.push(`Watchdog detected hard LOCKUP on cpu ${first.cpu}`);
    title = `Watchdog detected hard LOCKUP in ${fn}`;
  } else if (spinning) {
    lines.push(`watchdog: BUG: soft lockup - CPU#${first.cpu} stuck for 20s! [${first.comm}:${first.pid}]`);
    title = `watchdog: BUG: soft lockup in ${fn}`;
  } else {
    lines.push(
      `INFO: task ${first.comm}:${first.pid} blocked for more than 120 seconds.`,
      `      ${k.tainted ? 'Tainted: G        W' : 'Not tainted'} ${k.release} #${k.executionNo}`,
      '"echo 0 > /proc/sys/kernel/hung_task_timeout_secs" disables this message.',
    );
    title = `INFO: task hung in ${fn}`;
  }
  lines.push(
    'Modules linked in:',
    ...cpuBlock(k, first),
    'Call trace:',
    ...traceLines(first.stack),
    '',
    'Showing all locks held in the system:',
  );
  for (const t of k.tasks) if (t.held.length > 0) lines.push(...k.lockdep.heldList(t), '');
  lines.push('='.repeat(45), '');
  return new KReport('deadlock', title, true, lines, chain.map(threadInfo), fn, [
    `vgic-lab: wait-for cycle: ${parts.join(' -> ')}`,
  ]);
}
