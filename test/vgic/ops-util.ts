import { DEFAULT_MAX_STEPS, type Execution, type Program } from '../../src/explore/execution.ts';
import type { Op } from '../../src/explore/ops.ts';
import { runExecution } from '../../src/explore/record.ts';
import { ReplayScheduler } from '../../src/explore/schedule.ts';
import type { Violation } from '../../src/explore/violation.ts';
import { emptyLr, type Lr } from '../../src/gic/lr.ts';
import { peek } from '../../src/kernel/access.ts';
import type { Kernel } from '../../src/kernel/kernel.ts';
import { peekEntries } from '../../src/kernel/list.ts';
import {
  raw_spin_lock,
  raw_spin_lock_irqsave,
  raw_spin_unlock,
  raw_spin_unlock_irqrestore,
} from '../../src/kernel/locks.ts';
import type { KObj } from '../../src/kernel/mem.ts';
import type { Task } from '../../src/kernel/task.ts';
import { findingClass } from '../../src/report/classes.ts';
import { parseDesignExpression } from '../../src/vgic/design-expr.ts';
import { type Gen, irqLock, vgic_target_oracle } from '../../src/vgic/irq.ts';
import { type ItsCommand, vgic_its_process_commands } from '../../src/vgic/its.ts';
import { DIST, F, GICR_CTLR, IRQ, VCPU, VGIC_IRQ } from '../../src/vgic/layout.ts';
import { vgic_queue_irq_unlock } from '../../src/vgic/queue.ts';
import { DEFAULT_VM_CONFIG, type Vcpu, type Vm, type VmConfig } from '../../src/vgic/vm.ts';
import { createWorld } from '../../src/vgic/world.ts';

/**
 * Direct operation tests: one execution whose build step creates a Kernel and a Vm, then runs model
 * generator functions synchronously (Kernel.runPrologue) on the vCPU tasks or on a VMM task. Fields are
 * arranged and inspected without instrumentation (`loc().value`, `peek`).
 */
export interface Env {
  k: Kernel;
  vm: Vm;
  /** The VMM / device task; it runs on a CPU that is no vCPU's. */
  host: Task;
  /** Runs `gen` to completion on task `t` and returns its result. */
  call<R>(t: Task, gen: Gen<R>): R;
  /** Runs the plain (non-generator) model function `fn` on task `t`, inside a step like `call`. */
  run<R>(t: Task, fn: () => R): R;
  /** The task of vCPU `i` (CPU i). */
  task(i: number): Task;
  vcpu(i: number): Vcpu;
}

export interface EnvOptions {
  /** A design expression (V3 by default). */
  design?: string;
  vm?: Partial<Omit<VmConfig, 'design'>>;
}

export interface EnvResult<R> {
  value: R;
  env: Env;
  exec: Execution;
  violations: Violation[];
  /** Titles of the kernel reports and functional findings (lock-discipline notes are left out). */
  titles: string[];
}

/**
 * Builds a VM in a fresh execution and runs `body` in the build step. After `body` the execution runs
 * its remaining threads (the RCU callback threads that kfree_rcu starts), so frees after a grace period
 * are visible once `withVm` returns.
 */
export function withVm<R>(opts: EnvOptions, body: (env: Env) => R): EnvResult<R> {
  const design = parseDesignExpression(opts.design ?? 'V3');
  let value: R | undefined;
  // Set before `body` runs: a fatal report inside it ends the build, and the test still inspects the VM.
  let env: Env | undefined;
  const program: Program<Env> = {
    name: 'operations',
    build(e) {
      const cfg: VmConfig = { ...DEFAULT_VM_CONFIG, vcpus: 2, ...opts.vm, design };
      const { k, vm, vmm: host } = createWorld(e, cfg, 'operations');
      const envv: Env = {
        k,
        vm,
        host,
        call<T>(t: Task, gen: Gen<T>): T {
          let out: T | undefined;
          // Calls are sequential: everything before this call happens before it (no KCSAN races between
          // the steps of a unit test, which are not concurrent).
          k.prologueDone();
          k.runPrologue(
            t,
            (function* () {
              out = yield* gen;
            })(),
          );
          return out as T;
        },
        run<T>(t: Task, fn: () => T): T {
          return envv.call(
            t,
            (function* (): Gen<T> {
              yield* [] as Op[]; // no scheduling point: fn runs within one step
              return fn();
            })(),
          );
        },
        task: (i) => vm.vcpus[i].task,
        vcpu: (i) => vm.vcpus[i],
      };
      env = envv;
      value = body(envv);
      return { world: envv, observer: k.observer() };
    },
  };
  const { exec } = runExecution(program, new ReplayScheduler([]), {
    maxSteps: DEFAULT_MAX_STEPS,
  });
  return {
    value: value as R,
    env: env!,
    exec,
    violations: exec.violations,
    titles: exec.violations.filter((v) => findingClass(v.checker) !== 'note').map((v) => v.title),
  };
}

// ---- uninstrumented field access ----

export function flags(irq: KObj): number {
  return peek(irq, IRQ.flags);
}

export function has(irq: KObj, bit: number): boolean {
  return (flags(irq) & bit) !== 0;
}

export function setBits(irq: KObj, set: number, clear = 0): void {
  irq.loc(IRQ.flags).value = (flags(irq) | set) & ~clear;
}

export function poke(obj: KObj, field: import('../../src/kernel/mem.ts').Field, value: unknown): void {
  obj.loc(field).value = value;
}

export function vcpuField(irq: KObj): Vcpu | null {
  return peek(irq, IRQ.vcpu);
}

