import type { Execution, Program } from '../src/explore/execution.ts';
import { type ExploreOptions, explore } from '../src/explore/explorer.ts';
import { dependent } from '../src/explore/footprint.ts';
import type { Strategy } from '../src/explore/strategy.ts';
import { Fn, Frame } from '../src/kernel/stack.ts';

export interface Summary {
  titles: Set<string>;
  finals: Set<string>;
  executions: number;
  complete: number;
  exhaustive: boolean;
}

/** Explores and collects the distinct violation titles and final states. */
export function summarise(program: Program, strategy: Strategy, opts: ExploreOptions = {}): Summary {
  const finals = new Set<string>();
  let complete = 0;
  const r = explore(program, strategy, {
    allViolations: true,
    ...opts,
    onExecution: (e: Execution) => {
      if (e.outcome !== 'sleep-blocked') complete++;
      if (e.outcome === 'complete' || (e.outcome === 'violation' && !e.violations.some((v) => v.fatal))) {
        finals.add(e.finalState());
      }
    },
  });
  return {
    titles: new Set(r.findings.map((f) => f.violation.title)),
    finals,
    executions: r.stats.executions,
    complete,
    exhaustive: r.stats.exhaustive,
  };
}

/**
 * A canonical name for the Mazurkiewicz trace of an execution: the set of ordered pairs of dependent
 * steps of different threads, each step named by (thread, index within the thread).
 */
export function traceSignature(e: Execution): string {
  const idx: number[] = [];
  const count = new Map<number, number>();
  for (const ev of e.trace) {
    const c = (count.get(ev.tid) ?? 0) + 1;
    count.set(ev.tid, c);
    idx.push(c);
  }
  const pairs: string[] = [];
  for (let j = 0; j < e.trace.length; j++) {
    for (let i = 0; i < j; i++) {
      const a = e.trace[i];
      const b = e.trace[j];
      if (a.tid !== b.tid && dependent(a.fp, b.fp)) pairs.push(`${a.tid}.${idx[i]}<${b.tid}.${idx[j]}`);
    }
  }
  return pairs.sort().join(' ');
}

/** `symbol+0x<offset>/0x<length>` of a model function at a named step, as backtraces print it. */
export function at<S extends string>(f: { fn: Fn<S> } | Fn<S>, step?: S): string {
  const fn = f instanceof Fn ? f : f.fn;
  return new Frame(fn, step === undefined ? 0 : fn.offset(step), null).location();
}

/** `at` as a regular expression source, for matching inside report text. */
export function atRe<S extends string>(f: { fn: Fn<S> } | Fn<S>, step?: S): string {
  return at(f, step).replace(/[+/]/g, (c) => `\\${c}`);
}
