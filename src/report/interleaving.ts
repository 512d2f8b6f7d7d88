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

/** How an interleaving table is laid out. */
export interface RenderOptions {
  /** Characters a line may take: the terminal's columns, 80 when unknown. */
  width?: number;
  /** Every step, those that only took and released locks too. */
  verbose?: boolean;
  /** The step whose report the table belongs to, the one marked ">>" (default: the last that fired). */
  firing?: number;
}

/** Narrower columns than this are unreadable: the table then lists steps one per line. */
const MIN_COLUMN = 18;

const LOCKING = /^(lock|trylock|unlock) /;

/** A step that only took and released locks: folded with its neighbours unless --verbose. */
function locksOnly(r: StepRow): boolean {
  return (
    r.fired.length === 0 &&
    r.notes.length > 0 &&
    r.notes.every((n) => LOCKING.test(n)) &&
    !r.op.startsWith('choose')
  );
}

/**
 * What a shown step says: where its thread stood (or its scheduling point, where there is no function),
 * the scheduling point, its notes, the reports it fired.
 */
export function stepTexts(r: StepRow): { text: string; kind: 'at' | 'op' | 'note' | 'fired' }[] {
  // A lock acquisition's scheduling point is restated by its note; other points are shown.
  const showOp = r.op && r.at && !/^(try)?lock /.test(r.op) && r.op !== 'guest';
  return [
    { text: r.at || r.op, kind: 'at' },
    ...(showOp ? [{ text: `[${r.op}]`, kind: 'op' as const }] : []),
    ...r.notes.map((n) => ({ text: n, kind: 'note' as const })),
    ...r.fired.map((f) => ({ text: f, kind: 'fired' as const })),
  ];
}

/**
 * Why a step is folded with the neighbouring steps of its thread, or null when it is shown: it only
 * ran guest instructions, or (unless verbose) only took and released locks. The firing step never is.
 */
export function foldKind(r: StepRow, firing: number, verbose: boolean): 'guest' | 'locks' | null {
  if (r.step === firing) return null;
  if (r.op === 'guest' && r.notes.length === 0 && r.fired.length === 0) return 'guest';
  return !verbose && locksOnly(r) ? 'locks' : null;
}

/** `text` cut to `w` characters, or, for text that must be read whole, wrapped into lines of `w`. */
function cell(text: string, width: number, whole: boolean): string[] {
  // Narrower than this, nothing is readable: lines may then run past the terminal's edge.
  const w = Math.max(width, 12);
  if (text.length <= w) return [text];
  if (!whole) return [`${text.slice(0, w - 1)}…`];
  const indent = /^ */.exec(text)![0].slice(0, w - 8);
  // Continuation lines indent two more, where there is room for it.
  const cont = w - indent.length - 2 >= 8 ? `${indent}  ` : '';
  const out: string[] = [];
  let line = indent;
  for (const word of text.slice(indent.length).split(' ')) {
    const lead = out.length === 0 ? indent : cont;
    if (line.length > lead.length && line.length + 1 + word.length > w) {
      out.push(line);
      line = cont;
    }
    const sep = line.length > (out.length === 0 ? indent : cont).length ? ' ' : '';
    let rest = `${sep}${word}`;
    // A word longer than a line is split.
    while (line.length + rest.length > w) {
      const room = w - line.length;
      out.push(line + rest.slice(0, room));
      line = cont;
      rest = rest.slice(room);
    }
    line += rest;
  }
  out.push(line);
  return out;
}

/**
 * The interleaving as a table with one column per CPU/thread, as wide as `width`, or one line per step
 * where columns would be too narrow. Steps of one thread that only ran guest instructions, and (unless
 * verbose) steps that only took and released locks, are folded into one line; the firing step is
 * marked ">>". Notes are cut to their column, except the reports that fired and the value a choice
 * point took, which wrap.
 */
export function renderInterleaving(il: Interleaving, o: RenderOptions = {}): string[] {
  const width = o.width ?? 80;
  const firing = o.firing ?? Math.max(-1, ...il.rows.filter((r) => r.fired.length > 0).map((r) => r.step));
  const cols = il.threads;
  const colOf = new Map(cols.map((c, i) => [c.tid, i]));
  const column = Math.floor((width - 2 - (cols.length - 1)) / Math.max(1, cols.length));
  const lanes = column >= MIN_COLUMN;
  const out: string[] = [];
  /** One entry of a thread: its lines, each placed in the thread's column (or after its name). */
  const emit = (tid: number, texts: { text: string; whole: boolean }[], mark = false) => {
    if (!lanes) {
      const name = cols[colOf.get(tid)!].name;
      texts.forEach(({ text, whole }, i) => {
        const prefix = `${mark && i === 0 ? '>>' : '  '}${i === 0 ? `${name}: ` : ' '.repeat(name.length + 2)}`;
        for (const l of cell(text, width - prefix.length, whole)) out.push(`${prefix}${l}`.trimEnd());
      });
      return;
    }
    const c = colOf.get(tid)!;
    const pad = ' '.repeat(c * (column + 1));
    let first = true;
    for (const { text, whole } of texts)
      for (const l of cell(text, column, whole)) {
        out.push(`${mark && first ? '>>' : '  '}${pad}${l}`.trimEnd());
        first = false;
      }
  };
  if (lanes) {
    out.push(`  ${cols.map((c) => c.name.slice(0, column).padEnd(column)).join(' ')}`.trimEnd());
    out.push(`  ${cols.map(() => '-'.repeat(Math.min(column, 20)).padEnd(column)).join(' ')}`.trimEnd());
  }
  let folded: { tid: number; kind: 'guest' | 'locks'; from: number; to: number } | null = null;
  const flush = () => {
    if (!folded) return;
    const { from, to } = folded;
    const steps = from === to ? `step ${from}` : `steps ${from}-${to}`;
    emit(folded.tid, [
      { text: folded.kind === 'guest' ? `(guest ${steps})` : `(${steps}: locks only)`, whole: false },
    ]);
    folded = null;
  };
  for (const r of il.rows) {
    const kind = foldKind(r, firing, o.verbose === true);
    if (kind) {
      if (folded && folded.tid === r.tid && folded.kind === kind && folded.to === r.step - 1)
        folded.to = r.step;
      else {
        flush();
        folded = { tid: r.tid, kind, from: r.step, to: r.step };
      }
      continue;
    }
    flush();
    emit(
      r.tid,
      stepTexts(r).map(({ text, kind }) => ({
        text: kind === 'at' ? `${r.step}: ${text}` : kind === 'fired' ? `  <-- ${text}` : `  ${text}`,
        whole: kind === 'fired' || (kind === 'op' && r.op.startsWith('choose')),
      })),
      r.step === firing,
    );
  }
  flush();
  return out;
}
