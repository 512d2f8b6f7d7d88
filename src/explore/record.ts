import { Execution, type Program, Session } from './execution.ts';
import { ReplayScheduler } from './schedule.ts';

/** Replays `decisions` once with recording on (locations, notes, the state at the first report). */
export function recordExecution(
  program: Program,
  decisions: readonly number[],
  index = 1,
  maxSteps = 10_000,
): Execution {
  const exec = new Execution(index, new Session(), new ReplayScheduler(decisions), { maxSteps });
  exec.recording = true;
  exec.run((e) => program.build(e));
  return exec;
}
