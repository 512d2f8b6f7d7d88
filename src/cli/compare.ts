import { Exploration } from '../explore/explorer.ts';
import type { Stop } from '../explore/stop.ts';
import { DporStrategy } from '../explore/strategies/dpor.ts';
import { bySeverity, findingClass, shortTitle } from '../report/classes.ts';
import type { LoadedScenario } from '../scenario/load.ts';
import type { Design } from '../vgic/designs.ts';
import { type CommonOptions, colors, printJson, programOf, say } from './context.ts';
import { EXIT } from './errors.ts';
import { Progress } from './progress.ts';

export interface CompareOptions extends CommonOptions {
  maxExecutions: number;
  /** Off by default: a cell cut by time has an execution count that depends on the machine. */
  timeLimit?: number;
}

export interface Cell {
  scenario: string;
  design: string;
  verdict: string;
  /**
   * The checker of the most severe kernel report or functional finding; "clean" when an exhaustive
   * search found none; "none-found" when a search cut by the budget found none (not a proof).
   */
  kind: string;
  /** Titles of the lock-discipline notes (they do not change the verdict). */
  notes: string[];
  executions: number;
  exhaustive: boolean;
  /** What cut a search that is not exhaustive: the execution budget or the time budget. */
  cut: 'executions' | 'time' | null;
}

/**
 * The verdict of one cell: the most severe kernel report, else the most severe functional finding,
 * else clean, which only an exhaustive search may say.
 */
function cellVerdict(
  findings: readonly { checker: string; title: string; fatal: boolean }[],
  exhaustive: boolean,
): Pick<Cell, 'verdict' | 'kind' | 'notes'> {
  const ordered = bySeverity(findings, (f) => f);
  const notes = ordered.filter((f) => findingClass(f.checker) === 'note').map((f) => f.title);
  const pick = ordered.find((f) => findingClass(f.checker) !== 'note');
  if (pick) return { verdict: pick.title, kind: pick.checker, notes };
  if (exhaustive) return { verdict: 'clean', kind: 'clean', notes };
  return { verdict: 'no violation found, not exhaustive', kind: 'none-found', notes };
}

/** vgic-lab compare: designs × scenarios, each cell an exhaustive DPOR run within a budget. */
export function compare(
  scenarios: { loaded: LoadedScenario; ref: string }[],
  designs: Design[],
  o: CompareOptions,
  signals: Stop,
): number {
  const c = colors(o);
  const cells: Cell[] = [];
  let stop = false;
  for (const s of scenarios) {
    for (const d of designs) {
      stop ||= signals.reason() !== null;
      if (stop) break;
      const cellStop =
        o.timeLimit === undefined ? signals : signals.until(performance.now() + o.timeLimit * 1000);
      const x = new Exploration(programOf(s.loaded, d), new DporStrategy(), {
        maxSteps: s.loaded.explore.maxSteps,
        maxExecutions: o.maxExecutions,
        stop: cellStop,
        allViolations: true,
      });
      new Progress(o.progress ? 'lines' : 'off', () => 0).begin(`${s.ref} on ${d.id}`);
      while (x.step()) {}
      const r = x.result();
      // A signal ends the matrix: the cell it cut is not a result.
      if (r.stats.stoppedBy === 'interrupted') {
        stop = true;
        break;
      }
      const v = cellVerdict(
        r.findings.map((f) => f.violation),
        r.stats.exhaustive,
      );
      cells.push({
        scenario: s.ref,
        design: d.id,
        ...v,
        executions: r.stats.executions,
        exhaustive: r.stats.exhaustive,
        cut: r.stats.exhaustive ? null : r.stats.stoppedBy === 'time-limit' ? 'time' : 'executions',
      });
    }
  }
  if (o.json) {
    printJson({
      command: 'compare',
      designs: designs.map((d) => d.id),
      scenarios: scenarios.map((s) => s.ref),
      budget: { maxExecutions: o.maxExecutions, timeLimitSeconds: o.timeLimit ?? null },
      cells,
      interrupted: stop,
    });
  } else {
    const w = Math.max(...scenarios.map((s) => s.ref.length), 8);
    const cw = 30;
    say(o, c.bold(`${'scenario'.padEnd(w)}  ${designs.map((d) => d.id.padEnd(cw)).join(' ')}`));
    for (const s of scenarios) {
      const row = designs.map((d) => {
        const cell = cells.find((x) => x.scenario === s.ref && x.design === d.id);
        if (!cell) return ''.padEnd(cw);
        // The count and its "+" are never cut: a cut cell must never read as a proof.
        const count = ` (${cell.executions}${cell.exhaustive ? '' : '+'})${cell.notes.length > 0 ? ' n' : ''}`;
        const room = cw - count.length;
        const short = shortVerdict(cell);
        const fitted = (short.length > room ? `${short.slice(0, room - 1)}…` : short) + count;
        const padded = fitted.padEnd(cw);
        if (cell.kind === 'clean') return c.green(padded);
        if (cell.kind === 'none-found') return c.yellow(padded);
        return c.red(padded);
      });
      say(o, `${s.ref.padEnd(w)}  ${row.join(' ')}`);
    }
    say(o, '');
    const budget = `${o.maxExecutions} executions${o.timeLimit !== undefined ? ` or ${o.timeLimit} s` : ''}`;
    say(
      o,
      `Each cell: the most severe kernel report (else the most severe functional finding; "clean" only when the search was exhaustive) and the number of DPOR executions; "+" marks a cell cut by the budget (${budget}): not exhaustive, and "none found" there is no proof; "n" marks lock-discipline notes (docs/findings.md).`,
    );
    if (stop) say(o, 'interrupted: only the cells above were explored');
  }
  return stop ? EXIT.INTERRUPTED : EXIT.OK;
}

function shortVerdict(cell: Cell): string {
  if (cell.kind === 'clean') return 'clean';
  if (cell.kind === 'none-found') return 'none found';
  return shortTitle({ checker: cell.kind, title: cell.verdict });
}

export { EXIT };
