import { isKernelReport } from './classes.ts';
import { plural } from './text.ts';

/** One cell of `compare`'s matrix: a scenario on a design. */
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

/** The verdicts of the matrix that are findings, each with its code: K1, K2, … and F1, F2, … in order. */
export function verdictCodes(cells: readonly Cell[]): Map<string, string> {
  const codes = new Map<string, string>();
  const count = { K: 0, F: 0 };
  for (const cell of cells) {
    if (['clean', 'none-found', 'not-a-design'].includes(cell.kind) || codes.has(cell.verdict)) continue;
    const letter = isKernelReport(cell.kind) ? 'K' : 'F';
    codes.set(cell.verdict, `${letter}${++count[letter]}`);
  }
  return codes;
}

/** A cell as the matrix shows it: `K1 12`, `ok 33*`, `none 300+`. */
export function cellText(cell: Cell, codes: ReadonlyMap<string, string>): string {
  if (cell.kind === 'not-a-design') return 'n/a';
  const code = cell.kind === 'clean' ? 'ok' : cell.kind === 'none-found' ? 'none' : codes.get(cell.verdict);
  return `${code} ${cell.executions}${cell.exhaustive ? '' : '+'}${cell.notes.length > 0 ? '*' : ''}`;
}

/** What a compare cell may spend. */
export interface Budget {
  maxExecutions: number;
  timeLimit?: number;
}

/** The lines under the matrix that say what each code means. */
export function legend(codes: ReadonlyMap<string, string>, b: Budget, cells: readonly Cell[]): string[] {
  const budget = `${plural(b.maxExecutions, 'execution')}${b.timeLimit !== undefined ? ` or ${b.timeLimit} s` : ''}`;
  const out = [
    `Each cell: the most severe finding and the number of DPOR executions (budget ${budget} a cell).`,
    '  ok     no kernel report or functional finding, and the search was exhaustive: a proof within the bounds',
    '  none   none found, but the budget cut the search ("+"): no proof',
    '  +      the budget cut the search: not exhaustive',
    '  *      lock-discipline notes too (docs/findings.md)',
  ];
  const seen = new Set<string>();
  for (const cell of cells)
    if (cell.kind === 'not-a-design' && !seen.has(cell.design) && seen.add(cell.design))
      out.push(
        `  n/a    ${cell.design} is ${cell.verdict.replace(/^not a design: /, 'not a design (docs/designs.md): ')}`,
      );
  const order = [...codes].sort(
    ([, a], [, b]) => a[0].localeCompare(b[0]) || Number(a.slice(1)) - Number(b.slice(1)),
  );
  for (const [verdict, code] of order)
    out.push(
      `  ${code.padEnd(6)} ${code.startsWith('K') ? 'kernel report' : 'functional finding'}: ${verdict}`,
    );
  return out;
}
