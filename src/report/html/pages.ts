import type { FindingReport } from '../finding.ts';
import { type Budget, type Cell, cellText, legend, verdictCodes } from '../matrix.ts';
import { plural } from '../text.ts';
import { findingSection, type TraceData } from './finding.ts';
import { esc, page } from './page.ts';

/** What `check --html` shows: the verdict, then every finding, most severe first. */
export interface CheckPage {
  scenario: string;
  design: string;
  verdict: string;
  /** The exploration's notes (what bounded it, what it skipped). */
  notes: string[];
  reports: FindingReport[];
  version: string;
}

export function checkPage(p: CheckPage): string {
  const traces: TraceData[] = [];
  const title = `${p.scenario} on ${p.design}`;
  const body = [
    '<header>',
    `<h1>vgic-lab check: ${esc(title)}</h1>`,
    `<p class="verdict">${esc(p.verdict)}</p>`,
    ...p.notes.map((n) => `<p class="dim">${esc(n)}</p>`),
    '</header>',
  ];
  if (p.reports.length > 0)
    body.push(
      '<nav><h3>Findings, most severe first</h3><ol>',
      ...p.reports.map((r, i) => `<li><a href="#finding-${i + 1}">${esc(r.title)}</a></li>`),
      '</ol></nav>',
    );
  p.reports.forEach((r, i) => {
    body.push(findingSection(r, i + 1, p.reports.length, `finding-${i + 1}`, traces));
  });
  body.push(footer(p.version));
  return page(`vgic-lab: ${title}`, body.join('\n'), { traces });
}

/** What `compare --html` shows: the matrix, its legend, and the finding behind each failing cell. */
export interface ComparePage {
  designs: string[];
  scenarios: string[];
  cells: Cell[];
  budget: Budget;
  /** The report of each cell's most severe finding, by the cell's index in `cells`. */
  reports: Map<number, FindingReport>;
  /** Lines under the legend (unmet expectations, an interruption). */
  notes: string[];
  version: string;
}

export function comparePage(p: ComparePage): string {
  const traces: TraceData[] = [];
  const codes = verdictCodes(p.cells);
  const index = new Map(p.cells.map((c, i) => [`${c.scenario}\u0000${c.design}`, i]));
  const cellHtml = (s: string, d: string) => {
    const i = index.get(`${s}\u0000${d}`);
    if (i === undefined) return '<td></td>';
    const c = p.cells[i];
    const text = esc(cellText(c, codes));
    const tip = esc(
      `${s} on ${d}: ${c.verdict}${c.notes.length > 0 ? `; notes: ${c.notes.join('; ')}` : ''}`,
    );
    const kind = ['clean', 'none-found', 'not-a-design'].includes(c.kind) ? c.kind : 'finding';
    const inner = p.reports.has(i) ? `<a href="#cell-${i}">${text}</a>` : text;
    return `<td class="${kind}" title="${tip}">${inner}</td>`;
  };
  const [first, ...entries] = legend(codes, p.budget, p.cells);
  const body = [
    '<header>',
    `<h1>vgic-lab compare: ${plural(p.scenarios.length, 'scenario')} × ${plural(p.designs.length, 'design')}</h1>`,
    '</header>',
    '<table class="matrix">',
    `<thead><tr><th>scenario</th>${p.designs.map((d) => `<th>${esc(d)}</th>`).join('')}</tr></thead>`,
    '<tbody>',
    ...p.scenarios.map((s) => `<tr><th>${esc(s)}</th>${p.designs.map((d) => cellHtml(s, d)).join('')}</tr>`),
    '</tbody>',
    '</table>',
    `<p>${esc(first)}</p>`,
    '<ul class="legend">',
    ...entries.map((l) => {
      const m = /^ {2}(\S+)\s+(.*)$/.exec(l);
      return m ? `<li><b>${esc(m[1])}</b> ${esc(m[2])}</li>` : `<li>${esc(l.trim())}</li>`;
    }),
    '</ul>',
    ...p.notes.map((n) => `<p class="verdict">${esc(n)}</p>`),
  ];
  if (p.reports.size > 0)
    body.push(
      '<p class="dim">Each finding below was minimised briefly; <code>vgic-lab check SCENARIO --design D</code> minimises it in full.</p>',
    );
  for (const [i, r] of p.reports) {
    const c = p.cells[i];
    body.push(
      findingSection(r, 1, 1, `cell-${i}`, traces, `${c.scenario} on ${c.design}: ${codes.get(c.verdict)}`),
    );
  }
  body.push(footer(p.version));
  return page('vgic-lab: compare', body.join('\n'), { traces });
}

function footer(version: string): string {
  return `<footer class="dim"><p>vgic-lab ${esc(version)}. Written offline: this page loads nothing from anywhere.</p></footer>`;
}
