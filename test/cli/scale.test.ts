import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { kutIpi } from '../../src/scenario/catalogue/conformance.ts';
import { runCli } from '../fuzz/run.ts';

// Workers start at once instead of after the solo phase, so that short explorations use them too.
process.env.VGIC_LAB_SOLO_MS = '0';

const tmp = mkdtempSync(join(tmpdir(), 'vgic-lab-scale-'));

/** Checks whose results must not depend on who explores: a first kernel report, every finding, a budget. */
const CHECKS: string[][] = [
  ['lpi-disable-vs-eoicount-replay', '--design', 'V3'],
  [
    'lpi-disable-vs-eoicount-replay-discarded',
    '--design',
    'V3',
    '--all-violations',
    '--max-executions',
    '120',
    '--minimise',
    'none',
  ],
  ['kut-ipi-broadcast-4cpus-nlr4', '--design', 'V3', '--max-executions', '150'],
];

/** The real command in its own process, as a batch job would run a shard. */
function command(args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  return processOf(
    spawn(process.execPath, ['bin/vgic-lab.mjs', ...args], { env: { ...process.env, NO_COLOR: '1' } }),
  );
}

/** A shell command line of docs/scale.md, with the environment a batch system gives it. */
function shell(line: string, env: Record<string, string>) {
  return processOf(spawn('sh', ['-c', line], { env: { ...process.env, NO_COLOR: '1', ...env } }));
}

function processOf(
  child: ReturnType<typeof spawn>,
): Promise<{ code: number | null; out: string; err: string }> {
  let out = '';
  let err = '';
  child.stdout?.on('data', (d) => {
    out += d;
  });
  child.stderr?.on('data', (d) => {
    err += d;
  });
  return new Promise((res) => child.on('close', (code) => res({ code, out, err })));
}

describe('--jobs (docs/scale.md)', () => {
  // The real command: its workers start from the bundle, as a user's do.
  for (const [n, args] of CHECKS.entries()) {
    const jobs = n === 0 ? ['2', '3'] : ['2'];
    it(`${args.join(' ')}: the same JSON for 1 and ${jobs.join(' and ')} jobs`, async () => {
      const one = await command(['check', ...args, '--jobs', '1', '--json']);
      assert.ok(one.code === 0 || one.code === 1, one.err);
      for (const j of jobs) {
        const many = await command(['check', ...args, '--jobs', j, '--json']);
        assert.equal(many.code, one.code);
        assert.equal(many.out, one.out, `--jobs ${j}`);
      }
    });
  }

  it('the same text for 1 and 2 jobs', async () => {
    const text1 = await command(['check', ...CHECKS[0], '--jobs', '1']);
    const text2 = await command(['check', ...CHECKS[0], '--jobs', '2']);
    assert.equal(text2.out, text1.out);
  });

  it('a time limit stops the workers too: what was done is joined, not exhaustive', async () => {
    const five = join(tmp, 'kut-ipi-broadcast-5.yaml');
    writeFileSync(five, JSON.stringify(kutIpi('broadcast', 5, 4)));
    const r = await command(['check', five, '--jobs', '2', '--time-limit', '1', '--json']);
    assert.equal(r.code, 0, r.err);
    const doc = JSON.parse(r.out);
    assert.equal(doc.exhaustive, false);
    assert.equal(doc.stats.stoppedBy, 'time-limit');
    assert.ok(doc.stats.executions > 0);
  });

  it('rejects a job count that is not a whole number of at least 1', async () => {
    const r = await runCli(['check', 'happy-sgi', '--jobs', '0']);
    assert.equal(r.code, 2);
    assert.match(r.err, /--jobs must be between 1 and 256/);
  });
});

