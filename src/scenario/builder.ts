import { type Execution, type Program, PrologueError, type Scheduler } from '../explore/execution.ts';
import { runExecution } from '../explore/record.ts';
import { SimpleViolation } from '../explore/violation.ts';
import { DEFAULT_CPUIF_SWITCHES, MIN_LPI } from '../gic/cpuif.ts';
import { GuestCpu, type Handler } from '../gic/guest.ts';
import { peek, poke } from '../kernel/access.ts';
import type { KernelConfig } from '../kernel/kconfig.ts';
import { switchesOf } from '../kernel/kconfig.ts';
import type { KObj } from '../kernel/mem.ts';
import type { Switches } from '../kernel/switches.ts';
import type { Task } from '../kernel/task.ts';
import type { Design } from '../vgic/designs.ts';
import { dumpState } from '../vgic/dump.ts';
import { type HostCall, hostCall } from '../vgic/host.ts';
import type { Gen } from '../vgic/irq.ts';
import { F, GICR_CTLR, IRQ, VCPU } from '../vgic/layout.ts';
import { newEventfd } from '../vgic/notify.ts';
import { vcpuRun } from '../vgic/runloop.ts';
import { kvm_timer_map } from '../vgic/timer.ts';
import type { Vcpu, Vm } from '../vgic/vm.ts';
import { createWorld, deviceTask, type VgicWorld } from '../vgic/world.ts';
import { ScenarioError } from './error.ts';
import { kernelConfigOf } from './kernel-config.ts';
import type { HandlerName, ScenarioSpec } from './schema.ts';

/** Where a loaded scenario's prologue steps are in its file, for problems found when they run. */
export interface SourceMap {
  file: string;
  prologue: { line: number; col: number }[];
}

/** The host call the H-VGIC handler makes to lower a level interrupt's line (KVM_IRQ_LINE 0). */
export function lowerLine(intid: number): HostCall {
  return { call: 'irq_line', intid, level: false };
}

/** The guest's IRQ handler a scenario names (docs/scenarios.md, handlers). */
function handlerOf(name: HandlerName | undefined): Handler | undefined {
  switch (name) {
    case 'vgic':
      return { kind: 'vgic', level: false, lowerLine };
    case 'vgic-level':
      return { kind: 'vgic', level: true, lowerLine };
    case 'kut':
      return { kind: 'kut' };
    case 'simple':
      return { kind: 'simple' };
    case undefined:
      return undefined;
  }
}

/** What a built execution exposes to tests, reports and oracles: the VM and each vCPU's guest. */
export interface World extends VgicWorld {
  guests: Map<number, GuestCpu>;
}

function irqObj(vm: Vm, intid: number, vcpu: number): KObj | null {
  if (intid < 32) return vm.vcpus[vcpu]?.privateIrq(intid) ?? null;
  return vm.spis[intid - 32] ?? null;
}

/**
 * The priority an acknowledged interrupt had, as the guest's CPU interface compares it (5 bits). An
 * LPI's vgic_irq may be gone by the end, so its priority comes from the LPI configuration table, with
 * the ITS's default for an LPI the scenario did not configure.
 */
function ackedPriority(vm: Vm, intid: number, vcpu: number): number {
  if (intid >= MIN_LPI) return (vm.lpiProps.get(intid)?.priority ?? 0xa0) & 0xf8;
  const irq = irqObj(vm, intid, vcpu);
  if (!irq) throw new Error(`vCPU ${vcpu} acknowledged INTID ${intid}, which the VM does not have`);
  return peek(irq, IRQ.priority) & 0xf8;
}

