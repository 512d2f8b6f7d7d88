import { kasanDoubleFree } from './kasan.ts';
import type { KObj } from './mem.ts';
import { defineFn, withFrame } from './stack.ts';
import type { Task } from './task.ts';

const KFREE = defineFn({ name: 'kfree', file: 'mm/slub.c', steps: [] });

/**
 * kfree: the object becomes a tombstone (its fields stay readable, its address is never reused). Every
 * field counts as written, so DPOR orders the free against every access to the object.
 */
export function kfree(t: Task, obj: KObj): void {
  const at = withFrame(t.stack, KFREE);
  if (t.k.exec.recording) t.k.exec.note(`kfree(${obj.label})`);
  if (obj.freed) {
    if (t.k.switches.KASAN) kasanDoubleFree(t, obj, t.stack);
    return;
  }
  t.k.lockdep.checkFreed(t, obj.addr, obj.end);
  obj.freed = true;
  obj.freeStack = at;
  obj.freePid = t.pid;
  const exec = t.k.exec;
  if (exec.inStep) for (let i = 0; i < obj.type.fields.length; i++) exec.fp.write(obj.firstLoc + i);
}
