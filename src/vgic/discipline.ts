import type { ListHead } from '../kernel/list.ts';
import { KReport, threadInfo } from '../kernel/splat.ts';
import { traceLines } from '../kernel/stack.ts';
import type { Task } from '../kernel/task.ts';
import type { Vcpu } from './vm.ts';

/**
 * Lock-discipline note P-LOCK: the task is about to read the AP-list linkage of `v` at `pos` without
 * holding `v`'s ap_list_lock. No kernel check catches this (mainline has no lockdep_assert_held
 * there), so vgic-lab says it in its own words: which lock the access needed and why it matters. It
 * fires whether or not another CPU interferes; the interleavings where one does show up as kernel
 * reports (KCSAN, a poisoned-pointer oops, KASAN).
 */
export function checkApListLocked(t: Task, v: Vcpu, pos: ListHead): void {
  if (!t.k.switches.LOCK_DISCIPLINE_NOTES || v.apLock.owner === t) return;
  const where = t.stack ? t.stack.location() : '??';
  const fn = t.stack ? t.stack.fn.name : '??';
  const lines = [
    `vgic-lab: lock-discipline note P-LOCK at ${where}`,
    `  ${t.comm} (PID ${t.pid}, CPU ${t.cpu}) reads ${pos.obj.label}.${pos.name}.next, a link of`,
    `  vCPU ${v.id}'s AP list, without holding vCPU ${v.id}'s ap_list_lock (&vgic_cpu->ap_list_lock).`,
    '  Queueing, pruning, vgic_flush_pending_lpis and the flush change these links under that lock,',
    '  from any CPU: an unlocked walk can follow an entry that another CPU is unlinking (LIST_POISON)',
    '  or has already freed.',
    '  Call trace:',
    ...traceLines(t.stack, '   '),
  ];
  // vgic-lab's own check: not printk, so PANIC_ON_WARN does not apply.
  t.k.exec.report(
    new KReport(
      'note',
      `P-LOCK: ${fn} reads the AP list without ap_list_lock`,
      false,
      lines,
      [threadInfo(t)],
      fn,
    ),
  );
}