/** VM creation: the register state of each configured interrupt (no thread runs yet). */
function configure(vm: Vm, s: ScenarioSpec): void {
  for (const spec of s.interrupts) {
    if (spec.lpi) {
      vm.lpiProps.set(spec.intid, { priority: spec.priority ?? 0xa0, enabled: true });
      continue;
    }
    const owners =
      spec.intid < 32 ? (spec.target === undefined ? vm.vcpus.map((v) => v.id) : [spec.target]) : [0];
    for (const o of owners) {
      const irq = irqObj(vm, spec.intid, o);
      if (!irq) continue;
      let f = peek(irq, IRQ.flags);
      if (spec.trigger) f = spec.trigger === 'level' ? f | F.CONFIG_LEVEL : f & ~F.CONFIG_LEVEL;
      if (spec.enabled !== undefined) f = spec.enabled ? f | F.ENABLED : f & ~F.ENABLED;
      poke(irq, IRQ.flags, f);
      if (spec.priority !== undefined) poke(irq, IRQ.priority, spec.priority & 0xf8);
      if (spec.group !== undefined) poke(irq, IRQ.group, spec.group);
      if (spec.intid >= 32 && spec.target !== undefined) {
        poke(irq, IRQ.target, vm.vcpus[spec.target]);
        if (vm.config.gic === 2) poke(irq, IRQ.targets, 1 << spec.target);
      }
    }
  }
  const timer = s.interrupts.find((i) => i.timer);
  if (timer) kvm_timer_map(vm, timer.intid);
  for (const id of s.lpisEnabled) poke(vm.vcpus[id].obj, VCPU.ctlr, GICR_CTLR.ENABLE_LPIS);
  for (const intid of s.resamplers) {
    vm.resamplers.push({ pin: intid - 32, resamplefd: newEventfd(vm, `resamplefd ${intid}`) });
  }
}

function* hostActor(t: Task, vm: Vm, calls: readonly HostCall[]): Gen {
  for (const c of calls) yield* hostCall(t, vm, c);
}

function checkExpectations(exec: Execution, w: World, e: ScenarioSpec['expect']): void {
  for (const [id, acks] of Object.entries(e.acks ?? {})) {
    const want = Array.isArray(acks) ? { intids: acks, ordered: false } : acks;
    const g = w.guests.get(Number(id));
    const got = g ? g.log.acks : [];
    const a = want.ordered ? got.join(',') : [...got].sort((x, y) => x - y).join(',');
    const b = want.ordered ? want.intids.join(',') : [...want.intids].sort((x, y) => x - y).join(',');
    if (a !== b) {
      exec.report(
        new SimpleViolation(
          'expect',
          `expect: vCPU ${id} acknowledged other interrupts`,
          false,
          `vgic-lab: expectation failed: vCPU ${id} acknowledged [${got.join(', ')}], expected [${want.intids.join(', ')}]${want.ordered ? ' in this order' : ''}`,
        ),
      );
    }
  }
  for (const [id, want] of Object.entries(e.sgiSources ?? {})) {
    const got = w.guests.get(Number(id))?.log.sgiSources ?? [];
    const sorted = (l: readonly number[]) => [...l].sort((x, y) => x - y).join(',');
    if (sorted(got) !== sorted(want)) {
      exec.report(
        new SimpleViolation(
          'expect',
          `expect: vCPU ${id} acknowledged SGIs from other sources`,
          false,
          `vgic-lab: expectation failed: vCPU ${id} acknowledged SGIs from CPUs [${got.join(', ')}] (the IAR's CPUID field), expected [${want.join(', ')}]`,
        ),
      );
    }
  }
  for (const id of e.ackPriorityOrder ?? []) {
    const acks = w.guests.get(id)?.log.acks ?? [];
    const prios = acks.map((intid) => ackedPriority(w.vm, intid, id));
    const bad = prios.findIndex((p, i) => i > 0 && p < prios[i - 1]);
    if (bad > 0) {
      exec.report(
        new SimpleViolation(
          'expect',
          `expect: vCPU ${id} acknowledged out of priority order`,
          false,
          `vgic-lab: expectation failed (O2): vCPU ${id} acknowledged ${acks[bad]} (priority 0x${prios[bad].toString(16)}) after ${acks[bad - 1]} (priority 0x${prios[bad - 1].toString(16)})`,
        ),
      );
    }
  }
  for (const f of e.final ?? []) {
    // checkSpec guarantees the object exists: a skipped entry would be a check that cannot fail.
    const irq = irqObj(w.vm, f.intid, f.vcpu ?? 0)!;
    const flags = peek(irq, IRQ.flags);
    const active = (flags & F.ACTIVE) !== 0;
    const pending =
      flags & F.CONFIG_LEVEL
        ? (flags & (F.PENDING_LATCH | F.LINE_LEVEL)) !== 0
        : (flags & F.PENDING_LATCH) !== 0;
    if (
      (f.active !== undefined && f.active !== active) ||
      (f.pending !== undefined && f.pending !== pending)
    ) {
      exec.report(
        new SimpleViolation(
          'expect',
          `expect: final state of INTID ${f.intid}`,
          false,
          `vgic-lab: expectation failed: INTID ${f.intid} ends ${active ? 'active' : 'inactive'} and ${pending ? 'pending' : 'not pending'}`,
        ),
      );
    }
  }
}

