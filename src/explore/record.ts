import { Execution, type ExecutionLimits, type Program, type Scheduler, Session } from './execution.ts';

export interface RunOptions {
  /** Keep the location of every step, notes and the state at each report (for printing). */
  recording?: boolean;
  /** The execution's number in reports (`execution=N`). */
  index?: number;
  /** Cross-execution state (lockdep's graph): a fresh one unless given. */
  session?: Session;
  /** Also the state after every step (Execution.stepStates); implies recording. */
  everyStep?: boolean;
}

/**
 * Runs `program` once under `scheduler` and returns the execution with the world it built: the one way
 * reports, `run`, `replay`, minimisation and the tests get a single execution. Exceptions from the run
 * propagate, so callers decide what a schedule that does not fit means.
 */
export function runExecution<W>(
  program: Program<W>,
  scheduler: Scheduler,
  limits: ExecutionLimits,
  opts: RunOptions = {},
): { exec: Execution; world: W } {
  const exec = new Execution(opts.index ?? 1, opts.session ?? new Session(), scheduler, limits);
  exec.recording = (opts.recording ?? false) || opts.everyStep === true;
  if (opts.everyStep) exec.stepStates = [];
  let world: W | undefined;
  exec.run(program, (w) => {
    world = w;
  });
  return { exec, world: world as W };
}

/** One execution with recording on: what reports, `run` and `replay` print. */
export function recordExecution<W>(
  program: Program<W>,
  scheduler: Scheduler,
  limits: ExecutionLimits,
  index = 1,
  everyStep = false,
): { exec: Execution; world: W } {
  return runExecution(program, scheduler, limits, { recording: true, index, everyStep });
}
