import { PROLOGUE_STEP, type Program } from '../explore/execution.ts';
import { type Finding, tokenOf } from '../explore/explorer.ts';
import { MINIMISE_BUDGET, minimise } from '../explore/minimise.ts';
import { recordExecution } from '../explore/record.ts';
import { ReplayScheduler } from '../explore/schedule.ts';
import type { Stop } from '../explore/stop.ts';
import type { Violation } from '../explore/violation.ts';
import { kernelConfigLine } from '../kernel/config.ts';
import { type KernelConfig, switchesOf } from '../kernel/kconfig.ts';
import { releaseOf } from '../kernel/kernel.ts';
import type { KReport } from '../kernel/splat.ts';
import { trailer } from '../kernel/splat.ts';
import { DEFAULT_SWITCHES } from '../kernel/switches.ts';
import type { Design } from '../vgic/designs.ts';
import { type StateDump, stateLines } from '../vgic/dump.ts';
import { type FindingClass, findingClass } from './classes.ts';
import { type Interleaving, interleavingOf, type RenderOptions, renderInterleaving } from './interleaving.ts';
import { type StepDetails, stepDetailsOf } from './steps.ts';
import { plural } from './text.ts';
import { formatToken, shellQuote, type TokenTarget } from './token.ts';

/** Everything a finding prints, in plain data for text, JSON and Perfetto. */
export interface FindingReport {
  /** Kernel report, functional finding or lock-discipline note (docs/findings.md). */
  class: FindingClass;
  checker: string;
  title: string;
  fatal: boolean;
  /** Execution of the exploration that first produced it, and how many later ones repeated it. */
  execution: number;
  repeats: number;
  step: number;
  preemptions: number;
  /** The kernel configuration the report assumes (kernelConfigLine). */
  config: string;
  /** The report itself: kernel format for kernel reports, vgic-lab's words for the others. */
  kernel: string;
  trailer: string[];
  interleaving: Interleaving;
  state: StateDump | null;
  /**
   * False when a signal or the time limit came before this report was built: it has no interleaving
   * and no state, only the report and the schedule that replays it.
   */
  recorded: boolean;
  /** design@scenario@S1.schedule */
  token: string;
  replay: string;
  minimised: boolean;
  /** Executions the minimisation could spend (0: not minimised; docs/cli.md, "Minimisation"). */
  minimiseBudget: number;
  /** What each step read, wrote and left behind (ReportContext.detail; not in the JSON documents). */
  detail?: StepDetails;
}

export interface ReportContext {
  design: Design;
  kernel: KernelConfig;
  /** What the finding's replay token points at. */
  target: TokenTarget;
  /** How the scenario is named on the command line (catalogue name or path). */
  scenario: string;
  maxSteps: number;
  /** Executions the minimisation may spend; 0 leaves the schedule as found. */
  minimiseBudget: number;
  /** A signal or time limit: minimisation ends early, and later reports are not recorded. */
  stop?: Stop;
  /** Keep the details of every step (the HTML report): each replayed step then takes a snapshot. */
  detail?: boolean;
}

/**
 * The model trailer of a report: the design/scenario/schedule line, then the model-only lines the
 * report carries (a wait-for cycle).
 */
export function reportTrailer(
  v: Violation,
  design: string,
  scenario: string,
  execution: number,
  schedule: string,
): string[] {
  const k = v as Partial<KReport> & Violation;
  return trailer(design, scenario, execution, v.step, schedule, k.extra ?? []);
}

export function minimisedNote(r: FindingReport): string {
  if (!r.minimised) return '';
  if (r.minimiseBudget >= MINIMISE_BUDGET.full) return ' (minimised)';
  return ` (minimised within ${plural(r.minimiseBudget, 'execution')}; --minimise all searches further)`;
}

/**
 * Minimises a finding's schedule (same title, never more preemptions or steps), replays it with
 * recording on and collects the report, the interleaving up to the failing step and the state there.
 * Findings that cannot be reproduced alone (lockdep edges from earlier executions) keep their schedule.
 */