/** VM creation: the VM as the scenario configures it, before anything runs. */
function newWorld(exec: Execution, s: ScenarioSpec, design: Design, kernel: Partial<Switches>): World {
  const gic = s.vm.gic === 'v2' ? 2 : 3;
  const w = createWorld(exec, { ...s.vm, gic, design, cpuif: DEFAULT_CPUIF_SWITCHES, kernel }, s.name);
  configure(w.vm, s);
  return { ...w, guests: new Map() };
}

/** The LPIs' ITS mappings and the scenario's prologue, run to their end outside the scheduler. */
function runPrologue(w: VgicWorld, s: ScenarioSpec, source?: SourceMap): void {
  const { k, vm, vmm } = w;
  // The ITS mappings of the LPIs, as vCPU 0's guest would issue them.
  const lpis = s.interrupts.flatMap((i) => (i.lpi ? [{ intid: i.intid, ...i.lpi }] : []));
  if (lpis.length > 0) {
    const cmds: HostCall = {
      call: 'its',
      cmds: [
        ...[...new Set(lpis.map((l) => l.device))].map((device) => ({
          cmd: 'MAPD' as const,
          device,
          valid: true,
        })),
        ...[...new Set(lpis.map((l) => l.collection))].map((collection) => ({
          cmd: 'MAPC' as const,
          collection,
          vcpu: collection,
        })),
        ...lpis.map((l) => ({
          cmd: 'MAPTI' as const,
          device: l.device,
          event: l.event,
          intid: l.intid,
          collection: l.collection,
        })),
      ],
    };
    k.runPrologue(vm.vcpus[0].task, hostActor(vm.vcpus[0].task, vm, [cmds]));
  }
  s.prologue.forEach((p, i) => {
    try {
      if ('host' in p) k.runPrologue(vmm, hostActor(vmm, vm, [p.host]));
      else {
        const v = vm.vcpuById(p.vcpu);
        const g = new GuestCpu(v.cpuif, p.guest, handlerOf(p.handler));
        k.runPrologue(v.task, vcpuRun(v.task, vm, v, g));
      }
    } catch (e) {
      throw blockedStep(s, i, e, source);
    }
  });
  k.prologueDone();
  vm.events.length = 0;
}

/** The actors as threads: vCPUs running their guest, the VMM and device threads their host calls. */
function startActors(w: World, s: ScenarioSpec): void {
  const { k, vm, vmm } = w;
  let hostN = 0;
  for (const a of s.actors) {
    if ('vcpu' in a) {
      const v: Vcpu = vm.vcpuById(a.vcpu);
      const g = new GuestCpu(v.cpuif, a.guest, handlerOf(a.handler));
      w.guests.set(v.id, g);
      k.start(v.task, (t) => vcpuRun(t, vm, v, g));
    } else {
      const n = hostN++;
      const t = n === 0 ? vmm : deviceTask(w, n, a.host);
      k.start(t, (tt) => hostActor(tt, vm, a.actions));
    }
  }
}

/**
 * A prologue step runs to its end outside the scheduler, so one that waits for something nobody will
 * do (an interrupt that is not pending, say) can never finish: that is a mistake in the scenario, not
 * in vgic-lab. Other errors pass through unchanged.
 */
