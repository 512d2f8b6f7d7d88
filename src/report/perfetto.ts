import type { Interleaving } from './interleaving.ts';

interface TraceEvent {
  name: string;
  ph: 'X' | 'M' | 'i';
  pid: number;
  tid: number;
  ts?: number;
  dur?: number;
  cat?: string;
  s?: 't' | 'p';
  args?: Record<string, unknown>;
}

/**
 * One model step is one millisecond of trace time (trace-event timestamps are microseconds), and the
 * file asks for milliseconds on display: the time axis then counts steps.
 */
const STEP_US = 1000;

/** One track group of a trace: a recorded execution (or its prefix up to a finding). */
export interface TraceGroup {
  name: string;
  il: Interleaving;
}

export interface PerfettoTrace {
  traceEvents: TraceEvent[];
  displayTimeUnit: 'ms';
  metadata: Record<string, string>;
}

/**
 * Chrome trace-event JSON (opens in ui.perfetto.dev): one process (a track group) per finding or
 * execution, in it one track per CPU/thread, a slice per step, and slices for lock-held spans and
 * guest-mode spans, built from the notes of a recorded execution.
 */
export function perfettoTrace(groups: readonly TraceGroup[], title: string): PerfettoTrace {
  return {
    traceEvents: groups.flatMap((g, i) => groupEvents(g, i + 1)),
    displayTimeUnit: 'ms',
    metadata: { title: `vgic-lab: ${title}`, 'time-unit': 'one model step = 1 ms of trace time' },
  };
}

function groupEvents(g: TraceGroup, pid: number): TraceEvent[] {
  const il = g.il;
  const ev: TraceEvent[] = [
    { name: 'process_name', ph: 'M', pid, tid: 0, args: { name: g.name } },
    { name: 'process_sort_index', ph: 'M', pid, tid: 0, args: { sort_index: pid } },
  ];
  for (const t of il.threads)
    ev.push({ name: 'thread_name', ph: 'M', pid, tid: t.tid + 1, args: { name: t.name } });
  const openLocks = new Map<string, number>();
  const guestFrom = new Map<number, number>();
  for (const r of il.rows) {
    const tid = r.tid + 1;
    const ts = r.step * STEP_US;
    ev.push({
      name: r.at.replace(/\+0x.*$/, '') || r.op || 'step',
      cat: 'step',
      ph: 'X',
      pid,
      tid,
      ts,
      dur: STEP_US,
      args: { step: r.step, at: r.at, op: r.op, notes: r.notes },
    });
    for (const n of r.notes) {
      const lock = /^(?:try)?lock (\S+?)(?:\/\d+)? \((.+)\)$/.exec(n);
      const unlock = /^unlock (\S+) \((.+)\)$/.exec(n);
      if (lock) openLocks.set(`${tid}:${lock[1]} (${lock[2]})`, ts);
      else if (unlock) {
        const key = `${tid}:${unlock[1]} (${unlock[2]})`;
        const from = openLocks.get(key);
        if (from !== undefined) {
          ev.push({
            name: `${unlock[1]} (${unlock[2]})`,
            cat: 'lock',
            ph: 'X',
            pid,
            tid,
            ts: from,
            dur: ts + STEP_US - from,
          });
          openLocks.delete(key);
        }
      } else if (n.startsWith('guest entry')) guestFrom.set(tid, ts);
      else if (n.startsWith('exit')) {
        const from = guestFrom.get(tid);
        if (from !== undefined) {
          ev.push({
            name: 'guest mode',
            cat: 'guest',
            ph: 'X',
            pid,
            tid,
            ts: from,
            dur: ts + STEP_US - from,
            args: { exit: n },
          });
          guestFrom.delete(tid);
        }
      }
    }
    for (const f of r.fired)
      ev.push({ name: f, cat: 'report', ph: 'i', s: 'p', pid, tid, ts: ts + STEP_US - 1 });
  }
  const end = (il.rows.length + 1) * STEP_US;
  for (const [key, from] of openLocks) {
    const [tid, name] = [Number(key.split(':')[0]), key.slice(key.indexOf(':') + 1)];
    ev.push({
      name,
      cat: 'lock',
      ph: 'X',
      pid,
      tid,
      ts: from,
      dur: end - from,
      args: { held: 'at the end' },
    });
  }
  for (const [tid, from] of guestFrom)
    ev.push({ name: 'guest mode', cat: 'guest', ph: 'X', pid, tid, ts: from, dur: end - from });
  return ev;
}
