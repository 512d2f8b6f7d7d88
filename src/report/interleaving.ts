import type { Execution } from '../explore/execution.ts';

/** One step of a recorded execution, as the interleaving table shows it. */
export interface StepRow {
  step: number;
  tid: number;
  thread: string;
  /** Where the thread stood when the step began (function+0xstep/0xlength). */
  at: string;
  /** The scheduling point the step started from. */
  op: string;
  /** Lock, list, RCU and guest operations done in the step. */
  notes: string[];
  /** Titles of the reports that fired in this step. */
  fired: string[];
}

export interface Interleaving {
  threads: { tid: number; name: string }[];
  rows: StepRow[];
}

/** The steps of a recorded execution up to (and including) `lastStep`. */
export function interleavingOf(exec: Execution, lastStep = exec.trace.length - 1): Interleaving {
  const notes = new Map<number, string[]>();
  for (const n of exec.notes) {
    let l = notes.get(n.step);
    if (!l) notes.set(n.step, (l = []));
    l.push(n.text);
  }
  const fired = new Map<number, string[]>();
  for (const v of exec.violations) {
    let l = fired.get(v.step);
    if (!l) fired.set(v.step, (l = []));
    l.push(v.title);
  }
  const rows: StepRow[] = [];
  for (let i = 0; i <= lastStep && i < exec.trace.length; i++) {
    const ev = exec.trace[i];
    rows.push({
      step: i,
      tid: ev.tid,
      thread: exec.threads[ev.tid].name,
      at: ev.at ?? '',
      op: ev.op.label(),
      notes: notes.get(i) ?? [],
      fired: fired.get(i) ?? [],
    });
  }
  const used = new Set(rows.map((r) => r.tid));
  return {
    threads: exec.threads.filter((t) => used.has(t.id)).map((t) => ({ tid: t.id, name: t.name })),
    rows,
  };
}

function fit(s: string, w: number): string {
  return s.length > w ? `${s.slice(0, w - 1)}…` : s.padEnd(w);
}

/**
 * The interleaving as a table with one column per CPU/thread. Steps of one thread that only ran guest
 * instructions are folded into one line; the step that fired is marked with ">>".
 */
export function renderInterleaving(il: Interleaving, width = 44): string[] {
  const cols = il.threads;
  const colOf = new Map(cols.map((c, i) => [c.tid, i]));
  const line = (cells: string[], mark = '  ') =>
    `${mark}${cells.map((c) => fit(c, width)).join(' ')}`.trimEnd();
  const out = [line(cols.map((c) => c.name)), line(cols.map(() => '-'.repeat(Math.min(width, 20))))];
  let quiet: { tid: number; from: number; to: number } | null = null;
  const flush = () => {
    if (!quiet) return;
    const cells = cols.map(() => '');
    cells[colOf.get(quiet.tid)!] =
      quiet.from === quiet.to ? `(guest step ${quiet.from})` : `(guest steps ${quiet.from}-${quiet.to})`;
    out.push(line(cells));
    quiet = null;
  };
  for (const r of il.rows) {
    const isQuiet = r.op === 'guest' && r.notes.length === 0 && r.fired.length === 0;
    if (isQuiet) {
      if (quiet && quiet.tid === r.tid && quiet.to === r.step - 1) quiet.to = r.step;
      else {
        flush();
        quiet = { tid: r.tid, from: r.step, to: r.step };
      }
      continue;
    }
    flush();
    const c = colOf.get(r.tid)!;
    // A lock acquisition's scheduling point is restated by its note; other points are shown.
    const showOp = r.op && r.at && !/^(try)?lock /.test(r.op) && r.op !== 'guest';
    const texts = [
      `${r.step}: ${r.at || r.op}`,
      ...(showOp ? [`  [${r.op}]`] : []),
      ...r.notes.map((n) => `  ${n}`),
    ];
    for (const f of r.fired) texts.push(`  <-- ${f}`);
    texts.forEach((t, i) => {
      const cells = cols.map(() => '');
      cells[c] = t;
      out.push(line(cells, r.fired.length > 0 && i === 0 ? '>>' : '  '));
    });
  }
  flush();
  return out;
}
