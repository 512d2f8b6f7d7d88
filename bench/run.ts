// npm run bench: explorer throughput over the corpus, DPOR versus naive enumeration, and the cost of one
// instrumented access. Prints a table and writes bench/results.json. Timings vary by machine; tests never
// assert them.
import { writeFileSync } from 'node:fs';
import type { Execution } from '../src/explore/execution.ts';
import { explore } from '../src/explore/explorer.ts';
import { dependent } from '../src/explore/footprint.ts';
import { POINT } from '../src/explore/ops.ts';
import { BoundedStrategy } from '../src/explore/strategies/bounded.ts';
import { DporStrategy } from '../src/explore/strategies/dpor.ts';
import { rd } from '../src/kernel/access.ts';
import { kernelProgram } from '../src/kernel/corpus/program.ts';
import { CORPUS, indexer, lastzero } from '../src/kernel/corpus/programs.ts';
import { type KObj, StructType } from '../src/kernel/mem.ts';
import { buildProgram } from '../src/scenario/builder.ts';
import { seedRace, seedRaceDiscarded } from '../src/scenario/catalogue/seed-race.ts';
import { designById } from '../src/vgic/designs.ts';

interface Row {
  program: string;
  dporExecutions: number;
  sleepBlocked: number;
  dporSteps: number;
  dporMs: number;
  executionsPerSec: number;
  stepsPerSec: number;
  naiveExecutions: number | null;
  traces: number | null;
}

function traceCount(p: (typeof CORPUS)[number]): number {
  const sigs = new Set<string>();
  explore(p, new BoundedStrategy(), {
    allViolations: true,
    onExecution: (e: Execution) => {
      const idx = new Map<number, number>();
      const names = e.trace.map((ev) => {
        const c = (idx.get(ev.tid) ?? 0) + 1;
        idx.set(ev.tid, c);
        return `${ev.tid}.${c}`;
      });
      const pairs: string[] = [];
      for (let j = 0; j < e.trace.length; j++)
        for (let i = 0; i < j; i++)
          if (e.trace[i].tid !== e.trace[j].tid && dependent(e.trace[i].fp, e.trace[j].fp))
            pairs.push(`${names[i]}<${names[j]}`);
      sigs.add(pairs.sort().join(' '));
    },
  });
  return sigs.size;
}

const rows: Row[] = [];
const programs = [...CORPUS, lastzero(5), indexer(13), indexer(14)];
for (const p of programs) {
  const d = explore(p, new DporStrategy(), { allViolations: true });
  const small = !p.name.startsWith('indexer') && p.name !== 'lastzero-5';
  const naive = small ? explore(p, new BoundedStrategy(), { allViolations: true }).stats.executions : null;
  rows.push({
    program: p.name,
    dporExecutions: d.stats.executions,
    sleepBlocked: d.stats.sleepBlocked,
    dporSteps: d.stats.steps,
    dporMs: Math.round(d.stats.elapsedMs),
    executionsPerSec: Math.round(d.stats.executionsPerSec),
    stepsPerSec: Math.round(d.stats.stepsPerSec),
    naiveExecutions: naive,
    traces: small ? traceCount(p) : null,
  });
}

// Cost of one instrumented access: one step reads one field N times, against plain reads of the same value.
const F = new StructType('bench', 8, [{ name: 'x' }]);
const N = 1_000_000;
const costs: Record<string, number> = {};
function timeReads(t: Parameters<typeof rd>[0], o: Parameters<typeof rd>[1]): number {
  const f = F.fields[0];
  let sum = 0;
  const t0 = performance.now();
  for (let i = 0; i < N; i++) sum += rd<number>(t, o, f);
  const t1 = performance.now();
  const loc = (o as KObj).locs[0];
  for (let i = 0; i < N; i++) sum += loc.value as number;
  const t2 = performance.now();
  if (sum < 0) console.log(sum);
  return ((t1 - t0 - (t2 - t1)) * 1e6) / N;
}
for (const [name, switches] of [
  ['all sanitizers', {}],
  ['without KCSAN', { KCSAN: false }],
] as const) {
  const probe = kernelProgram(
    'access-cost',
    'instrumented reads',
    [],
    (k) => {
      const o = k.alloc(F, 'o', { x: 1 }, null, false);
      k.spawn({ comm: 'bench', pid: 1000, cpu: 0 }, function* (t) {
        yield POINT;
        timeReads(t, o);
        costs[name] = timeReads(t, o);
      });
    },
    { switches },
  );
  explore(probe, new DporStrategy());
}
const pad = (s: string | number | null, n: number) => String(s ?? '-').padStart(n);
console.log(
  `${'program'.padEnd(28)}${pad('dpor execs', 11)}${pad('sleep-blk', 10)}${pad('steps', 9)}${pad('ms', 7)}${pad('execs/s', 9)}${pad('steps/s', 10)}${pad('naive', 8)}${pad('traces', 8)}`,
);
for (const r of rows) {
  console.log(
    `${r.program.padEnd(28)}${pad(r.dporExecutions, 11)}${pad(r.sleepBlocked, 10)}${pad(r.dporSteps, 9)}${pad(r.dporMs, 7)}${pad(r.executionsPerSec, 9)}${pad(r.stepsPerSec, 10)}${pad(r.naiveExecutions, 8)}${pad(r.traces, 8)}`,
  );
}
for (const [name, ns] of Object.entries(costs))
  console.log(`instrumented access, ${name}: ${ns.toFixed(1)} ns more than a plain read`);
// The seed race (vgic-host.md §6.1) on V3 and V4b, and its variant after a DISCARD: exhaustive DPOR.
const seed: Record<string, unknown>[] = [];
for (const [id, s] of [
  ['V3', seedRace],
  ['V4b', seedRace],
  ['V3', seedRaceDiscarded],
  ['V4b', seedRaceDiscarded],
] as const) {
  const all = explore(buildProgram(s, designById(id)!), new DporStrategy(), { allViolations: true });
  const kernel = all.findings.filter((x) => !['ghost', 'oracle', 'expect'].includes(x.violation.checker));
  seed.push({
    scenario: s.name,
    design: id,
    firstSanitizerExecution: kernel.length ? Math.min(...kernel.map((x) => x.execution)) : null,
    exhaustiveExecutions: all.stats.executions,
    sleepBlocked: all.stats.sleepBlocked,
    exhaustiveMs: Math.round(all.stats.elapsedMs),
    stepsPerExecution: Math.round(all.stats.steps / all.stats.executions),
    findings: all.findings.map((x) => `${x.violation.title} (first in execution ${x.execution})`),
  });
}
console.log('\nseed race, exhaustive DPOR:');
for (const r of seed) {
  console.log(
    `${String(r.scenario).padEnd(42)} ${String(r.design).padEnd(4)} ${r.exhaustiveExecutions} executions (${r.sleepBlocked} sleep-blocked), ${r.exhaustiveMs} ms, ${r.stepsPerExecution} steps/execution; first kernel report in execution ${r.firstSanitizerExecution ?? '-'}`,
  );
  for (const f of r.findings as string[]) console.log(`    ${f}`);
}

writeFileSync(
  'bench/results.json',
  `${JSON.stringify({ corpus: rows, instrumentedAccessNs: costs, seedRace: seed }, null, 2)}\n`,
);
console.log('written bench/results.json');
