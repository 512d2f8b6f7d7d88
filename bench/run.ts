// npm run bench: explorer throughput over the corpus, DPOR versus naive enumeration, and the cost of one
// instrumented access. Prints a table and writes bench/results.json. Timings vary by machine; tests never
// assert them.
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import type { Execution } from '../src/explore/execution.ts';
import { explore } from '../src/explore/explorer.ts';
import { dependent } from '../src/explore/footprint.ts';
import { POINT } from '../src/explore/ops.ts';
import { BoundedStrategy } from '../src/explore/strategies/bounded.ts';
import { DporStrategy } from '../src/explore/strategies/dpor.ts';
import { rd } from '../src/kernel/access.ts';
import { type KObj, StructType } from '../src/kernel/mem.ts';
import { kernelProgram } from '../test/corpus/program.ts';
import { CORPUS, indexer, lastzero } from '../test/corpus/programs.ts';
import { growth, targets } from './targets.ts';

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
  const f = F.field<number>('x');
  let sum = 0;
  const t0 = performance.now();
  for (let i = 0; i < N; i++) sum += rd(t, o, f);
  const t1 = performance.now();
  const loc = (o as KObj).loc(f);
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
// The vGIC: each measurement in a fresh process (bench/one.ts), so times are from process start and the
// peak memory is the exploration's own.
function measure(file: string, design: string, mode: string, budget = ''): Record<string, unknown> {
  const r = spawnSync(process.execPath, ['bench/.build/one.mjs', file, design, mode, budget], {
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`bench/one failed: ${r.stderr}`);
  return JSON.parse(r.stdout);
}
const vgic: Record<string, unknown>[] = [
  measure('scenarios/lpi-disable-vs-eoicount-replay.yaml', 'V3', 'first'),
  measure('scenarios/lpi-disable-vs-eoicount-replay.yaml', 'V3', 'dpor'),
  measure('scenarios/lpi-disable-vs-eoicount-replay.yaml', 'V4b', 'dpor'),
  measure('scenarios/lpi-disable-vs-eoicount-replay-discarded.yaml', 'V3', 'dpor'),
  measure('scenarios/lpi-disable-vs-eoicount-replay-discarded.yaml', 'V4b', 'dpor'),
  // The largest conformance scenario of the catalogue (16 SGIs, each an exit per handler check).
  measure('scenarios/inj-sgi-all-edge-eoimode0-ispendr-nlr4.yaml', 'V3', 'dpor', '2000'),
  measure('scenarios/kut-ipi-broadcast-4cpus-nlr4.yaml', 'V3', 'dpor'),
];
// DPOR against preemption bounding and naive enumeration (budget 100,000 executions).
const reduction: Record<string, unknown>[] = [];
for (const f of [
  'happy-sgi',
  'level-spi-irqfd-resample',
  'head-walk-wrong-deactivation',
  'lpi-disable-vs-eoicount-replay',
]) {
  const file = `scenarios/${f}.yaml`;
  const row: Record<string, unknown> = { scenario: f, dpor: measure(file, 'V3', 'dpor').executions };
  for (const b of [0, 1, 2]) row[`bounded${b}`] = measure(file, 'V3', `bounded${b}`, '100000').executions;
  const naive = measure(file, 'V3', 'naive', '100000');
  row.naive = naive.exhaustive ? naive.executions : `> ${naive.executions}`;
  reduction.push(row);
}
console.log('\nvGIC scenarios (each in a fresh process):');
for (const m of vgic) {
  const first = m.firstKernelReport
    ? `; first kernel report "${m.firstKernelReport}" in execution ${m.firstKernelReportExecution}, ${m.firstKernelReportFromProcessStartMs} ms after process start`
    : '';
  console.log(
    `${String(m.scenario).padEnd(42)} ${String(m.design).padEnd(4)} ${String(m.mode).padEnd(5)} ${m.executions} executions${m.exhaustive ? ' (exhaustive)' : ''}, ${m.exploreMs} ms, ${m.executionsPerSec} exec/s, ${m.stepsPerSec} steps/s, ${Math.round(Number(m.steps) / Number(m.executions))} steps/exec, peak RSS ${m.peakRssMiB} MiB${first}`,
  );
}
console.log('\nexecutions: DPOR vs preemption bounding (0, 1, 2) vs naive, on V3:');
for (const r of reduction)
  console.log(
    `${String(r.scenario).padEnd(42)} dpor ${r.dpor}, bounded0 ${r.bounded0}, bounded1 ${r.bounded1}, bounded2 ${r.bounded2}, naive ${r.naive}`,
  );

console.log('\ntargets (medians of 3 fresh processes):');
const goals = await targets();
for (const t of goals) console.log(JSON.stringify(t));
console.log('\ngrowth (V3, exhaustive DPOR cut at 30 s):');
const curve = growth();
for (const g of curve)
  console.log(
    `${String(g.axis).padEnd(62)} ${String(g.value).padStart(3)}: ${g.executions} executions${g.exhaustive ? '' : ' (cut at 30 s)'}, ${g.wallMs} ms, ${g.sleepBlocked} sleep-set-blocked`,
  );

writeFileSync(
  'bench/results.json',
  `${JSON.stringify({ date: new Date().toISOString().slice(0, 10), targets: goals, growth: curve, corpus: rows, instrumentedAccessNs: costs, vgic, reduction }, null, 2)}\n`,
);
// In the project's format, so that lint stays clean after a run.
spawnSync('npx', ['biome', 'format', '--write', 'bench/results.json'], { stdio: 'ignore' });
console.log('written bench/results.json');