function blockedStep(s: ScenarioSpec, i: number, e: unknown, source?: SourceMap): unknown {
  if (!(e instanceof PrologueError)) return e;
  const step = s.prologue[i];
  const who = 'host' in step ? 'the VMM' : `vCPU ${step.vcpu}`;
  const problem = `this prologue step never finishes: ${who}: ${e.why}`;
  const hint =
    'the prologue runs each step to its end before exploring; make what it waits for happen in an earlier ' +
    'step (e.g. a host call that makes the interrupt pending), shorten it, or move the step to actors';
  const at = source?.prologue[i];
  if (!source || !at) return new Error(`scenario ${s.name}: prologue[${i}]: ${problem}`);
  return new ScenarioError(source.file, at.line, at.col, `prologue[${i}]`, problem, hint);
}

/** Runs nothing after the prologue: a probe execution has no threads to schedule. */
const NO_STEPS: Scheduler = { pickThread: () => -1, pickValue: () => 0 };

/**
 * The prologue is deterministic, so one run of it tells whether it can finish. Running it here, before
 * any exploration, lets a stuck step surface as the scenario error it is rather than as a crash of the
 * first execution. Anything else the probe meets, the exploration meets again and reports with its
 * schedule.
 */
function probePrologue(s: ScenarioSpec, design: Design, kernel: Partial<Switches>, source?: SourceMap): void {
  if (s.prologue.length === 0) return;
  const probe: Program = {
    name: s.name,
    build(exec) {
      const w = newWorld(exec, s, design, kernel);
      return { world: w, observer: w.k.observer(), start: () => runPrologue(w, s, source) };
    },
  };
  try {
    runExecution(probe, NO_STEPS, { maxSteps: 0 }, { index: 0 });
  } catch (e) {
    if (e instanceof ScenarioError) throw e;
  }
}

/** Problems in a scenario written in code that the loader rejects with a position for files. */
function checkSpec(s: ScenarioSpec): void {
  for (const f of s.expect.final ?? []) {
    if (f.intid >= 32 + s.vm.spis || (f.vcpu ?? 0) >= s.vm.vcpus)
      throw new Error(
        `scenario ${s.name}: expect.final names INTID ${f.intid} on vCPU ${f.vcpu ?? 0}, which the VM does not have`,
      );
  }
}

/**
 * Builds the explorer program of a scenario: a fresh VM, the prologue, then the actors as threads.
 * `source` places the prologue's steps in the file a loaded scenario came from.
 */
export function buildProgram(
  s: ScenarioSpec,
  design: Design,
  source?: SourceMap,
  kernel: KernelConfig = kernelConfigOf(s),
): Program<World> {
  checkSpec(s);
  const switches = switchesOf(kernel);
  probePrologue(s, design, switches, source);
  return {
    name: s.name,
    build(exec: Execution) {
      const world = newWorld(exec, s, design, switches);
      const { k, vm } = world;
      const start = () => {
        runPrologue(world, s, source);
        startActors(world, s);
      };
      const atEnd = () => {
        vm.checks.executionEnd(vm);
        checkExpectations(exec, world, s.expect);
      };
      const observer = k.observer({
        atEnd,
        finalState: () => finalState(world),
        snapshot: () => dumpState(vm),
      });
      return { world, observer, start };
    },
  };
}

/** A compact summary of the end state (acks and every non-idle interrupt), for comparing runs. */
export function finalState(w: World): string {
  const parts: string[] = [];
  for (const [id, g] of [...w.guests].sort((a, b) => a[0] - b[0]))
    parts.push(`v${id} acks=${g.log.acks.join(',')}`);
  const describe = (o: KObj) => {
    const f = peek(o, IRQ.flags);
    const bits = [f & F.ACTIVE ? 'A' : '', f & F.PENDING_LATCH ? 'P' : '', f & F.LINE_LEVEL ? 'L' : ''].join(
      '',
    );
    return bits ? `${o.label}:${bits}` : '';
  };
  for (const v of w.vm.vcpus)
    for (const o of v.madePrivateIrqs()) if (describe(o)) parts.push(`v${v.id}.${describe(o)}`);
  for (const o of w.vm.spis) if (describe(o)) parts.push(describe(o));
  return parts.join(' ');
}