export function refcount(irq: KObj): number {
  return peek(irq, IRQ.refcount);
}

export function requests(v: Vcpu): number {
  return peek(v.obj, VCPU.requests);
}

export function clearRequests(vm: Vm): void {
  for (const v of vm.vcpus) v.obj.loc(VCPU.requests).value = 0;
}

export function activeSpis(vm: Vm): number {
  return peek(vm.obj, DIST.activeSpis);
}

export function setActiveSpis(vm: Vm, n: number): void {
  vm.obj.loc(DIST.activeSpis).value = n;
}

export function setDistEnabled(vm: Vm, on: boolean): void {
  vm.obj.loc(DIST.enabled).value = on ? 1 : 0;
}

/** INTIDs on a vCPU's AP list, in list order. */
export function apList(v: Vcpu): number[] {
  return peekEntries(v.apHead, 'ap_list').entries.map((o) => peek(o, IRQ.intid));
}

export const AP_NEXT = VGIC_IRQ.field('ap_list.next');
export const AP_PREV = VGIC_IRQ.field('ap_list.prev');

export function spi(vm: Vm, intid: number): KObj {
  return vm.spis[intid - 32];
}

export function priv(v: Vcpu, intid: number): KObj {
  return v.privateIrq(intid);
}

// ---- model calls wrapped with the locks their callers hold ----

/** vgic_target_oracle under the IRQ's irq_lock (as required). */
export function* oracleLocked(t: Task, vm: Vm, irq: KObj): Gen<Vcpu | null> {
  const flagsSaved = yield raw_spin_lock_irqsave(t, irqLock(t, irq));
  const v = vgic_target_oracle(t, vm, irq);
  raw_spin_unlock_irqrestore(t, irqLock(t, irq), flagsSaved);
  return v;
}

/** LOCK_IRQSAVE(irq_lock) then vgic_queue_irq_unlock, as every caller of vgic_queue_irq_unlock does. */
export function* queueIrq(t: Task, vm: Vm, irq: KObj): Gen<boolean> {
  const f = yield raw_spin_lock_irqsave(t, irqLock(t, irq));
  return yield* vgic_queue_irq_unlock(t, vm, irq, f);
}

/** Runs `body` as T(v) does: IRQs off (and, when `apLock`, holding v's ap_list_lock). */
export function* onVcpu<R>(t: Task, v: Vcpu, body: () => Gen<R>, apLock = false): Gen<R> {
  const was = t.irqsOff;
  t.setIrqsOff(true);
  try {
    if (apLock) yield raw_spin_lock(t, v.apLock);
    const r = yield* body();
    if (apLock) raw_spin_unlock(t, v.apLock);
    return r;
  } finally {
    t.setIrqsOff(was);
  }
}

/** Runs `fn` under the IRQ's lock (for helpers that require it, e.g. compute_lr). */
export function* underIrqLock<R>(t: Task, irq: KObj, fn: () => R): Gen<R> {
  const f = yield raw_spin_lock_irqsave(t, irqLock(t, irq));
  const r = fn();
  raw_spin_unlock_irqrestore(t, irqLock(t, irq), f);
  return r;
}

/**
 * Puts `irq` on `v`'s AP list through the real queue path (pending, enabled, routed to v), then
 * rewrites its state to `state` (flags word, priority, group, target). SPIs queued here bump
 * active_spis; callers that care reset it.
 */
export function place(
  env: Env,
  irq: KObj,
  v: Vcpu,
  state: { flags?: number; priority?: number; group?: 0 | 1; target?: Vcpu | null; hwintid?: number } = {},
): void {
  const save = flags(irq);
  poke(irq, IRQ.target, v);
  setBits(irq, F.PENDING_LATCH | F.ENABLED, F.ACTIVE);
  const ok = env.call(env.host, queueIrq(env.host, env.vm, irq));
  if (!ok) throw new Error(`place: ${irq.label} was not queued`);
  // Keep the configuration bits (level, hw) of the original word unless a state is given.
  poke(irq, IRQ.flags, state.flags ?? (save & (F.CONFIG_LEVEL | F.HW)) | F.PENDING_LATCH | F.ENABLED);
  if (state.priority !== undefined) poke(irq, IRQ.priority, state.priority);
  if (state.group !== undefined) poke(irq, IRQ.group, state.group);
  if (state.target !== undefined) poke(irq, IRQ.target, state.target);
  if (state.hwintid !== undefined) poke(irq, IRQ.hwintid, state.hwintid);
}

/** Sets up an ITS with collection c -> vCPU c for every vCPU, device 0, and LPIs enabled everywhere. */
export function setupIts(env: Env): void {
  const { vm } = env;
  for (const v of vm.vcpus) v.obj.loc(VCPU.ctlr).value = GICR_CTLR.ENABLE_LPIS;
  its(env, [
    { cmd: 'MAPD', device: 0, valid: true },
    ...vm.vcpus.map((v) => ({ cmd: 'MAPC' as const, collection: v.id, vcpu: v.id })),
  ]);
}

export function its(env: Env, cmds: ItsCommand[], t: Task = env.host): void {
  env.call(t, vgic_its_process_commands(t, env.vm, cmds));
}

/** The live LPI object of an INTID (uninstrumented xarray read). */
export function lpi(vm: Vm, intid: number): KObj | null {
  return vm.lpiXa.peekEntries().find(([i]) => i === intid)?.[1] ?? null;
}

export function lr(partial: Partial<Lr> & { vintid: number }): Lr {
  return { ...emptyLr(), ...partial };
}
