import type { Execution } from '../explore/execution.ts';
import { type StateDump, stateLines } from '../vgic/dump.ts';
import type { StepRow } from './interleaving.ts';

/** What one step did and left behind, for the HTML report's step panel. */
export interface StepDetail {
  /** Instrumented locations the step read and wrote, by name (a lock taken is a write to it). */
  reads: string[];
  writes: string[];
  /** The locks each thread holds once the step is done (threads that hold none are left out). */
  held: { thread: string; locks: string[] }[];
  /** Index in `StepDetails.states` of the state once the step is done. */
  state: number;
}

/** Per-step details of a recorded execution; equal states are stored once. */
export interface StepDetails {
  /** Distinct states, each as the lines `stateLines` prints. */
  states: string[][];
  /** Index in `states` of the state before the first step (after the prologue). */
  start: number;
  steps: StepDetail[];
}

const LOCK = /^(?:try)?lock (\S+?)(?:\/\d+)? \((.+)\)$/;
const UNLOCK = /^unlock (\S+) \((.+)\)$/;

/**
 * The details of the steps `rows` of `exec` (its interleaving), from an execution run with every state
 * kept (`everyStep`). After a fatal report the state is the one its thread died in.
 */
export function stepDetailsOf(exec: Execution, rows: readonly StepRow[]): StepDetails {
  const names = exec.locationNames();
  const name = (id: number) => names.get(id) ?? `location #${id}`;
  const states: string[][] = [];
  const byText = new Map<string, number>();
  const stateIndex = (s: unknown): number => {
    const lines = s ? stateLines(s as StateDump) : [];
    const key = lines.join('\n');
    let i = byText.get(key);
    if (i === undefined) {
      i = states.length;
      states.push(lines);
      byText.set(key, i);
    }
    return i;
  };
  const start = stateIndex(exec.startState);
  const held = new Map<number, string[]>();
  const steps: StepDetail[] = [];
  const after = exec.stepStates ?? [];
  for (let i = 0; i < rows.length; i++) {
    const ev = exec.trace[i];
    let mine = held.get(ev.tid) ?? [];
    for (const n of rows[i].notes) {
      const lock = LOCK.exec(n);
      const unlock = UNLOCK.exec(n);
      if (lock) mine = [...mine, `${lock[1]} (${lock[2]})`];
      else if (unlock) {
        const at = mine.lastIndexOf(`${unlock[1]} (${unlock[2]})`);
        if (at >= 0) mine = [...mine.slice(0, at), ...mine.slice(at + 1)];
      }
    }
    held.set(ev.tid, mine);
    steps.push({
      reads: [...new Set(ev.fp.r.map(name))],
      writes: [...new Set(ev.fp.w.map(name))],
      held: [...held]
        .filter(([, locks]) => locks.length > 0)
        .sort(([a], [b]) => a - b)
        .map(([tid, locks]) => ({ thread: exec.threads[tid].name, locks })),
      state: stateIndex(after[i]),
    });
  }
  return { states, start, steps };
}
