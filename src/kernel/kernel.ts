import type { Execution, ExecutionObserver } from '../explore/execution.ts';
import type { ThreadBody } from '../explore/ops.ts';
import { deadlockReport } from './deadlock.ts';
import { type Lockdep, lockdepFor } from './lockdep.ts';
import { KObj, type Loc, StructType, slabClass } from './mem.ts';
import { Rcu } from './rcu.ts';
import { defineFn, Frame } from './stack.ts';
import { DEFAULT_SWITCHES, type Switches } from './switches.ts';
import { Task, type TaskKind } from './task.ts';

export interface KernelConfig {
  /** Kernel version of the design, e.g. "6.19.0". */
  version: string;
  /** Design id ("V3"); printed in lower case in the release string. */
  design: string;
  scenario: string;
  /** The `Hardware name:` text, e.g. "vgic-lab model (GICv3, 2 vCPUs, nLR=4)". */
  hardware: string;
  switches?: Partial<Switches>;
}

export interface TaskSpec {
  comm: string;
  pid: number;
  cpu: number;
  kind?: TaskKind;
  /** Fixed bottom frames of the thread kind (`kvm_vcpu_ioctl`, …), outermost first. */
  tail?: import('./stack.ts').Fn[];
  daemon?: boolean;
}

/** The kernel release string of a design: `7.1.0-vgiclab-v3`. */
export function releaseOf(version: string, design: string): string {
  return `${version}-vgiclab-${design.toLowerCase()}`;
}

const LINEAR_MAP = 0xffff0000c2f40000n;
const BOOT_FRAME = new Frame(defineFn({ name: 'kernel_init', file: 'init/main.c', steps: [] }), 0, null);
const REDZONE = 128n;

/**
 * The modelled kernel of one execution: its tasks, heap, RCU state and sanitizers. Lockdep's graph is
 * kept in the exploration's session so that it accumulates across executions.
 */
/** Where a reserved object goes (`Kernel.reserve`). */
export interface Placement {
  readonly addr: bigint;
  readonly firstLoc: number;
}

export class Kernel {
  readonly switches: Switches;
  readonly tasks: Task[] = [];
  readonly lockdep: Lockdep;
  readonly rcu: Rcu;
  tainted = false;
  private heapTop = LINEAR_MAP + REDZONE;
  private readonly onceSites = new Set<string>();
  readonly objects: KObj[] = [];
  /** One location per task: its RCU reader state, read by grace-period bookkeeping. */
  readonly rcuLocs: Loc[] = [];
  private readonly rcuStateType = new StructType('rcu_data', 8, [{ name: 'state' }]);

  constructor(
    readonly exec: Execution,
    readonly config: KernelConfig,
  ) {
    this.switches = { ...DEFAULT_SWITCHES, ...config.switches };
    this.lockdep = lockdepFor(this);
    this.rcu = new Rcu(this);
  }

  /**
   * How the execution observes this kernel — a thread's location is its task's innermost frame, a
   * deadlock is reported the kernel's way — together with what the world built on it adds.
   */
  observer(world: Omit<ExecutionObserver, 'location' | 'deadlock'> = {}): ExecutionObserver {
    return {
      location: (th) => {
        const top = (th.data as Task | undefined)?.stack;
        return top ? top.location() : '';
      },
      deadlock: (blocked) => deadlockReport(this, blocked),
      locationNames: () => this.locationNames(),
      ...world,
    };
  }

  /**
   * Every instrumented location by id, named by its object's label and field ("LPI 8195: irq_lock"); a
   * lock's release (Lock.releaseId) and each task's RCU reader state have their own.
   */
  locationNames(): Map<number, string> {
    const names = new Map<number, string>();
    for (const o of this.objects)
      o.type.fields.forEach((f, i) => {
        names.set(o.firstLoc + i, `${o.label}: ${f.name}`);
        const lock = o.locs[i]?.value as { releaseId?: unknown } | undefined;
        if (lock && typeof lock.releaseId === 'number')
          names.set(lock.releaseId, `${o.label}: ${f.name} (release)`);
      });
    this.tasks.forEach((t, i) => {
      names.set(this.rcuLocs[i].id, `RCU reader state of ${t.comm}`);
    });
    return names;
  }

