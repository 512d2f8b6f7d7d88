// The performance targets of vgic-lab (docs/bench.md, "Targets") and the growth of an exploration with
// vCPUs, list registers and interrupts in flight. Every figure is the median of RUNS fresh processes:
// CPU time of the whole process (all threads) and wall time.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { V8_FLAGS } from '../src/cli/v8-flags.ts';
import { inj, kutIpi } from '../src/scenario/catalogue/conformance.ts';
import type { ScenarioSpec } from '../src/scenario/schema.ts';

const RUNS = 3;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

interface Run {
  cpuMs: number;
  wallMs: number;
  status: number | null;
  out: string;
}

/** `vgic-lab ARGS` as a user runs it (the bundle), with its CPU time reported by bench/cpu-report.mjs. */
function cli(args: string[]): Run {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, ['--import', './bench/cpu-report.mjs', 'bin/vgic-lab.mjs', ...args], {
    encoding: 'utf8',
    maxBuffer: 64 << 20,
  });
  const wallMs = performance.now() - t0;
  // The bundle must be the one just built: the sources through tsx would measure something else.
  if (r.stderr.includes('running the sources'))
    throw new Error('dist/ is older than src/: the bench measures the bundle (npm run prepare)');
  const line = [...r.stderr.split('\n')].reverse().find((l) => l.startsWith('bench-cpu '));
  if (!line) throw new Error(`vgic-lab ${args.join(' ')}: no CPU report (${r.stderr.slice(0, 300)})`);
  const cpu = JSON.parse(line.slice('bench-cpu '.length));
  return { cpuMs: cpu.userMs + cpu.systemMs, wallMs, status: r.status, out: r.stdout };
}

/** Two commands at once, each in its own process: what two busy cores give this machine. */
async function pair(args: string[]): Promise<number> {
  const t0 = performance.now();
  const once = () =>
    new Promise<void>((res) => {
      const c = spawn(process.execPath, ['bin/vgic-lab.mjs', ...args], { stdio: 'ignore' });
      c.on('close', () => res());
    });
  await Promise.all([once(), once()]);
  return performance.now() - t0;
}

type One = Record<string, number | string | boolean | null | string[]>;

