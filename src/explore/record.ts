import { Execution, type ExecutionLimits, type Program, type Scheduler, Session } from './execution.ts';

/**
 * Runs `program` once under `scheduler` with recording on (locations, notes, the state at the first
 * report): the one way reports, `run` and `replay` get an execution they can print. Exceptions from
 * the run propagate, so callers decide what a schedule that does not fit means.
 */
export function recordExecution(
  program: Program,
  scheduler: Scheduler,
  limits: ExecutionLimits,
  index = 1,
): Execution {
  const exec = new Execution(index, new Session(), scheduler, limits);
  exec.recording = true;
  exec.run((e) => program.build(e));
  return exec;
}
