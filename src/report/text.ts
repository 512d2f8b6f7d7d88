import type { ExploreStats, Finding } from '../explore/explorer.ts';

function plural(n: number, word: string): string {
  return `${n.toLocaleString('en-US')} ${word}${n === 1 ? '' : 's'}`;
}

/** The verdict line: what was explored and what that proves. Deterministic (no timings). */
export function verdict(stats: ExploreStats, findings: readonly Finding[]): string {
  const runs = plural(stats.executions, 'execution');
  const bound = stats.boundHits > 0 ? `; ${plural(stats.boundHits, 'execution')} reached the step bound` : '';
  if (findings.length === 0) {
    const what = stats.exhaustive ? stats.coverage : `not exhaustive (stopped: ${stats.stoppedBy})`;
    return `no violation in ${runs}; ${what}${bound}`;
  }
  const kinds = findings.map((f) => f.violation.title).join('; ');
  return `${plural(findings.length, 'distinct violation')} in ${runs}: ${kinds}${bound}`;
}