/** One exploration in a fresh process (bench/one.ts). */
function one(file: string, design: string, mode: string, budget = '', seconds = ''): One {
  // With the V8 flags the command sets for itself, so that the figures are the command's.
  const args = [...V8_FLAGS, 'bench/.build/one.mjs', file, design, mode, budget, seconds];
  const r = spawnSync(process.execPath, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`bench/one failed: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

const dir = mkdtempSync(join(tmpdir(), 'vgic-lab-bench-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
/** A generated scenario as a file (the catalogue's specs are in the file shape; JSON is YAML). */
function fileOf(spec: ScenarioSpec): string {
  const f = join(dir, `${spec.name}.yaml`);
  writeFileSync(f, JSON.stringify(spec));
  return f;
}

function medianOf(runs: One[], key: string): number {
  return median(runs.map((r) => Number(r[key])));
}

/** Each target of the performance work with the figure reached on this machine. */
export async function targets(): Promise<Record<string, unknown>[]> {
  const out: Record<string, unknown>[] = [];
  const check = Array.from({ length: RUNS }, () =>
    cli(['check', 'lpi-disable-vs-eoicount-replay', '--design', 'V3']),
  );
  out.push({
    target: 'check lpi-disable-vs-eoicount-replay --design V3, process start to the minimised report',
    goal: 'at most 500 ms CPU',
    before: '2300 ms CPU',
    cpuMs: Math.round(median(check.map((c) => c.cpuMs))),
    wallMs: Math.round(median(check.map((c) => c.wallMs))),
  });
  for (const [file, design] of [
    ['scenarios/lpi-disable-vs-eoicount-replay-discarded.yaml', 'V3'],
    ['scenarios/kut-ipi-broadcast-4cpus-nlr4.yaml', 'V3'],
  ]) {
    const runs = Array.from({ length: RUNS }, () => one(file, design, 'dpor'));
    out.push({
      target: `executions per second, ${runs[0].scenario} on ${design}, exhaustive DPOR, sanitizers on`,
      goal: 'at least 300 (3 times about 100)',
      before: 'about 100',
      executions: runs[0].executions,
      executionsPerSec: medianOf(runs, 'executionsPerSec'),
      cpuMs: medianOf(runs, 'cpuMs'),
      wallMs: medianOf(runs, 'exploreMs'),
      sleepBlocked: runs[0].sleepBlocked,
    });
  }
  // Executions and sleep-set-blocked ones by search: optimal DPOR, plain DPOR, and DPOR split as check
  // explores (the units' frontier branches in full, so it pays for the split).
  for (const [file, design] of [
    ['scenarios/lpi-disable-vs-eoicount-replay-discarded.yaml', 'V3'],
    ['scenarios/lpi-disable-vs-eoicount-replay-discarded.yaml', 'V4b'],
    ['scenarios/kut-ipi-broadcast-4cpus-nlr4.yaml', 'V3'],
  ]) {
    const by = Object.fromEntries(
      ['optimal', 'dpor', 'split'].map((mode) => {
        const r = one(file, design, mode);
        return [mode, { executions: r.executions, sleepBlocked: r.sleepBlocked, cpuMs: r.cpuMs }];
      }),
    );
    out.push({
      target: `sleep-set-blocked executions, ${file.replace(/^scenarios\/|\.yaml$/g, '')} on ${design}`,
      goal: 'none (optimal DPOR)',
      before: 'about 14-34 % of executions',
      ...by,
    });
  }
  const six = fileOf(kutIpi('broadcast', 6, 4));
  const byJobs = ['1', '2'].map((jobs) =>
    Array.from({ length: RUNS }, () => cli(['check', six, '--design', 'V3', '--json', '--jobs', jobs])),
  );
  const doc = JSON.parse(byJobs[0][0].out);
  const wall = byJobs.map((runs) => Math.round(median(runs.map((r) => r.wallMs))));
  const cpu = byJobs.map((runs) => Math.round(median(runs.map((r) => r.cpuMs))));
  out.push({
    target: 'kut-ipi-broadcast with 6 vCPUs explored exhaustively (check, split at the default depth)',
    goal: 'within 60 s wall',
    executions: doc.stats.executions,
    exhaustive: doc.exhaustive,
    wallMs: wall[0],
    cpuMs: cpu[0],
  });
  // The same exploration alone and as two processes at once: how much a second busy core adds here
  // (the lone process already keeps the second core partly busy with V8's GC and compiler threads).
  const five = fileOf(kutIpi('broadcast', 5, 4));
  const fiveArgs = ['check', five, '--design', 'V3', '--quiet', '--jobs', '1'];
  const alone = median(Array.from({ length: RUNS }, () => cli(fiveArgs).wallMs));
  const both: number[] = [];
  for (let i = 0; i < RUNS; i++) both.push(await pair(fiveArgs));
  out.push({
    target: '--jobs N: check of kut-ipi-broadcast with 6 vCPUs, 2 jobs against 1, identical results',
    goal: 'at least 1.7 times faster on 2 cores for explorations over 5 s',
    wallMs1: wall[0],
    wallMs2: wall[1],
    cpuMs1: cpu[0],
    cpuMs2: cpu[1],
    speedup: Math.round((wall[0] / wall[1]) * 100) / 100,
    identical: byJobs.every((runs) => runs.every((r) => r.out === byJobs[0][0].out)),
    twoProcessesThroughput: Math.round(((2 * alone) / median(both)) * 100) / 100,
  });
  // Shards run one after another: each one's CPU time is its share of the work.
  const whole = cli(['check', five, '--design', 'V3', '--json', '--jobs', '1']);
  for (const n of [2, 3]) {
    const files: string[] = [];
    const shares: number[] = [];
    for (let k = 1; k <= n; k++) {
      const r = cli(['check', five, '--design', 'V3', '--shard', `${k}/${n}`]);
      const f = join(dir, `shard-${k}-of-${n}.json`);
      writeFileSync(f, r.out);
      files.push(f);
      shares.push(r.cpuMs);
    }
    const merged = cli(['merge', ...files, '--json']);
    const total = shares.reduce((a, b) => a + b, 0);
    out.push({
      target: `--shard K/${n} and merge: kut-ipi-broadcast with 5 vCPUs in ${n} shards`,
      goal: 'no shard much more than 1/N of the work; the merge equals the whole check',
      shardCpuMs: shares.map(Math.round),
      largestShare: Math.round((Math.max(...shares) / total) * 100) / 100,
      wholeCpuMs: Math.round(whole.cpuMs),
      mergeCpuMs: Math.round(merged.cpuMs),
      identical: merged.out === whole.out,
    });
  }
  return out;
}

/**
 * Executions and time as vCPUs, list registers and interrupts in flight grow, explored as `check`
 * does (split DPOR, one thread), cut at 30 s each.
 */
export function growth(): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  const point = (axis: string, value: number, spec: ScenarioSpec) => {
    const r = one(fileOf(spec), 'V3', 'split', '', '30');
    out.push({
      axis,
      value,
      scenario: spec.name,
      executions: r.executions,
      exhaustive: r.exhaustive,
      wallMs: r.exploreMs,
      sleepBlocked: r.sleepBlocked,
    });
  };
  for (const n of [2, 3, 4, 5]) point('vCPUs (kut-ipi-broadcast, nLR 4)', n, kutIpi('broadcast', n, 4));
  for (const n of [1, 2, 4, 16])
    point('list registers (kut-ipi-broadcast, 3 vCPUs)', n, kutIpi('broadcast', 3, n));
  for (const n of [1, 2, 3, 4])
    point(
      'interrupts in flight (SPIs injected in one exit, 1 vCPU, nLR 1)',
      n,
      inj(
        `spi-${n}`,
        Array.from({ length: n }, (_, i) => 32 + i),
        'EDGE_IRQ_LINE',
        { eoimode: 0, nrLr: 1, trigger: 'edge' },
      ),
    );
  return out;
}
