import { Exploration, exploreAsync } from '../explore/explorer.ts';
import { DporStrategy } from '../explore/strategies/dpor.ts';
import { byFindingClass } from '../report/finding.ts';
import type { LoadedScenario } from '../scenario/load.ts';
import type { Design } from '../vgic/designs.ts';
import { type CommonOptions, colors, printJson, programOf, say } from './context.ts';
import { EXIT } from './errors.ts';

export interface CompareOptions extends CommonOptions {
  maxExecutions: number;
  /** Off by default: a cell cut by time has an execution count that depends on the machine. */
  timeLimit?: number;
}

export interface Cell {
  scenario: string;
  design: string;
  verdict: string;
  /** The kind of the first finding: a kernel report's checker, or "oracle", or "clean". */
  kind: string;
  executions: number;
  exhaustive: boolean;
}

/**
 * The verdict of one cell: the first kernel report, else the first functional finding, else the first
 * ghost assertion, else clean.
 */
function cellVerdict(titles: { checker: string; title: string }[]): { verdict: string; kind: string } {
  const pick = byFindingClass(titles, (t) => t.checker)[0];
  return pick ? { verdict: pick.title, kind: pick.checker } : { verdict: 'clean', kind: 'clean' };
}

/** vgic-lab compare: designs × scenarios, each cell an exhaustive DPOR run within a budget. */
export async function compare(
  scenarios: { loaded: LoadedScenario; ref: string }[],
  designs: Design[],
  o: CompareOptions,
  interrupted: { on: () => void },
): Promise<number> {
  const c = colors(o);
  const cells: Cell[] = [];
  let stop = false;
  interrupted.on = () => {
    stop = true;
  };
  for (const s of scenarios) {
    for (const d of designs) {
      if (stop) break;
      const x = new Exploration(programOf(s.loaded, d), new DporStrategy(), {
        maxSteps: s.loaded.explore.maxSteps ?? 10_000,
        maxExecutions: o.maxExecutions,
        timeLimitMs: o.timeLimit !== undefined ? o.timeLimit * 1000 : undefined,
        allViolations: true,
      });
      const prev = interrupted.on;
      interrupted.on = () => {
        stop = true;
        x.interrupt();
      };
      const r = await exploreAsync(x);
      interrupted.on = prev;
      const v = cellVerdict(r.findings.map((f) => f.violation));
      cells.push({
        scenario: s.ref,
        design: d.id,
        ...v,
        executions: r.stats.executions,
        exhaustive: r.stats.exhaustive,
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
        const mark = cell.exhaustive ? '' : '+';
        const text = `${shortVerdict(cell)} (${cell.executions}${mark})`;
        const fitted = text.length > cw ? `${text.slice(0, cw - 1)}…` : text.padEnd(cw);
        return cell.kind === 'clean'
          ? c.green(fitted)
          : cell.kind === 'ghost'
            ? c.yellow(fitted)
            : c.red(fitted);
      });
      say(o, `${s.ref.padEnd(w)}  ${row.join(' ')}`);
    }
    say(o, '');
    const budget = `${o.maxExecutions} executions${o.timeLimit !== undefined ? ` or ${o.timeLimit} s` : ''}`;
    say(
      o,
      `Each cell: the first kernel report (else the first functional finding, else a ghost assertion, else clean) and the number of DPOR executions; "+" marks a cell cut by the budget (${budget}), not exhaustive.`,
    );
    if (stop) say(o, 'interrupted: only the cells above were explored');
  }
  return stop ? EXIT.INTERRUPTED : EXIT.OK;
}

function shortVerdict(cell: Cell): string {
  if (cell.kind === 'clean') return 'clean';
  const t = cell.verdict;
  if (t.startsWith('Unable to handle kernel paging request')) return 'oops (poison)';
  if (t.startsWith('BUG: KASAN: ')) return `KASAN ${t.slice(12).split(' in ')[0]}`;
  if (t.startsWith('BUG: KCSAN')) return 'KCSAN data-race';
  if (t.startsWith('WARNING: lockdep_assert_held') && cell.kind === 'ghost') return 'ghost P-LOCK';
  if (cell.kind === 'lockdep') return `lockdep: ${t.replace(/^WARNING: |^\[ BUG: | \]$/g, '').slice(0, 30)}`;
  if (cell.kind === 'oracle') return t.split(':')[0];
  return t;
}

export { EXIT };
