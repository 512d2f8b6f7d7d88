import type { ExploreStats, Finding } from '../explore/explorer.ts';
import { type FindingClass, fails, findingClass } from './classes.ts';

/**
 * An integer with thousands separators (12,345). Not `toLocaleString`: its first call starts ICU, about
 * 40 ms of every command that prints a verdict.
 */
export function grouped(n: number): string {
  const digits = String(Math.abs(Math.round(n)));
  const out = digits.replace(/\B(?=(\d{3})+$)/g, ',');
  return n < 0 ? `-${out}` : out;
}

/** `1 execution`, `2 executions`, `12,000 executions`. */
export function plural(n: number, word: string): string {
  return `${grouped(n)} ${word}${n === 1 ? '' : 's'}`;
}

const CLASS_NAMES: Record<FindingClass, string> = {
  kernel: 'kernel report',
  functional: 'functional finding',
  note: 'lock-discipline note',
};

/** "2 kernel reports, 1 lock-discipline note". */
function counts(findings: readonly Finding[]): string {
  const n: Record<FindingClass, number> = { kernel: 0, functional: 0, note: 0 };
  for (const f of findings) n[findingClass(f.violation.checker)]++;
  return (Object.keys(n) as FindingClass[])
    .filter((c) => n[c] > 0)
    .map((c) => plural(n[c], CLASS_NAMES[c]))
    .join(', ');
}

export interface VerdictOptions {
  /** Lock-discipline notes count as failures. */
  strict: boolean;
  /** How to say that the search stopped at its stop condition ("stopped at the first kernel report"). */
  stoppedAt: string;
}

const STOPPED: Record<ExploreStats['stoppedBy'], string> = {
  exhausted: 'the strategy ran out of schedules',
  'first-violation': '',
  'max-executions': 'execution budget reached',
  'time-limit': 'time limit reached',
  interrupted: 'interrupted',
};

/**
 * The summary line: the most severe finding first (`findings` is ordered so), then how many more of
 * each class, what was explored, and always whether that was exhaustive. Deterministic (no timings).
 */
export function verdict(stats: ExploreStats, findings: readonly Finding[], o: VerdictOptions): string {
  const runs = plural(stats.executions, 'execution');
  const scope = stats.exhaustive
    ? stats.coverage
    : `not exhaustive (${stats.stoppedBy === 'first-violation' ? o.stoppedAt : STOPPED[stats.stoppedBy]})`;
  const bound = stats.boundHits > 0 ? `; ${plural(stats.boundHits, 'execution')} reached the step bound` : '';
  const failing = findings.filter((f) => fails(f.violation, o.strict));
  if (failing.length === 0) {
    const notes = findings.length > 0 ? ` (${counts(findings)}: ${findings[0].violation.title})` : '';
    return `no violation in ${runs}${notes}; ${scope}${bound}`;
  }
  const rest = findings.slice(1);
  const more = rest.length > 0 ? `, and ${counts(rest)}` : '';
  return `${findings[0].violation.title}${more}; ${runs}; ${scope}${bound}`;
}
