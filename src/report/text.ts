import type { ExploreStats, Finding } from '../explore/explorer.ts';
import type { KReport } from '../kernel/splat.ts';
import { trailer } from '../kernel/splat.ts';

export interface ReportContext {
  design: string;
  scenario: string;
}

/** A finding as the kernel would print it, followed by the model trailer (kernel-sanitizers.md §0.7). */
export function renderFinding(f: Finding, ctx: ReportContext): string {
  const v = f.violation as Partial<KReport> & Finding['violation'];
  const extra = v.extra ?? [];
  return [v.text(), ...trailer(ctx.design, ctx.scenario, f.execution, f.violation.step, f.token, extra)].join(
    '\n',
  );
}

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
