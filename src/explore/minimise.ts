import { DEFAULT_MAX_STEPS, type Execution, type Program, type Scheduler, Session } from './execution.ts';
import { runExecution } from './record.ts';
import { type Deviation, ReplayScheduler } from './schedule.ts';
import type { Stop } from './stop.ts';
import { BoundedStrategy } from './strategies/bounded.ts';

export interface Counterexample {
  title: string;
  decisions: number[];
  deviations: Deviation[];
  preemptions: number;
  /** Step at which the violation fired. */
  step: number;
}

/** Executions one finding's minimisation may spend in full, and briefly. */
export const MINIMISE_BUDGET = { full: 300, brief: 20 } as const;

export interface MinimiseOptions {
  maxSteps?: number;
  /** Executions the search may spend (default 2000). */
  budget?: number;
  /** Ends the search early; the best schedule found so far is returned. */
  stop?: Stop;
  /** The finding is lockdep's: every candidate runs with a fresh lockdep graph. */
  lockdep?: boolean;
}

function asCounterexample(exec: Execution, title: string): Counterexample | null {
  const v = exec.violations.find((x) => x.title === title);
  if (!v) return null;
  // The execution is discarded after this, so its lists can be kept without copying.
  return {
    title,
    decisions: exec.decisions,
    deviations: exec.deviations,
    preemptions: exec.preemptions,
    step: v.step,
  };
}

function better(a: Counterexample, b: Counterexample): boolean {
  return (
    a.preemptions <= b.preemptions && a.step <= b.step && (a.preemptions < b.preemptions || a.step < b.step)
  );
}

/**
 * Searches for a schedule that fails the same way (same violation title) with no more preemptions and
 * no more steps: first the fewest preemptions by iterative preemption bounding, then greedy removal of
 * single deviations from the default policy. The result never has more preemptions or steps than the
 * input.
 */
export function minimise(
  program: Program,
  decisions: readonly number[],
  title: string,
  opts: MinimiseOptions = {},
) {
  const maxSteps = opts.maxSteps ?? DEFAULT_MAX_STEPS;
  const stop = opts.stop;
  // Candidates share one session (lockdep's graph), as an exploration's executions do, unless the finding
  // is lockdep's own: whether it fires then depends on what earlier candidates taught lockdep, and each
  // candidate must show it alone.
  const shared = opts.lockdep ? undefined : new Session();
  const exec = (sched: Scheduler) =>
    runExecution(program, sched, { maxSteps, stop }, { session: shared }).exec;
  // The budget runs out, in effect, when a stop is requested.
  let budget = opts.budget ?? 2000;
  const left = () => budget > 0 && !stop?.reason();
  const start = asCounterexample(exec(new ReplayScheduler(decisions)), title);
  if (!start) return null;
  let best = start;
  budget--;

  // Fewest preemptions: CHESS levels below the current count, within the budget.
  const bounded = new BoundedStrategy(best.preemptions - 1);
  while (left() && best.preemptions > 0) {
    const sched = bounded.next();
    if (!sched) break;
    const e = exec(sched);
    bounded.done(e);
    budget--;
    const c = asCounterexample(e, title);
    if (c && better(c, best)) {
      best = c;
      break;
    }
  }

  // Greedy: drop one deviation at a time while the result stays as bad and gets smaller.
  let improved = true;
  while (improved && left()) {
    improved = false;
    for (let i = 0; i < best.deviations.length && left(); i++) {
      const devs = best.deviations.filter((_, j) => j !== i);
      const e = exec(new ReplayScheduler(null, devs, true));
      budget--;
      const c = asCounterexample(e, title);
      if (c && better(c, best)) {
        best = c;
        improved = true;
        break;
      }
    }
  }
  return best;
}
