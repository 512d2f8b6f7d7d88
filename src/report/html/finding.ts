import { PROLOGUE_STEP } from '../../explore/execution.ts';
import { stateLines } from '../../vgic/dump.ts';
import { type FindingReport, findingHead, minimisedNote } from '../finding.ts';
import { foldKind, type StepRow, stepTexts } from '../interleaving.ts';
import type { StepDetails } from '../steps.ts';
import { plural } from '../text.ts';
import { esc } from './page.ts';

/** What the page's script needs of one interleaving (the JSON in the page). */
export interface TraceData {
  threads: { tid: number; name: string }[];
  rows: StepRow[];
  detail: StepDetails | null;
  /** The step that fired the report, selected when the page opens. */
  firing: number;
}

/**
 * One finding as a section of the page: the vgic-lab head, the kernel report with the replay command
 * to copy, the interleaving as swimlanes next to the step panel, and the state where it fired.
 * `traces` receives the data of its interleaving; `id` is the section's anchor; `caption`, when given,
 * heads the section instead of the finding's own line (a compare cell).
 */
export function findingSection(
  r: FindingReport,
  index: number,
  of: number,
  id: string,
  traces: TraceData[],
  caption?: string,
): string {
  const [head, config] = findingHead(r, index, of, r.config).map((l) => l.replace(/^vgic-lab: /, ''));
  const out = [
    `<section class="finding" id="${esc(id)}">`,
    ...(caption
      ? [`<h2>${esc(caption)}</h2>`, `<p>${esc(head.replace(/^finding 1 of 1, /, ''))}</p>`]
      : [`<h2>${esc(head.replace(/^f/, 'F'))}</h2>`]),
    `<p class="config">${esc(config)}</p>`,
    `<pre class="kernel">${esc([r.kernel, ...r.trailer].join('\n'))}</pre>`,
    `<div class="replay"><code>${esc(r.replay)}</code><button class="copy" type="button">copy</button></div>`,
  ];
  if (!r.recorded)
    out.push(
      '<p>Interleaving and state: not recorded (the command was stopped before this report was built; the command above replays it).</p>',
    );
  else if (r.step === PROLOGUE_STEP)
    out.push(
      '<p>It fired in the prologue, the set-up run before any scheduled step: there is no interleaving.</p>',
    );
  else {
    const t = traces.length;
    traces.push({
      threads: r.interleaving.threads,
      rows: r.interleaving.rows,
      detail: r.detail ?? null,
      firing: r.step,
    });
    out.push(
      `<h3>Interleaving${esc(minimisedNote(r))}: ${plural(r.interleaving.rows.length, 'step')}, ${plural(r.preemptions, 'preemption')}; the step marked &gt;&gt; fired</h3>`,
      `<div class="trace" data-t="${t}">`,
      '<div>',
      '<p class="tools"><label><input type="checkbox" class="every-step"> show every step</label> · folded steps only took and released locks, or ran guest code · select a step, then ↑/↓ (or k/j) walk the steps</p>',
      swimlanes(r.interleaving.threads, r.interleaving.rows, r.step),
      '</div>',
      '<aside class="panel" aria-live="polite"></aside>',
      '</div>',
    );
  }
  if (r.state)
    out.push(
      '<details><summary>State at the failing step</summary>',
      `<pre>${esc(stateLines(r.state).join('\n'))}</pre>`,
      '</details>',
    );
  out.push('</section>');
  return out.join('\n');
}

/**
 * The interleaving as a table, one column (lane) per CPU/thread, one row per step. A run of steps of
 * one thread that only took and released locks, or only ran guest code, is hidden behind a row that
 * unfolds it.
 */
function swimlanes(threads: { tid: number; name: string }[], rows: StepRow[], firing: number): string {
  const lane = new Map(threads.map((t, i) => [t.tid, i]));
  const cells = (tid: number, inner: string) =>
    threads.map((_, i) => (i === lane.get(tid) ? `<td class="c">${inner}</td>` : '<td></td>')).join('');
  const out = [
    '<table class="lanes">',
    `<thead><tr><th class="n">step</th>${threads.map((t) => `<th>${esc(t.name)}</th>`).join('')}</tr></thead>`,
    '<tbody>',
  ];
  let groups = 0;
  for (let i = 0; i < rows.length; ) {
    const r = rows[i];
    const kind = foldKind(r, firing, false);
    if (kind) {
      let j = i;
      while (
        j + 1 < rows.length &&
        rows[j + 1].tid === r.tid &&
        foldKind(rows[j + 1], firing, false) === kind
      )
        j++;
      const g = groups++;
      const steps = i === j ? `step ${i}` : `steps ${i}-${j}`;
      const label = `${steps}: ${kind === 'guest' ? 'guest code' : 'locks only'}`;
      out.push(
        `<tr class="fold" data-g="${g}"><th class="n"></th>${cells(r.tid, `<button type="button" aria-expanded="false" data-label="${esc(label)}">▸ ${esc(label)}</button>`)}</tr>`,
      );
      for (let k = i; k <= j; k++) out.push(stepRow(rows[k], cells, firing, g));
      i = j + 1;
    } else {
      out.push(stepRow(r, cells, firing, null));
      i++;
    }
  }
  out.push('</tbody>', '</table>');
  return out.join('\n');
}

function stepRow(
  r: StepRow,
  cells: (tid: number, inner: string) => string,
  firing: number,
  group: number | null,
): string {
  const inner = stepTexts(r)
    .map(({ text, kind }) => `<div class="${kind}">${esc(kind === 'fired' ? `← ${text}` : text)}</div>`)
    .join('');
  const cls = r.step === firing ? 'step firing' : 'step';
  const g = group === null ? '' : ` data-g="${group}" hidden`;
  return `<tr class="${cls}" data-s="${r.step}" tabindex="0"${g}><th class="n">${r.step}</th>${cells(r.tid, inner)}</tr>`;
}
