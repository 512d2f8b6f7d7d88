import type { ExThread } from '../explore/execution.ts';
import type { Kernel } from './kernel.ts';
import type { HeldLock } from './lockdep.ts';
import { defineFn, type Fn, Frame } from './stack.ts';

export type TaskKind = 'vcpu' | 'vmm' | 'thread' | 'softirq';

/** Where the last IRQ-state change happened, for lockdep's "irq event stamp" block. */
export interface IrqStamp {
  step: number;
  at: Frame | null;
}

/**
 * The kernel context of one thread: IRQ and preemption state, held locks, RCU read-side nesting, guest
 * mode, the call stack, and the KCSAN vector clock.
 */
export class Task {
  /** Index among the kernel's tasks (vector-clock component). */
  readonly index: number;
  irqsOff = false;
  preempt = 0;
  /** Soft-IRQ-disable nesting (local_bh_disable). */
  bhOff = 0;
  /** Hard-IRQ handler nesting (0 = process context). */
  hardirq = 0;
  /** Soft-IRQ context nesting (ksoftirqd running callbacks). */
  softirq = 0;
  readonly held: HeldLock[] = [];
  rcuDepth = 0;
  inGuest = false;
  stack: Frame | null = null;
  vc: number[];
  /** Quiescent-state counter for RCU grace periods: bumped whenever the task leaves a read side. */
  qs = 0;
  hardirqsOn: IrqStamp = { step: 0, at: null };
  hardirqsOff: IrqStamp = { step: 0, at: null };

  /** The explorer thread, once the task is started. */
  thread!: ExThread;

  constructor(
    readonly k: Kernel,
    readonly comm: string,
    readonly pid: number,
    readonly cpu: number,
    readonly kind: TaskKind,
  ) {
    this.index = k.tasks.length;
    this.vc = new Array(this.index + 1).fill(0);
    this.vc[this.index] = 1;
  }

  /**
   * Whether a grace period must wait for this task: inside rcu_read_lock, or with IRQs, preemption or
   * softirqs off — but never in guest mode on a nohz_full CPU, an extended quiescent state. Without
   * NO_HZ_FULL the vCPU keeps IRQs off from entry to sync, so no grace period ends meanwhile.
   */
  get rcuReader(): boolean {
    return (
      !(this.inGuest && this.k.switches.NO_HZ_FULL) &&
      (this.rcuDepth > 0 || this.irqsOff || this.preempt > 0 || this.bhOff > 0)
    );
  }

  get atomic(): boolean {
    return this.preempt > 0 || this.irqsOff || this.hardirq > 0;
  }

  enter(fn: Fn): void {
    this.stack = new Frame(fn, 0, this.stack);
  }

  /**
   * Moves the current function's frame to a named step (the `+0x<step>` of its frame). Kernel
   * functions see this method typed with their own step names (KTask).
   */
  at(step: string): void {
    const s = this.stack!;
    const pc = s.fn.offset(step);
    if (s.pc !== pc) this.stack = new Frame(s.fn, pc, s.parent);
  }

  leave(): void {
    this.stack = this.stack!.parent;
  }

  clock(i: number): number {
    return i < this.vc.length ? this.vc[i] : 0;
  }

  /** Happens-before join (lock acquisition, thread join). */
  join(other: readonly number[]): void {
    for (let i = 0; i < other.length; i++) {
      if (i >= this.vc.length) this.vc.push(0);
      if (other[i] > this.vc[i]) this.vc[i] = other[i];
    }
  }

  /** Release: hand out a copy of the clock, then start a new epoch. */
  release(): number[] {
    const copy = this.vc.slice();
    this.vc[this.index]++;
    return copy;
  }

  /** Marks an IRQ-state change as lockdep's stamps record it. */
  setIrqsOff(off: boolean): void {
    if (off === this.irqsOff) return;
    const leavingReader = this.rcuReader;
    this.irqsOff = off;
    const stamp = { step: this.k.exec.stepCount, at: this.stack };
    if (off) this.hardirqsOff = stamp;
    else this.hardirqsOn = stamp;
    this.k.rcuTransition(this, leavingReader);
  }

  preemptDisable(): void {
    const was = this.rcuReader;
    this.preempt++;
    this.k.rcuTransition(this, was);
  }

  preemptEnable(): void {
    const was = this.rcuReader;
    this.preempt--;
    this.k.rcuTransition(this, was);
  }

  /** Guest entry and exit: a CPU running guest code is in an RCU extended quiescent state. */
  setGuest(on: boolean): void {
    if (on && this.k.exec.recording && this.k.switches.NO_HZ_FULL)
      this.k.exec.note('guest entry (RCU extended quiescent state)');
    const was = this.rcuReader;
    this.inGuest = on;
    this.k.rcuTransition(this, was);
  }

  private irqSaved: boolean[] = [];

  /** Hard-IRQ handler entry and exit on this task's CPU: handlers run with IRQs disabled. */
  irqEnter(): void {
    this.irqSaved.push(this.irqsOff);
    this.setIrqsOff(true);
    this.hardirq++;
  }

  irqExit(): void {
    this.hardirq--;
    this.setIrqsOff(this.irqSaved.pop() ?? false);
  }

  /** `comm/pid` as lockdep prints a task. */
  get name(): string {
    return `${this.comm}/${this.pid}`;
  }
}

export const UNKNOWN_FN = defineFn({ name: '??', file: '', steps: [] });
