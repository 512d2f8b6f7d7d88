import { Execution, type Program, type Scheduler, Session } from './execution.ts';
import { type Deviation, ReplayScheduler } from './schedule.ts';
import { BoundedStrategy } from './strategies/bounded.ts';

export interface Counterexample {
  title: string;
  decisions: number[];
  deviations: Deviation[];
  preemptions: number;
  /** Step at which the violation fired. */
  step: number;
}

export interface MinimiseOptions {
  maxSteps?: number;
  /** Executions the search may spend (default 2000). */
  budget?: number;
}

function run(program: Program, sched: Scheduler, maxSteps: number): Execution {
  const exec = new Execution(1, new Session(), sched, { maxSteps });
  exec.run((e) => program.build(e));
  return exec;
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
  const maxSteps = opts.maxSteps ?? 10_000;
  let budget = opts.budget ?? 2000;
  const start = asCounterexample(run(program, new ReplayScheduler(decisions), maxSteps), title);
  if (!start) return null;
  let best = start;
  budget--;

  // Fewest preemptions: CHESS levels below the current count, within the budget.
  const bounded = new BoundedStrategy(best.preemptions - 1);
  while (budget > 0 && best.preemptions > 0) {
    const sched = bounded.next();
    if (!sched) break;
    const exec = run(program, sched, maxSteps);
    bounded.done(exec);
    budget--;
    const c = asCounterexample(exec, title);
    if (c && better(c, best)) {
      best = c;
      break;
    }
  }

  // Greedy: drop one deviation at a time while the result stays as bad and gets smaller.
  let improved = true;
  while (improved && budget > 0) {
    improved = false;
    for (let i = 0; i < best.deviations.length && budget > 0; i++) {
      const devs = best.deviations.filter((_, j) => j !== i);
      const exec = run(program, new ReplayScheduler(null, devs, true), maxSteps);
      budget--;
      const c = asCounterexample(exec, title);
      if (c && better(c, best)) {
        best = c;
        improved = true;
        break;
      }
    }
  }
  return best;
}
