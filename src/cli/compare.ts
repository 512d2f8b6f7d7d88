import type { Program } from '../explore/execution.ts';
import type { Finding } from '../explore/explorer.ts';
import { MINIMISE_BUDGET } from '../explore/minimise.ts';
import { DEFAULT_SPLIT_DEPTH, SplitExploration } from '../explore/split.ts';
import type { Stop } from '../explore/stop.ts';
import { bySeverity, findingClass, isKernelReport } from '../report/classes.ts';
import { buildFindingReport, type FindingReport } from '../report/finding.ts';
import { comparePage } from '../report/html/pages.ts';
import { type Cell, cellText, legend, verdictCodes } from '../report/matrix.ts';
import type { World } from '../scenario/builder.ts';
import { kernelConfigOf } from '../scenario/kernel-config.ts';
import {
  applyChanges,
  DESIGN_TOGGLES,
  DesignExpressionError,
  expressionOf,
  FIX_SWITCHES,
  settingOf,
} from '../vgic/design-expr.ts';
import type { Design } from '../vgic/designs.ts';
import { type CommonOptions, colors, printJson, programOf, say, writeHtml } from './context.ts';
import { EXIT } from './errors.ts';
import { Progress, progressMode } from './progress.ts';
import { packageVersion, type ResolvedScenario, tokenTarget } from './resolve.ts';

export type { Cell };

export interface CompareOptions extends CommonOptions {
  maxExecutions: number;
  /** `--expect`: the outcome each named design must have in every cell (exit status 1 otherwise). */
  expect?: ReadonlyMap<string, Outcome>;
  /** Off by default: a cell cut by time has an execution count that depends on the machine. */
  timeLimit?: number;
  /** Also write the matrix and the finding of each failing cell as one HTML page (docs/html.md). */
  html?: string;
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
  scenarios: ResolvedScenario[],
  columns: Column[],
  o: CompareOptions,
  signals: Stop,
): { cells: Cell[]; interrupted: boolean; picks: Map<number, CellFinding> } {
  const cells: Cell[] = [];
  const picks = new Map<number, CellFinding>();
  let stop = false;
  const progress = new Progress(progressMode(o), () => 0);
  const total = scenarios.length * columns.length;
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
      const program = programOf(s.loaded, d);
      const x = new SplitExploration(program, DEFAULT_SPLIT_DEPTH, {
        maxSteps: s.loaded.explore.maxSteps,
        maxExecutions: o.maxExecutions,
        stop: cellStop,
        allViolations: true,
      });
      progress.stage(
        `comparing: cell ${cells.length + 1} of ${total}: ${s.ref} on ${d.id}`,
        `${s.ref} on ${d.id}`,
      );
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
      const finding = r.findings.find((f) => f.violation.title === v.verdict);
      if (o.html && finding && !['clean', 'none-found'].includes(v.kind))
        picks.set(cells.length, { program, finding, scenario: s, design: d });
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
  progress.clear();
  return { cells, interrupted: stop, picks };
}

/** The finding a cell shows (with --html), and what replays it. */
interface CellFinding {
  program: Program<World>;
  finding: Finding;
  scenario: ResolvedScenario;
  design: Design;
}

/**
 * The report of each picked cell's finding, minimised briefly (a matrix has many), with the details of
 * every step for the HTML page.
 */