describe('--shard and merge (docs/scale.md)', () => {
  for (const args of CHECKS) {
    it(`${args.join(' ')}: three shards merged give the whole check`, async () => {
      const whole = await runCli(['check', ...args, '--json']);
      // Separate processes, as a batch system runs them, for the first; in this process, one after
      // another (runCli captures this process's output), for the others.
      const shardArgs = [1, 2, 3].map((k) => ['check', ...args, '--shard', `${k}/3`]);
      const shards = [];
      if (args === CHECKS[0]) shards.push(...(await Promise.all(shardArgs.map(command))));
      else for (const a of shardArgs) shards.push(await runCli(a));
      const files = shards.map((s, i) => {
        assert.equal(s.code, 0, s.err);
        const f = join(tmp, `${args[0]}-${i + 1}.json`);
        writeFileSync(f, s.out);
        return f;
      });
      const merged = await runCli(['merge', ...files.reverse(), '--json']);
      assert.equal(merged.code, whole.code, merged.err);
      assert.equal(merged.out, whole.out);
      if (args === CHECKS[0]) {
        const text = await runCli(['merge', ...files, '--no-color']);
        const wholeText = await runCli(['check', ...args, '--no-color']);
        assert.equal(text.out, wholeText.out);
      }
    });
  }

  it('a shard explored with 2 jobs prints the same document as with 1', async () => {
    for (const args of [CHECKS[0], CHECKS[2]]) {
      const one = await command(['check', ...args, '--shard', '1/2', '--jobs', '1']);
      const two = await command(['check', ...args, '--shard', '1/2', '--jobs', '2']);
      assert.equal(one.code, 0, one.err);
      assert.equal(two.out, one.out, args.join(' '));
    }
  });

  it('refuses shards that are missing, repeated or of another check', async () => {
    const args = ['kut-ipi-broadcast-4cpus-nlr4', '--max-executions', '20'];
    const files = [1, 2].map((k) => join(tmp, `bad-${k}.json`));
    for (const [k, f] of files.entries()) {
      const r = await runCli(['check', ...args, '--shard', `${k + 1}/2`]);
      assert.equal(r.code, 0, r.err);
      writeFileSync(f, r.out);
    }
    const missing = await runCli(['merge', files[0]]);
    assert.equal(missing.code, 2);
    assert.match(missing.err, /shard 2\/2 missing/);
    const twice = await runCli(['merge', files[0], files[0], files[1]]);
    assert.equal(twice.code, 2);
    assert.match(twice.err, /are both shard 1\/2/);
    const other = join(tmp, 'other.json');
    const r = await runCli([
      'check',
      'kut-ipi-broadcast-4cpus-nlr4',
      '--max-executions',
      '21',
      '--shard',
      '2/2',
    ]);
    writeFileSync(other, r.out);
    const mixed = await runCli(['merge', files[0], other]);
    assert.equal(mixed.code, 2);
    assert.match(mixed.err, /is a shard of another check/);
    const junk = join(tmp, 'junk.json');
    writeFileSync(junk, 'not json');
    const notJson = await runCli(['merge', junk]);
    assert.equal(notJson.code, 2);
    assert.match(notJson.err, /is not JSON/);
    const doc = JSON.parse(readFileSync(files[0], 'utf8'));
    assert.equal(doc.format, 'vgic-lab shard 1');
  });

  it('refuses a shard of a search that is not split, and a malformed K/N', async () => {
    const pct = await runCli(['check', 'happy-sgi', '--strategy', 'pct', '--shard', '1/2']);
    assert.equal(pct.code, 2);
    assert.match(pct.err, /--shard splits a DPOR exploration without a preemption bound/);
    for (const bad of ['0/2', '3/2', '1', 'a/b']) {
      const r = await runCli(['check', 'happy-sgi', '--shard', bad]);
      assert.equal(r.code, 2, bad);
      assert.match(r.err, /--shard takes K\/N/);
    }
  });
});

/** The fenced blocks of one language in docs/scale.md. */
function blocksOf(lang: string): string[] {
  const text = readFileSync('docs/scale.md', 'utf8');
  const re = new RegExp(`^\`\`\`${lang}\n([\\s\\S]*?)^\`\`\`$`, 'gm');
  return [...text.matchAll(re)].map((m) => m[1]);
}

/** Runs `count` shard commands two at a time; returns their exit codes. */
async function runAll(count: number, one: (i: number) => Promise<{ code: number | null; err: string }>) {
  for (let i = 0; i < count; i += 2) {
    const batch = await Promise.all([i, i + 1].filter((j) => j < count).map(one));
    for (const r of batch) assert.equal(r.code, 0, r.err);
  }
}

describe('docs/scale.md: the batch setups work as shown', () => {
  const whole = () => runCli(['check', 'kut-ipi-broadcast-4cpus-nlr4', '--design', 'V3', '--json']);

  it('the Kubernetes Indexed Job: every index run as the pod runs it, then merged', async () => {
    const [manifest] = blocksOf('yml');
    const job = parse(manifest);
    assert.equal(job.kind, 'Job');
    assert.equal(job.spec.completionMode, 'Indexed');
    const n = job.spec.completions;
    assert.equal(job.spec.parallelism, n);
    const container = job.spec.template.spec.containers[0];
    assert.deepEqual(container.command, ['sh', '-c']);
    const mount = container.volumeMounts[0].mountPath;
    const dir = mkdtempSync(join(tmp, 'k8s-'));
    const line = String(container.args[0]).replaceAll(mount, dir);
    await runAll(n, (i) => shell(line, { JOB_COMPLETION_INDEX: String(i) }));
    const files = Array.from({ length: n }, (_, i) => join(dir, `shard-${i}.json`));
    const merged = await runCli(['merge', ...files, '--json']);
    assert.equal(merged.out, (await whole()).out);
  });

  it('the Slurm job array: every task run as Slurm runs it, then merged', async () => {
    const script = blocksOf('sh')[0];
    const [, first, last] = /^#SBATCH --array=(\d+)-(\d+)$/m.exec(script) ?? [];
    const line = script.split('\n').find((l) => l.startsWith('node bin/vgic-lab.mjs'));
    assert.ok(first && last && line, 'the script has an array and the shard command');
    const dir = mkdtempSync(join(tmp, 'slurm-'));
    const here = process.cwd();
    const abs = line.replace('node bin/vgic-lab.mjs', `cd ${dir} && node ${join(here, 'bin/vgic-lab.mjs')}`);
    const tasks = Number(last) - Number(first) + 1;
    await runAll(tasks, (i) =>
      shell(abs, { SLURM_ARRAY_TASK_ID: String(Number(first) + i), SLURM_CPUS_PER_TASK: '1' }),
    );
    const files = Array.from({ length: tasks }, (_, i) => join(dir, `shard-${Number(first) + i}.json`));
    const merged = await runCli(['merge', ...files, '--json']);
    assert.equal(merged.out, (await whole()).out);
  });
});
