import type { Program } from '../explore/execution.ts';
import { type Finding, tokenOf } from '../explore/explorer.ts';
import { minimise } from '../explore/minimise.ts';
import { recordExecution } from '../explore/record.ts';
import type { KReport } from '../kernel/splat.ts';
import { trailer } from '../kernel/splat.ts';
import { type StateDump, stateLines } from '../vgic/dump.ts';
import { type Interleaving, interleavingOf, renderInterleaving } from './interleaving.ts';

/** Everything a violation prints (issue 4 §3), in plain data for text, JSON and Perfetto. */
export interface FindingReport {
  checker: string;
  title: string;
  fatal: boolean;
  /** Execution of the exploration that first produced it, and how many later ones repeated it. */
  execution: number;
  repeats: number;
  step: number;
  preemptions: number;
  /** The kernel-format report. */
  kernel: string;
  trailer: string[];
  interleaving: Interleaving;
  state: StateDump | null;
  /** design@scenario@S1.schedule */
  token: string;
  replay: string;
  minimised: boolean;
}

export interface ReportContext {
  design: string;
  /** How the scenario is named on the command line (catalogue name or path). */
  scenario: string;
  maxSteps: number;
  minimise: boolean;
}

export function fullToken(design: string, scenario: string, schedule: string): string {
  return `${design}@${scenario}@${schedule}`;
}

/**
 * Minimises a finding's schedule (same title, never more preemptions or steps), replays it with
 * recording on and collects the report, the interleaving up to the failing step and the state there.
 * Findings that cannot be reproduced alone (lockdep edges from earlier executions) keep their schedule.
 */
export function buildFindingReport(program: Program, f: Finding, ctx: ReportContext): FindingReport {
  let decisions = f.decisions;
  let minimised = false;
  if (ctx.minimise) {
    const m = minimise(program, f.decisions, f.violation.title, { maxSteps: ctx.maxSteps, budget: 300 });
    if (m) {
      decisions = m.decisions;
      minimised = true;
    }
  }
  const exec = recordExecution(program, decisions, f.execution, ctx.maxSteps);
  const v = exec.violations.find((x) => x.title === f.violation.title) ?? f.violation;
  const schedule = exec.violations.includes(v) ? tokenOf(exec) : f.token;
  const token = fullToken(ctx.design, ctx.scenario, schedule);
  const k = v as Partial<KReport> & typeof v;
  return {
    checker: v.checker,
    title: v.title,
    fatal: v.fatal,
    execution: f.execution,
    repeats: f.repeats,
    step: v.step,
    preemptions: exec.preemptions,
    kernel: v.text(),
    trailer: trailer(ctx.design, ctx.scenario, f.execution, v.step, schedule, k.extra ?? []),
    interleaving: interleavingOf(exec, v.step),
    state: (exec.snapshot as StateDump | null) ?? null,
    token,
    replay: `vgic-lab replay ${token}`,
    minimised,
  };
}

/** The text of a finding: splat, interleaving, state, replay command. */
export function renderFindingReport(r: FindingReport): string {
  const out = [r.kernel, ...r.trailer, ''];
  out.push(
    `Interleaving${r.minimised ? ' (minimised)' : ''}: ${r.interleaving.rows.length} steps, ${r.preemptions} preemptions, ">>" marks the step that fired`,
  );
  out.push(...renderInterleaving(r.interleaving), '');
  if (r.state) out.push('State at the failing step:', ...stateLines(r.state).map((l) => `  ${l}`), '');
  out.push(`Replay: ${r.replay}`);
  return out.join('\n');
}
