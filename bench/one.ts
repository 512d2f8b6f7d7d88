// One measured exploration in a fresh process (npm run bench spawns it): prints JSON with the time
// since process start, executions, steps and the peak resident set size.

import { readFileSync } from 'node:fs';
import { Exploration } from '../src/explore/explorer.ts';
import { DEFAULT_SPLIT_DEPTH, SplitExploration } from '../src/explore/split.ts';
import { Stop } from '../src/explore/stop.ts';
import { BoundedStrategy } from '../src/explore/strategies/bounded.ts';
import { DporStrategy } from '../src/explore/strategies/dpor.ts';
import { OptimalStrategy } from '../src/explore/strategies/optimal.ts';
import type { Violation } from '../src/explore/violation.ts';
import { isKernelReport } from '../src/report/classes.ts';
import { buildProgram } from '../src/scenario/builder.ts';
import { parseScenario } from '../src/scenario/load.ts';
import { designById } from '../src/vgic/designs.ts';

const [file, designId, mode, budget, seconds] = process.argv.slice(2);
const s = parseScenario(readFileSync(file, 'utf8'), file);
const d = designById(designId)!;
const strategy =
  mode === 'naive'
    ? new BoundedStrategy()
    : mode.startsWith('bounded')
      ? new BoundedStrategy(Number(mode.slice(7)))
      : mode === 'optimal'
        ? new OptimalStrategy()
        : new DporStrategy();
const opts = {
  maxSteps: s.explore.maxSteps ?? 100_000,
  maxExecutions: budget ? Number(budget) : undefined,
  // A growth point of the bench is cut after this many seconds: it then says how far it got.
  stop: seconds ? new Stop(null, performance.now() + Number(seconds) * 1000) : undefined,
  allViolations: mode !== 'first',
  // As vgic-lab check: stop at the first kernel report.
  stopOn: (v: Violation) => isKernelReport(v.checker),
};
const program = buildProgram(s.spec, d);
// `split`: DPOR split at the default depth, as `vgic-lab check` explores (docs/scale.md).
const x =
  mode === 'split'
    ? new SplitExploration(program, DEFAULT_SPLIT_DEPTH, opts)
    : new Exploration(program, strategy, opts);
let firstAt: number | null = null;
let firstExec: number | null = null;
let firstTitle: string | null = null;
const started = performance.now();
for (;;) {
  const more = x.step();
  if (firstAt === null) {
    const kernel = x.result().findings.find((f) => isKernelReport(f.violation.checker));
    if (kernel) {
      firstAt = performance.now();
      firstExec = kernel.execution;
      firstTitle = kernel.violation.title;
    }
  }
  if (!more) break;
}
const r = x.result();
process.stdout.write(
  `${JSON.stringify({
    scenario: s.spec.name,
    design: d.id,
    mode,
    executions: r.stats.executions,
    steps: r.stats.steps,
    exhaustive: r.stats.exhaustive,
    sleepBlocked: r.stats.sleepBlocked,
    exploreMs: Math.round(performance.now() - started),
    fromProcessStartMs: Math.round(performance.now()),
    firstKernelReport: firstTitle,
    firstKernelReportExecution: firstExec,
    firstKernelReportFromProcessStartMs: firstAt === null ? null : Math.round(firstAt),
    executionsPerSec: Math.round(r.stats.executionsPerSec),
    stepsPerSec: Math.round(r.stats.stepsPerSec),
    peakRssMiB: Math.round(process.resourceUsage().maxRSS / 1024),
    cpuMs: Math.round((process.cpuUsage().user + process.cpuUsage().system) / 1000),
    findings: r.findings.map((f) => f.violation.title),
  })}\n`,
);
