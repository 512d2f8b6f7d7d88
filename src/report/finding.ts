import type { Program } from '../explore/execution.ts';
import { type Finding, tokenOf } from '../explore/explorer.ts';
import { minimise } from '../explore/minimise.ts';
import { recordExecution } from '../explore/record.ts';
import { ReplayScheduler } from '../explore/schedule.ts';
import type { Violation } from '../explore/violation.ts';
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

/**
 * What a finding is: a report a real kernel would print, a functional finding (oracles, expectations,
 * guest assertions, CPU-interface architecture findings) or a ghost assertion that only the model
 * checks. The search stops at kernel reports only, and every list of findings is ordered by this
 * class, so there is one classifier for the CLI, the matrix and the benchmark.
 */
export type FindingClass = 'kernel' | 'functional' | 'ghost';

const FUNCTIONAL_CHECKERS: ReadonlySet<string> = new Set(['oracle', 'expect', 'guest', 'arch']);

export function findingClass(checker: string): FindingClass {
  if (checker === 'ghost') return 'ghost';
  return FUNCTIONAL_CHECKERS.has(checker) ? 'functional' : 'kernel';
}

export function isKernelReport(checker: string): boolean {
  return findingClass(checker) === 'kernel';
}

const CLASS_RANK: Record<FindingClass, number> = { kernel: 0, functional: 1, ghost: 2 };

/** Kernel reports, then functional findings, then ghost assertions; stable within each class. */
export function byFindingClass<T>(items: readonly T[], checkerOf: (x: T) => string): T[] {
  return [...items].sort(
    (a, b) => CLASS_RANK[findingClass(checkerOf(a))] - CLASS_RANK[findingClass(checkerOf(b))],
  );
}

/**
 * The model trailer of a report (kernel-sanitizers.md §0.7): the design/scenario/schedule line, then
 * the model-only lines the report carries (a ghost assertion's property, a wait-for cycle).
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
  const exec = recordExecution(
    program,
    new ReplayScheduler(decisions),
    { maxSteps: ctx.maxSteps },
    f.execution,
  );
  const v = exec.violations.find((x) => x.title === f.violation.title) ?? f.violation;
  const schedule = exec.violations.includes(v) ? tokenOf(exec) : f.token;
  const token = fullToken(ctx.design, ctx.scenario, schedule);
  return {
    checker: v.checker,
    title: v.title,
    fatal: v.fatal,
    execution: f.execution,
    repeats: f.repeats,
    step: v.step,
    preemptions: exec.preemptions,
    kernel: v.text(),
    trailer: reportTrailer(v, ctx.design, ctx.scenario, f.execution, schedule),
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