  get release(): string {
    return releaseOf(this.config.version, this.config.design);
  }

  get executionNo(): number {
    return this.exec.index;
  }

  /**
   * Creates a task. It runs model code synchronously in the prologue (`runPrologue`) and becomes a
   * schedulable thread with `start`.
   */
  task(spec: TaskSpec): Task {
    const task = new Task(this, spec.comm, spec.pid, spec.cpu, spec.kind ?? 'thread');
    this.tasks.push(task);
    const stateObj = new KObj(this.rcuStateType, 0n, false, `rcu ${spec.comm}`, this.exec.newLocIds(1));
    this.rcuLocs.push(stateObj.loc(this.rcuStateType.fields[0]));
    for (const fn of spec.tail ?? []) task.enter(fn);
    return task;
  }

  /** Makes `task` a thread of the execution running `body`. */
  start(task: Task, body: (t: Task) => ThreadBody, daemon = false): Task {
    this.exec.spawn(
      task.comm,
      (th) => {
        task.thread = th;
        th.data = task;
        return body(task);
      },
      { daemon },
    );
    return task;
  }

  /** Starts a kernel thread; `body` receives its task context. */
  spawn(spec: TaskSpec, body: (t: Task) => ThreadBody): Task {
    return this.start(this.task(spec), body, spec.daemon ?? false);
  }

  /**
   * Runs model code of `task` to completion outside the scheduler (the deterministic prologue that
   * reaches a scenario's initial state). Every lock must be free; value choices take 0.
   */
  runPrologue(task: Task, body: ThreadBody): void {
    this.exec.runSync(body, task.comm);
  }

  /** After the prologue: everything it did happens before every later step (KCSAN). */
  prologueDone(): void {
    const all: number[] = [];
    for (const t of this.tasks) for (let i = 0; i < t.vc.length; i++) all[i] = Math.max(all[i] ?? 0, t.vc[i]);
    for (const t of this.tasks) {
      t.join(all);
      t.vc[t.index]++;
    }
  }

  /** The task of the step being executed. */
  get current(): Task {
    return this.exec.cur!.data as Task;
  }

  /** Allocates a slab object (or static data when `slab` is false) with fields set to `init`. */
  alloc(
    type: StructType,
    label: string,
    init: Record<string, unknown> = {},
    by: Task | null = null,
    slab = true,
  ): KObj {
    return this.place(this.reserve(type, slab), type, label, init, by, slab);
  }

  /**
   * The address and location ids an object allocated now would get, kept for `place`: an object made
   * later at its first use (a private IRQ) is then where a boot-time allocation would have put it.
   */
  reserve(type: StructType, slab: boolean): Placement {
    const firstLoc = this.exec.newLocIds(type.fields.length);
    const addr = this.heapTop;
    const size = BigInt(slab ? slabClass(type.size) : type.size);
    this.heapTop += ((size + REDZONE - 1n) / REDZONE) * REDZONE + REDZONE;
    return { addr, firstLoc };
  }

  /** The object of a reservation. */
  place(
    at: Placement,
    type: StructType,
    label: string,
    init: Record<string, unknown> = {},
    by: Task | null = null,
    slab = true,
  ): KObj {
    const obj = new KObj(type, at.addr, slab, label, at.firstLoc, init);
    // Objects of the deterministic prologue are allocated by init (PID 1) at boot.
    obj.allocStack = by ? by.stack : BOOT_FRAME;
    obj.allocPid = by ? by.pid : 1;
    this.objects.push(obj);
    return obj;
  }

  /** WARN_ONCE bookkeeping: true the first time `site` fires in this execution. */
  firstTime(site: string): boolean {
    if (this.onceSites.has(site)) return false;
    this.onceSites.add(site);
    return true;
  }

  /** Called by Task whenever its RCU reader state may have changed. */
  rcuTransition(t: Task, wasReader: boolean): void {
    const now = t.rcuReader;
    if (now === wasReader) return;
    if (!now) t.qs++;
    const loc = this.rcuLocs[t.index];
    loc.value = t.qs * 2 + (now ? 1 : 0);
    if (this.exec.inStep) this.exec.fp.write(loc.id);
  }

  stackOf(t: Task): Frame | null {
    return t.stack;
  }
}
