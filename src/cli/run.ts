import type { Execution, Scheduler } from '../explore/execution.ts';
import { tokenOf } from '../explore/explorer.ts';
import { recordExecution } from '../explore/record.ts';
import { ReplayScheduler } from '../explore/schedule.ts';
import type { Stop } from '../explore/stop.ts';
import { RandomStrategy } from '../explore/strategies/random.ts';
import { bySeverity, fails, findingClass } from '../report/classes.ts';
import { configOf, findingHead, reportTrailer } from '../report/finding.ts';
import { interleavingOf, renderInterleaving } from '../report/interleaving.ts';
import { plural } from '../report/text.ts';
import { formatToken, shellQuote } from '../report/token.ts';
import type { World } from '../scenario/builder.ts';
import { kernelConfigOf } from '../scenario/kernel-config.ts';
import type { LoadedScenario } from '../scenario/load.ts';
import type { Design } from '../vgic/designs.ts';
import { interruptsNotIdle } from '../vgic/dump.ts';
import { type CommonOptions, colors, printJson, programOf, say, writePerfetto } from './context.ts';
import { EXIT } from './errors.ts';
import { type ResolvedScenario, tokenTarget } from './resolve.ts';
import { terminal } from './tty.ts';

export interface RunResult {
  exec: Execution;
  world: World;
}

/** One execution, recorded: the default schedule, a replayed one, or one seeded random walk. */
export function runOnce(
  s: LoadedScenario,
  d: Design,
  decisions: readonly number[] | null,
  seed: number | undefined,
  stop: Stop,
): RunResult {
  const scheduler = decisions ? new ReplayScheduler(decisions) : new RandomStrategy(seed ?? 0);
  return runWith(s, d, scheduler, stop);
}

/**
 * One recorded execution of the scenario on the design under `scheduler`, with its world; a signal
 * cuts it short (outcome `stopped`).
 */
export function runWith(s: LoadedScenario, d: Design, scheduler: Scheduler, stop: Stop): RunResult {
  return recordExecution(programOf(s, d), scheduler, { maxSteps: s.explore.maxSteps, stop });
}

/** What `run --json` and `replay --json` print of one recorded execution. */
export function runDocument(
  r: RunResult,
  scenario: ResolvedScenario,
  d: Design,
  command: 'run' | 'replay',
  title: string,
) {
  const { exec, world } = r;
  const schedule = tokenOf(exec);
  // A run cut short by a signal made only part of its schedule: no token would replay it.
  const token = exec.outcome === 'stopped' ? null : formatToken(tokenTarget(scenario, d), schedule);
  return {
    command,
    schedule: title,
    scenario: scenario.ref,
    design: d.id,
    outcome: exec.outcome,
    steps: exec.stepCount,
    token,
    guest: world.vm.vcpus.map((v) => ({
      vcpu: v.id,
      events: world.vm.events.filter((e) => e.vcpu === v.id).map((e) => e.text),
    })),
    interrupts: interruptsNotIdle(world.vm),
    config: configOf(d, kernelConfigOf(scenario.loaded.spec)),
    reports: reportsOf(r, scenario, d).map(({ v, trailer }) => ({
      class: findingClass(v.checker),
      checker: v.checker,
      title: v.title,
      fatal: v.fatal,
      step: v.step,
      text: v.text(),
      trailer,
    })),
    interleaving: interleavingOf(exec),
  };
}

/**
 * The reports as check prints them: most severe first, each with its vgic-lab header and model
 * trailer, so that nothing of vgic-lab's own reads like a kernel log.
 */
function reportsOf(r: RunResult, scenario: ResolvedScenario, d: Design) {
  const schedule = tokenOf(r.exec);
  return bySeverity(r.exec.violations, (v) => v).map((v) => ({
    v,
    trailer: reportTrailer(v, d.id, scenario.ref, r.exec.index, schedule),
  }));
}

/** The guest-visible log, final interrupt states and reports of one recorded execution. */
export function printRun(
  r: RunResult,
  scenario: ResolvedScenario,
  d: Design,
  opts: CommonOptions,
  command: 'run' | 'replay',
  title: string,
): number {
  const c = colors(opts);
  const { loaded: s } = scenario;
  const { exec, world } = r;
  const doc = runDocument(r, scenario, d, command, title);
  const { token, config } = doc;
  const stopped = exec.outcome === 'stopped';
  const il = doc.interleaving;
  const reports = reportsOf(r, scenario, d);
  const name = `${s.spec.name} on ${d.id}`;
  if (opts.perfetto) writePerfetto(opts.perfetto, [{ name: `${command}: ${title}`, il }], name);
  if (opts.json) {
    printJson(doc);
  } else {
    say(
      opts,
      c.bold(
        `${s.spec.name} on ${d.id} (${d.name}): ${title}, ${plural(exec.stepCount, 'step')}, ${howItEnded(exec)}`,
      ),
    );
    for (const v of world.vm.vcpus) {
      const evs = world.vm.events.filter((e) => e.vcpu === v.id);
      say(opts, `vCPU ${v.id}:${evs.length === 0 ? ' (did not run)' : ''}`);
      for (const e of evs) say(opts, `  ${e.what === 'assert' ? c.red(e.text) : e.text}`);
    }
    const states = interruptsNotIdle(world.vm);
    say(opts, `Interrupts at the ${stopped ? 'interruption' : 'end'}:${states.length ? '' : ' all idle'}`);
    for (const st of states) say(opts, `  ${st}`);
    reports.forEach(({ v, trailer }, i) => {
      say(opts, '');
      say(opts, c.red([...findingHead(v, i + 1, reports.length, config), v.text(), ...trailer].join('\n')));
    });
    // Up to the last report; reports of the prologue have no step.
    const last = Math.max(-1, ...exec.violations.map((v) => v.step));
    if (last >= 0) {
      say(opts, '');
      say(opts, 'Interleaving:');
      const view = { width: terminal().columns, verbose: opts.verbose === true, firing: last };
      for (const l of renderInterleaving(interleavingOf(exec, last), view)) say(opts, l);
    }
    say(opts, '');
    if (token) say(opts, `Replay: vgic-lab replay ${shellQuote(token)}`);
    else say(opts, `Interrupted at step ${exec.stepCount}: the above is the execution up to there.`);
  }
  if (exec.outcome === 'stopped') return EXIT.INTERRUPTED;
  return exec.violations.some((v) => fails(v, false)) ? EXIT.VIOLATION : EXIT.OK;
}

/** How an execution ended, in words (a finding that fired does not end it unless it is fatal). */
function howItEnded(exec: Execution): string {
  switch (exec.outcome) {
    case 'complete':
      return 'ran to its end';
    case 'violation':
      return exec.crashed ? 'stopped at a fatal report' : 'ran to its end';
    case 'deadlock':
      return 'every thread blocked (deadlock)';
    case 'bound':
      return 'cut at the step bound';
    case 'sleep-blocked':
      return 'blocked by the sleep set';
    case 'stopped':
      return `interrupted at step ${exec.stepCount}`;
  }
}