function cellReports(
  picks: Map<number, CellFinding>,
  o: CompareOptions,
  signals: Stop,
): Map<number, FindingReport> {
  const out = new Map<number, FindingReport>();
  const progress = new Progress(progressMode(o), () => 0);
  for (const [i, p] of picks) {
    if (signals.reason()) break;
    progress.say(`recording finding ${out.size + 1} of ${picks.size} for the HTML report`);
    out.set(
      i,
      buildFindingReport(p.program, p.finding, {
        design: p.design,
        kernel: kernelConfigOf(p.scenario.loaded.spec),
        target: tokenTarget(p.scenario, p.design),
        scenario: p.scenario.ref,
        maxSteps: p.scenario.loaded.explore.maxSteps,
        minimiseBudget: MINIMISE_BUDGET.brief,
        stop: signals,
        detail: true,
      }),
    );
  }
  progress.clear();
  return out;
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
  scenarios: ResolvedScenario[],
  columns: Column[],
  o: CompareOptions,
  signals: Stop,
  ablate = false,
): number {
  const c = colors(o);
  const matrix = compareCells(scenarios, columns, o, signals);
  const { cells, interrupted: stop } = matrix;
  const unmet = o.expect ? unmetExpectations(cells, o.expect) : [];
  if (o.html)
    writeHtml(
      o.html,
      comparePage({
        designs: columns.map((col) => col.id),
        scenarios: scenarios.map((s) => s.ref),
        cells,
        budget: o,
        reports: cellReports(matrix.picks, o, signals),
        notes: [
          ...unmet.map(
            (u) => `expected ${u.expected} for ${u.scenario} on ${u.design}, got ${u.got}: ${u.verdict}`,
          ),
          ...(stop ? ['interrupted: only the cells above were explored'] : []),
        ],
        version: packageVersion(),
      }),
    );
  if (o.json)
    printJson({ ...compareDocument(scenarios, columns, o, matrix, ablate), ...(o.expect ? { unmet } : {}) });
  else {
    const codes = verdictCodes(cells);
    const text = (cell: Cell | undefined, cw: number) => {
      if (!cell) return ''.padEnd(cw);
      const padded = cellText(cell, codes).padEnd(cw);
      if (cell.kind === 'not-a-design') return c.dim(padded);
      if (cell.kind === 'clean') return c.green(padded);
      if (cell.kind === 'none-found') return c.yellow(padded);
      return c.red(padded);
    };
    const at = (s: string, d: string) => cells.find((x) => x.scenario === s && x.design === d);
    const cw = Math.max(4, ...cells.map((x) => cellText(x, codes).length));
    // A column is as wide as its design's name: two long expressions must not read the same.
    const dw = Math.max(cw, ...columns.map((d) => d.id.length));
    if (ablate) {
      const w = Math.max(...columns.map((d) => d.id.length), 8);
      const widths = scenarios.map((s) => Math.max(cw, s.ref.length));
      say(
        o,
        c.bold(
          `${'design'.padEnd(w)}  ${scenarios.map((s, i) => s.ref.padEnd(widths[i])).join(' ')}`.trimEnd(),
        ),
      );
      for (const col of columns)
        say(
          o,
          `${col.id.padEnd(w)}  ${scenarios.map((s, i) => text(at(s.ref, col.id), widths[i])).join(' ')}`.trimEnd(),
        );
    } else {
      // The rows' names give way first: the matrix stays within MATRIX_WIDTH columns.
      const room = MATRIX_WIDTH - 2 - columns.length * (dw + 1);
      const w = Math.max(8, Math.min(room, Math.max(...scenarios.map((s) => s.ref.length))));
      say(o, c.bold(`${'scenario'.padEnd(w)}  ${columns.map((d) => d.id.padEnd(dw)).join(' ')}`.trimEnd()));
      for (const s of scenarios)
        say(
          o,
          `${fit(s.ref, w).padEnd(w)}  ${columns.map((d) => text(at(s.ref, d.id), dw)).join(' ')}`.trimEnd(),
        );
    }
    say(o, '');
    for (const line of legend(codes, o, cells)) say(o, line);
    for (const u of unmet)
      say(o, c.red(`expected ${u.expected} for ${u.scenario} on ${u.design}, got ${u.got}: ${u.verdict}`));
    if (stop) say(o, 'interrupted: only the cells above were explored');
    if (o.html) say(o, `HTML report: ${o.html}`);
  }
  if (stop) return EXIT.INTERRUPTED;
  return unmet.length > 0 ? EXIT.VIOLATION : EXIT.OK;
}

/** How wide the matrix may be: a terminal of 120 columns shows it whole. */
const MATRIX_WIDTH = 120;

/** What `--expect` asks of a design's cells: the class of their most severe finding. */
export const OUTCOMES = ['kernel', 'functional', 'clean', 'none'] as const;
export type Outcome = (typeof OUTCOMES)[number];

function outcomeOf(cell: Cell): Outcome | 'not-a-design' {
  if (cell.kind === 'clean') return 'clean';
  if (cell.kind === 'none-found') return 'none';
  if (cell.kind === 'not-a-design') return 'not-a-design';
  return isKernelReport(cell.kind) ? 'kernel' : 'functional';
}

/** The cells whose outcome is not the one `--expect` gives for their design. */
export function unmetExpectations(cells: readonly Cell[], expect: ReadonlyMap<string, Outcome>) {
  return cells.flatMap((cell) => {
    const expected = expect.get(cell.design);
    const got = outcomeOf(cell);
    return expected === undefined || expected === got
      ? []
      : [{ scenario: cell.scenario, design: cell.design, expected, got, verdict: cell.verdict }];
  });
}

function fit(s: string, room: number): string {
  return s.length > room ? `${s.slice(0, room - 1)}…` : s;
}

export { EXIT };