export function buildFindingReport(program: Program, f: Finding, ctx: ReportContext): FindingReport {
  if (ctx.stop?.reason()) return unrecorded(f, ctx);
  let decisions = f.decisions;
  let minimised = false;
  if (ctx.minimiseBudget > 0) {
    const m = minimise(program, f.decisions, f.violation.title, {
      maxSteps: ctx.maxSteps,
      budget: ctx.minimiseBudget,
      stop: ctx.stop,
      lockdep: f.violation.checker === 'lockdep',
    });
    if (m) {
      decisions = m.decisions;
      minimised = true;
    }
  }
  const { exec } = recordExecution(
    program,
    new ReplayScheduler(decisions),
    { maxSteps: ctx.maxSteps },
    f.execution,
    ctx.detail === true,
  );
  const v = exec.violations.find((x) => x.title === f.violation.title) ?? f.violation;
  const schedule = exec.violations.includes(v) ? tokenOf(exec) : f.token;
  const interleaving = interleavingOf(exec, v.step);
  return {
    ...reportOf(f, v, ctx, schedule, exec.preemptions),
    interleaving,
    // The state where this finding fired, in the schedule printed above it.
    state: (exec.snapshots.get(v.title) as StateDump | undefined) ?? null,
    recorded: true,
    minimised,
    minimiseBudget: minimised ? ctx.minimiseBudget : 0,
    ...(ctx.detail ? { detail: stepDetailsOf(exec, interleaving.rows) } : {}),
  };
}

/** The report as the exploration found it, without replaying its schedule. */
function unrecorded(f: Finding, ctx: ReportContext): FindingReport {
  return {
    ...reportOf(f, f.violation, ctx, f.token, f.preemptions),
    interleaving: { threads: [], rows: [] },
    state: null,
    recorded: false,
    minimised: false,
    minimiseBudget: 0,
  };
}

/** What a report says of its finding whether or not its schedule was replayed. */
function reportOf(f: Finding, v: Violation, ctx: ReportContext, schedule: string, preemptions: number) {
  const token = formatToken(ctx.target, schedule);
  return {
    class: findingClass(v.checker),
    checker: v.checker,
    title: v.title,
    fatal: v.fatal,
    execution: f.execution,
    repeats: f.repeats,
    step: v.step,
    preemptions,
    config: configOf(ctx.design, ctx.kernel),
    kernel: v.text(),
    trailer: reportTrailer(v, ctx.design.id, ctx.scenario, f.execution, schedule),
    token,
    replay: `vgic-lab replay ${shellQuote(token)}`,
  };
}

/** The vgic-lab lines above a report: which finding of how many, its class, the assumed config. */
export function findingHead(
  f: { checker: string; fatal: boolean; title: string },
  index: number,
  of: number,
  config: string,
): string[] {
  const cls = findingClass(f.checker);
  const fatal = f.fatal && cls === 'kernel' ? 'fatal ' : '';
  return [
    `vgic-lab: finding ${index} of ${of}, ${fatal}${CLASS_HEADS[cls]}: ${f.title}`,
    `vgic-lab: ${config}`,
    '',
  ];
}

/** The kernel configuration line of a design's reports under a configuration. */
export function configOf(d: Design, k: KernelConfig): string {
  return kernelConfigLine(releaseOf(d.version, d.id), { ...DEFAULT_SWITCHES, ...switchesOf(k) }, k.name);
}

const CLASS_HEADS: Record<FindingClass, string> = {
  kernel: 'kernel report',
  functional: 'functional finding (a vgic-lab oracle, not kernel output)',
  note: 'lock-discipline note (a vgic-lab check, not kernel output)',
};

/**
 * The text of a finding: a vgic-lab header naming its class and the kernel configuration the report
 * assumes, the report, the interleaving, the state where it fired and the replay command.
 */
export function renderFindingReport(
  r: FindingReport,
  index: number,
  of: number,
  view: Omit<RenderOptions, 'firing'> = {},
): string {
  const out = [...findingHead(r, index, of, r.config), r.kernel, ...r.trailer, ''];
  if (!r.recorded)
    out.push(
      'Interleaving and state: not recorded (the command was stopped before this report was built; the command below replays it).',
      '',
    );
  else if (r.step === PROLOGUE_STEP)
    out.push(
      'It fired in the prologue, the set-up run before any scheduled step: there is no interleaving.',
      '',
    );
  else {
    out.push(
      `Interleaving${minimisedNote(r)}: ${plural(r.interleaving.rows.length, 'step')}, ${plural(r.preemptions, 'preemption')}, ">>" marks the step that fired`,
    );
    out.push(...renderInterleaving(r.interleaving, { ...view, firing: r.step }), '');
  }
  if (r.state) out.push('State at the failing step:', ...stateLines(r.state).map((l) => `  ${l}`), '');
  out.push(`Replay: ${r.replay}`);
  return out.join('\n');
}
