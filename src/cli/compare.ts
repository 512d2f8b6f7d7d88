import { DEFAULT_SPLIT_DEPTH, SplitExploration } from '../explore/split.ts';
import type { Stop } from '../explore/stop.ts';
import { bySeverity, findingClass, shortTitle } from '../report/classes.ts';
import { plural } from '../report/text.ts';
import type { LoadedScenario } from '../scenario/load.ts';
import {
  applyChanges,
  DESIGN_TOGGLES,
  DesignExpressionError,
  expressionOf,
  FIX_SWITCHES,
  settingOf,
} from '../vgic/design-expr.ts';
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
   * search found none; "none-found" when a search cut by the budget found none (not a proof);
   * "not-a-design" for an ablation's variant that no kernel could be (the verdict says why).
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

/**
 * A column of the matrix: a design, or a variant that is not one (an ablation's flip that leaves the
 * design inconsistent), with the reason.
 */
export interface Column {
  id: string;
  design: Design | null;
  problem: string | null;
}

/**
 * `--ablate`: the base design, then the design with each field and fix switch flipped, one at a time.
 * A flip that leaves the design inconsistent is retried with one more field turned off, the one that
 * only exists with it (V4b without its locked fold cannot defer the notification past the lock:
 * V4b-foldLocked-deferNotify); failing that, the column says why it is not a design.
 */
export function ablation(base: Design): Column[] {
  const out: Column[] = [{ id: base.id, design: base, problem: null }];
  for (const name of [...DESIGN_TOGGLES, ...FIX_SWITCHES]) {
    const flip = { name, on: !settingOf(base, name) };
    const attempts = [
      [flip],
      ...DESIGN_TOGGLES.filter((n) => n !== name && settingOf(base, n)).map((n) => [
        flip,
        { name: n, on: false },
      ]),
    ];
    let problem = '';
    let column: Column | null = null;
    for (const changes of attempts) {
      try {
        column = { id: expressionOf(base.id, changes), design: applyChanges(base, changes), problem: null };
        break;
      } catch (e) {
        if (!(e instanceof DesignExpressionError)) throw e;
        problem ||= e.message.replace(/^.* is not a consistent design: /, '');
      }
    }
    out.push(column ?? { id: expressionOf(base.id, [flip]), design: null, problem });
  }
  return out;
}

/**
 * The cells of the matrix designs × scenarios, each an exhaustive DPOR run within the budget, in order;
 * `interrupted` when a signal ended the matrix (the cells before it stand).
 */
export function compareCells(
  scenarios: { loaded: LoadedScenario; ref: string }[],
  columns: Column[],
  o: CompareOptions,
  signals: Stop,
): { cells: Cell[]; interrupted: boolean } {
  const cells: Cell[] = [];
  let stop = false;
  for (const s of scenarios) {
    for (const col of columns) {
      stop ||= signals.reason() !== null;
      if (stop) break;
      const d = col.design;
      if (!d) {
        cells.push({
          scenario: s.ref,
          design: col.id,
          verdict: `not a design: ${col.problem}`,
          kind: 'not-a-design',
          notes: [],
          executions: 0,
          exhaustive: false,
          cut: null,
        });
        continue;
      }
      const cellStop =
        o.timeLimit === undefined ? signals : signals.until(performance.now() + o.timeLimit * 1000);
      // The same search as `check` runs: DPOR split at the default depth (docs/scale.md).
      const x = new SplitExploration(programOf(s.loaded, d), DEFAULT_SPLIT_DEPTH, {
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
  return { cells, interrupted: stop };
}

/** What `compare --json` prints. */
export function compareDocument(
  scenarios: { ref: string }[],
  columns: Column[],
  o: CompareOptions,
  matrix: { cells: Cell[]; interrupted: boolean },
  ablate = false,
) {
  return {
    command: 'compare',
    designs: columns.map((d) => d.id),
    ...(ablate ? { ablation: { base: columns[0].id } } : {}),
    scenarios: scenarios.map((s) => s.ref),
    budget: { maxExecutions: o.maxExecutions, timeLimitSeconds: o.timeLimit ?? null },
    cells: matrix.cells,
    interrupted: matrix.interrupted,
  };
}

/**
 * vgic-lab compare: designs × scenarios, each cell an exhaustive DPOR run within a budget. `ablate`
 * prints one row per design instead of one per scenario (an ablation has many designs).
 */
export function compare(
  scenarios: { loaded: LoadedScenario; ref: string }[],
  columns: Column[],
  o: CompareOptions,
  signals: Stop,
  ablate = false,
): number {
  const c = colors(o);
  const matrix = compareCells(scenarios, columns, o, signals);
  const { cells, interrupted: stop } = matrix;
  if (o.json) printJson(compareDocument(scenarios, columns, o, matrix, ablate));
  else {
    const text = (cell: Cell | undefined, cw: number) => {
      if (!cell) return ''.padEnd(cw);
      if (cell.kind === 'not-a-design') return c.dim(fit(cell.verdict, cw).padEnd(cw));
      // The count and its "+" are never cut: a cut cell must never read as a proof.
      const count = ` (${cell.executions}${cell.exhaustive ? '' : '+'})${cell.notes.length > 0 ? ' n' : ''}`;
      const padded = (fit(shortVerdict(cell), cw - count.length) + count).padEnd(cw);
      if (cell.kind === 'clean') return c.green(padded);
      if (cell.kind === 'none-found') return c.yellow(padded);
      return c.red(padded);
    };
    const at = (s: string, d: string) => cells.find((x) => x.scenario === s && x.design === d);
    if (ablate) {
      const w = Math.max(...columns.map((d) => d.id.length), 8);
      const cw = Math.max(30, ...scenarios.map((s) => s.ref.length));
      say(o, c.bold(`${'design'.padEnd(w)}  ${scenarios.map((s) => s.ref.padEnd(cw)).join(' ')}`));
      for (const col of columns)
        say(o, `${col.id.padEnd(w)}  ${scenarios.map((s) => text(at(s.ref, col.id), cw)).join(' ')}`);
    } else {
      const w = Math.max(...scenarios.map((s) => s.ref.length), 8);
      const cw = 30;
      say(o, c.bold(`${'scenario'.padEnd(w)}  ${columns.map((d) => d.id.padEnd(cw)).join(' ')}`));
      for (const s of scenarios)
        say(o, `${s.ref.padEnd(w)}  ${columns.map((d) => text(at(s.ref, d.id), cw)).join(' ')}`);
    }
    say(o, '');
    const budget = `${plural(o.maxExecutions, 'execution')}${o.timeLimit !== undefined ? ` or ${o.timeLimit} s` : ''}`;
    say(
      o,
      `Each cell: the most severe kernel report (else the most severe functional finding; "clean" only when the search was exhaustive) and the number of DPOR executions; "+" marks a cell cut by the budget (${budget}): not exhaustive, and "none found" there is no proof; "n" marks lock-discipline notes (docs/findings.md)${ablate ? '; "not a design": the flip leaves the design inconsistent (docs/designs.md)' : ''}.`,
    );
    if (stop) say(o, 'interrupted: only the cells above were explored');
  }
  return stop ? EXIT.INTERRUPTED : EXIT.OK;
}

function fit(s: string, room: number): string {
  return s.length > room ? `${s.slice(0, room - 1)}…` : s;
}

function shortVerdict(cell: Cell): string {
  if (cell.kind === 'clean') return 'clean';
  if (cell.kind === 'none-found') return 'none found';
  return shortTitle({ checker: cell.kind, title: cell.verdict });
}

export { EXIT };
