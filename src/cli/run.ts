import { Execution, Session } from '../explore/execution.ts';
import { tokenOf } from '../explore/explorer.ts';
import { recordExecution } from '../explore/record.ts';
import { RandomStrategy } from '../explore/strategies/random.ts';
import { peek } from '../kernel/access.ts';
import { fullToken } from '../report/finding.ts';
import { interleavingOf, renderInterleaving } from '../report/interleaving.ts';
import type { World } from '../scenario/builder.ts';
import type { LoadedScenario } from '../scenario/load.ts';
import type { Design } from '../vgic/designs.ts';
import { describeIrq } from '../vgic/dump.ts';
import { IRQ, VGIC_IRQ } from '../vgic/layout.ts';
import { type CommonOptions, colors, printJson, programOf, say, writePerfetto } from './context.ts';
import { EXIT } from './errors.ts';

export interface RunResult {
  exec: Execution;
  world: World;
}

/** One execution, recorded: the default schedule, a replayed one, or one seeded random walk. */
export function runOnce(
  s: LoadedScenario,
  d: Design,
  decisions: readonly number[] | null,
  seed?: number,
): RunResult {
  let world: World | null = null;
  const program = programOf(s, d, (w) => {
    world = w;
  });
  let exec: Execution;
  if (decisions) exec = recordExecution(program, decisions, 1, s.explore.maxSteps ?? 10_000);
  else {
    exec = new Execution(1, new Session(), new RandomStrategy(seed ?? 0), {
      maxSteps: s.explore.maxSteps ?? 10_000,
    });
    exec.recording = true;
    exec.run((e) => program.build(e));
  }
  return { exec, world: world! };
}

function interruptStates(w: World): string[] {
  const out: string[] = [];
  for (const o of w.vm.spis) if (peek<number>(o, IRQ.flags) & 0x2b) out.push(describeIrq(o));
  for (const v of w.vm.vcpus)
    for (const o of v.privateIrqs)
      if (peek<number>(o, IRQ.flags) & 0x2b) out.push(`vCPU ${v.id} ${describeIrq(o)}`);
  for (const o of w.k.objects) if (o.type === VGIC_IRQ && o.slab) out.push(describeIrq(o));
  return out;
}

/** The guest-visible log, final interrupt states and reports of one recorded execution. */
export function printRun(
  r: RunResult,
  s: LoadedScenario,
  d: Design,
  scenarioRef: string,
  opts: CommonOptions,
  command: 'run' | 'replay',
  title: string,
): number {
  const c = colors(opts);
  const { exec, world } = r;
  const token = fullToken(d.id, scenarioRef, tokenOf(exec));
  const il = interleavingOf(exec);
  if (opts.perfetto) writePerfetto(opts.perfetto, il, `${s.spec.name} on ${d.id}`);
  if (opts.json) {
    printJson({
      command,
      schedule: title,
      scenario: scenarioRef,
      design: d.id,
      outcome: exec.outcome,
      steps: exec.stepCount,
      token,
      guest: world.vm.vcpus.map((v) => ({
        vcpu: v.id,
        events: world.vm.events.filter((e) => e.vcpu === v.id).map((e) => e.text),
      })),
      interrupts: interruptStates(world),
      reports: exec.violations.map((v) => ({
        checker: v.checker,
        title: v.title,
        fatal: v.fatal,
        step: v.step,
        text: v.text(),
      })),
      interleaving: il,
    });
  } else {
    say(
      opts,
      c.bold(`${s.spec.name} on ${d.id} (${d.name}): ${title}, ${exec.stepCount} steps, ${exec.outcome}`),
    );
    for (const v of world.vm.vcpus) {
      const evs = world.vm.events.filter((e) => e.vcpu === v.id);
      say(opts, `vCPU ${v.id}:${evs.length === 0 ? ' (did not run)' : ''}`);
      for (const e of evs) say(opts, `  ${e.what === 'assert' ? c.red(e.text) : e.text}`);
    }
    const states = interruptStates(world);
    say(opts, `Interrupts at the end:${states.length ? '' : ' all idle'}`);
    for (const st of states) say(opts, `  ${st}`);
    for (const v of exec.violations) {
      say(opts, '');
      say(opts, c.red(v.text()));
    }
    if (exec.violations.length > 0) {
      say(opts, '');
      say(opts, 'Interleaving:');
      for (const l of renderInterleaving(
        interleavingOf(exec, Math.max(...exec.violations.map((v) => v.step))),
      ))
        say(opts, l);
    }
    say(opts, '');
    say(opts, `Replay: vgic-lab replay ${token}`);
  }
  return exec.violations.length > 0 ? EXIT.VIOLATION : EXIT.OK;
}
