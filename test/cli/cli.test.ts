import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { limitsOf } from '../../src/cli/check.ts';
import { findingClass } from '../../src/report/finding.ts';
import { loadScenarioFile } from '../../src/scenario/load.ts';

const tmp = mkdtempSync(join(tmpdir(), 'vgic-lab-cli-'));

/** Runs the real command (from the sources) as a child process. */
function vl(...args: string[]) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1' },
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

function json(...args: string[]) {
  const r = vl(...args, '--json');
  return { code: r.code, doc: JSON.parse(r.out), err: r.err };
}

function usageError(r: { code: number | null; err: string }, re: RegExp) {
  assert.equal(r.code, 2, r.err);
  assert.match(r.err, re);
  assert.doesNotMatch(r.err, /\n\s+at .*\(.*:\d+:\d+\)/, 'no stack trace for a user error');
}

describe('vgic-lab list', () => {
  it('designs with their aliases; scenarios as JSON', () => {
    const r = vl('list', 'designs');
    assert.equal(r.code, 0);
    assert.match(
      r.out,
      /^V3 +\(tail-walk, mainline, mainline-2026\) +EOIcount replay continues after last_lr_irq/m,
    );
    assert.match(r.out, /^V4b +\(locked-fold\)/m);
    const s = json('list', 'scenarios');
    assert.equal(s.code, 0);
    assert.ok(s.doc.some((e: { name: string }) => e.name === 'lpi-disable-vs-eoicount-replay'));
    assert.ok(s.doc.every((e: { description: string }) => e.description.length > 0));
  });
});

describe('vgic-lab run', () => {
  it('prints the guest-visible log, the final state and the replay command', () => {
    const r = vl('run', 'happy-spi-edge');
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /vCPU 0:\n(.*\n)* {2}ack 40\n(.*\n)* {2}EOI 40/);
    assert.match(r.out, /exit: /);
    assert.match(r.out, /Replay: vgic-lab replay V3@happy-spi-edge@S1\./);
  });

  it('--json and a violation under the default schedule (exit 1)', () => {
    const r = json('run', 'lr-overflow-eoimode0', '--design', 'V0', '--seed', '3');
    assert.ok(r.code === 0 || r.code === 1);
    assert.equal(r.doc.command, 'run');
    assert.equal(r.doc.design, 'V0');
    assert.ok(Array.isArray(r.doc.guest[0].events));
    const v = json('run', 'head-walk-wrong-deactivation', '--design', 'V2');
    assert.equal(v.code, 0, 'the default schedule does not hit the head-walk bug');
  });

  it('every report ends with its model trailer; a ghost assertion names its property', () => {
    const r = vl('run', 'lr-overflow-eoimode0', '--design', 'V0', '--seed', '3');
    assert.equal(r.code, 1, r.err);
    const schedule = /Replay: vgic-lab replay V0@lr-overflow-eoimode0@(S1\.[\w-]+)/.exec(r.out)?.[1];
    assert.ok(schedule);
    const trailers = r.out.match(
      /^vgic-lab: design=V0 scenario=lr-overflow-eoimode0 execution=1 step=\d+ schedule=.*$/gm,
    );
    assert.ok(trailers && trailers.length >= 2, r.out);
    for (const t of trailers) assert.ok(t.endsWith(`schedule=${schedule}`), t);
    const g = json('run', 'lpi-disable-vs-eoicount-replay');
    const ghost = g.doc.reports.find((x: { checker: string }) => x.checker === 'ghost');
    assert.ok(ghost, 'the default schedule fires the P-LOCK ghost assertion');
    assert.deepEqual(ghost.trailer, [
      `vgic-lab: design=V3 scenario=lpi-disable-vs-eoicount-replay execution=1 step=${ghost.step} schedule=${g.doc.token.split('@')[2]}`,
      'vgic-lab: ghost assertion P-LOCK',
    ]);
    const t = vl('replay', g.doc.token);
    assert.match(
      t.out,
      /---\[ end trace [0-9a-f]+ \]---\nvgic-lab: design=V3 .*\nvgic-lab: ghost assertion P-LOCK\n/,
    );
  });
});

describe('vgic-lab check', () => {
  it('finds the seed race on V3 and prints splat, interleaving, state and replay command', () => {
    const r = vl('check', 'lpi-disable-vs-eoicount-replay', '--design', 'mainline');
    assert.equal(r.code, 1, r.err);
    assert.match(r.out, /BUG: KCSAN: data-race in vgic_flush_pending_lpis \/ vgic_v3_fold_lr_state/);
    assert.match(r.out, /Interleaving \(minimised\): \d+ steps, \d+ preemptions/);
    assert.match(r.out, /CPU 0\/KVM +CPU 1\/KVM/);
    assert.match(r.out, />>\d+: /);
    assert.match(r.out, /State at the failing step:\n {2}vCPU 0: /);
    assert.match(r.out, /Replay: vgic-lab replay V3@lpi-disable-vs-eoicount-replay@S1\.[A-Za-z0-9_-]+/);
    assert.match(r.out, /lpi-disable-vs-eoicount-replay on V3: \d+ distinct violations? in \d+ executions/);
  });

  it('orders findings kernel, functional, ghost, whatever order they were found in', () => {
    const r = json('check', 'lpi-disable-vs-eoicount-replay');
    assert.equal(r.code, 1);
    // The verdict lists them as found: the ghost assertion and the P-ARCH oracle before the KCSAN report.
    assert.match(r.doc.verdict, /lockdep_assert_held.*; P-ARCH: .*; BUG: KCSAN/);
    assert.deepEqual(
      r.doc.findings.map((f: { checker: string }) => f.checker),
      ['kcsan', 'oracle', 'ghost'],
    );
    const file = join(tmp, 'first.json');
    vl('check', 'lpi-disable-vs-eoicount-replay', '--perfetto', file, '--quiet');
    const fired = JSON.parse(readFileSync(file, 'utf8')).traceEvents.filter(
      (e: { ph: string; cat?: string }) => e.ph === 'i' && e.cat === 'report',
    );
    assert.ok(
      fired.some((e: { name: string }) => /KCSAN/.test(e.name)),
      JSON.stringify(fired),
    );
  });

  it('one classifier: architecture findings are functional, ghost assertions last, the rest kernel', () => {
    assert.equal(findingClass('arch'), 'functional');
    for (const c of ['oracle', 'expect', 'guest']) assert.equal(findingClass(c), 'functional');
    assert.equal(findingClass('ghost'), 'ghost');
    for (const c of ['kcsan', 'kasan', 'fault', 'lockdep', 'list', 'refcount', 'deadlock', 'warn', 'bug'])
      assert.equal(findingClass(c), 'kernel');
  });

  it("--json reports the bounds that applied: the scenario's and the 10,000 of pct and random", () => {
    const file = join(tmp, 'bounded.yaml');
    writeFileSync(
      file,
      readFileSync('scenarios/happy-lpi.yaml', 'utf8').replace(/^explore:.*(\n {2}.*)*\n?/m, '') +
        '\nexplore:\n  maxExecutions: 3\n',
    );
    const r = json('check', file);
    assert.equal(r.code, 0, r.err);
    assert.equal(r.doc.bounds.maxExecutions, 3);
    assert.ok(r.doc.stats.executions <= 3);
    const happy = loadScenarioFile('scenarios/happy-lpi.yaml');
    const o = { strategy: 'pct', seed: 1 };
    assert.equal(limitsOf(happy, o).maxExecutions, happy.explore.maxExecutions ?? 10_000);
    assert.equal(limitsOf(happy, { ...o, strategy: 'random', maxExecutions: 7 }).maxExecutions, 7);
    assert.equal(
      limitsOf(happy, { ...o, strategy: 'dpor' }).maxExecutions,
      happy.explore.maxExecutions ?? null,
    );
  });

  it('a clean scenario says what was proven (exit 0)', () => {
    const r = vl('check', 'happy-lpi', '--design', 'V4b');
    assert.equal(r.code, 0, r.err);
    assert.match(
      r.out,
      /happy-lpi on V4b: no violation in \d+ executions; exhaustive \(every Mazurkiewicz trace\)/,
    );
    const b = vl('check', 'happy-lpi', '--strategy', 'bounded', '--preemptions', '1');
    assert.match(b.out, /no violation in \d+ executions; exhaustive for preemption bound 1/);
  });

  it('--json: the findings with kernel text, interleaving and state; the token replays the same report', () => {
    const r = json('check', 'lpi-disable-vs-eoicount-replay', '--all-violations');
    assert.equal(r.code, 1);
    assert.equal(r.doc.stats.exhaustive, true);
    const fault = r.doc.findings.find((f: { checker: string }) => f.checker === 'fault');
    assert.ok(fault, 'the poisoned-pointer oops is among the findings');
    assert.match(fault.kernel, /^Unable to handle kernel paging request at virtual address dead0000000000b8/);
    assert.ok(fault.interleaving.rows.length > 0 && fault.interleaving.threads.length === 2);
    assert.ok(fault.state.vcpus[0].lastLrIrq.startsWith('LPI 8195'));
    const again = json('replay', fault.token);
    assert.equal(again.code, 1);
    const same = again.doc.reports.find((x: { title: string }) => x.title === fault.title);
    assert.ok(same, `replaying ${fault.token} reproduces ${fault.title}`);
    assert.equal(same.text.replace(/ #\d+ /g, ' '), fault.kernel.replace(/ #\d+ /g, ' '));
  });

  it('same inputs and seed give the same output, byte for byte', () => {
    const args = [
      'check',
      'head-walk-wrong-deactivation',
      '--design',
      'V2',
      '--strategy',
      'random',
      '--seed',
      '4',
      '--json',
    ];
    const [a, b] = [vl(...args), vl(...args)];
    assert.equal(a.code, 1);
    assert.equal(a.out, b.out);
    const c = vl('check', 'lpi-disable-vs-eoicount-replay');
    const d = vl('check', 'lpi-disable-vs-eoicount-replay');
    assert.equal(c.out, d.out);
  });

  it('--perfetto writes a trace with a track per thread, lock-held and guest-mode slices', () => {
    const file = join(tmp, 'trace.json');
    const r = vl('check', 'lpi-disable-vs-eoicount-replay', '--perfetto', file, '--quiet');
    assert.equal(r.code, 1);
    assert.equal(r.out, '');
    const t = JSON.parse(readFileSync(file, 'utf8'));
    const names = t.traceEvents
      .filter((e: { ph: string; name: string }) => e.ph === 'M' && e.name === 'thread_name')
      .map((e: { args: { name: string } }) => e.args.name);
    assert.deepEqual(names, ['CPU 0/KVM', 'CPU 1/KVM']);
    assert.ok(t.traceEvents.some((e: { cat?: string }) => e.cat === 'lock'));
    assert.ok(t.traceEvents.some((e: { cat?: string }) => e.cat === 'guest'));
    assert.ok(t.traceEvents.some((e: { ph: string; cat?: string }) => e.ph === 'i' && e.cat === 'report'));
  });
});

describe('vgic-lab compare', () => {
  it('the matrix as text and JSON', () => {
    const r = vl('compare', 'head-walk-wrong-deactivation', 'lr-overflow-eoimode0', '--designs', 'V0,V2,V3');
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /^head-walk-wrong-deactivation +clean \(\d+\) +P-EOI \(\d+\) +ghost P-LOCK \(\d+\)/m);
    const j = json('compare', 'lr-overflow-eoimode0', '--designs', 'V0,V4b');
    assert.deepEqual(
      j.doc.cells.map((c: { design: string; kind: string }) => `${c.design}:${c.kind}`),
      ['V0:oracle', 'V4b:clean'],
    );
    // The default budget is executions only, so that cells do not depend on the machine.
    assert.deepEqual(j.doc.budget, { maxExecutions: 300, timeLimitSeconds: null });
  });

  it('a --designs list that names no design is a usage error', () => {
    usageError(vl('compare', 'happy-lpi', '--designs', ','), /--designs "," names no design/);
  });
});

describe('bad input: a clear message and exit 2', () => {
  it('unknown design and scenario name the closest valid one', () => {
    usageError(vl('check', 'happy-lpi', '--design', 'V3b'), /unknown design "V3b"; did you mean "V3"\?/);
    usageError(
      vl('run', 'happy-spi-edg'),
      /unknown scenario "happy-spi-edg"; did you mean "happy-spi-edge"\?/,
    );
  });

  it('unreadable file, invalid YAML and schema errors give file:line:column and a hint', () => {
    usageError(vl('run', join(tmp, 'missing.yaml')), /missing\.yaml:1:1: no such file\n {2}hint: /);
    const bad = join(tmp, 'bad.yaml');
    writeFileSync(bad, 'name: x\ndescription: y\nvm: {vcpus: 1, nrLr: 99}\nactors: [{vcpu: 0, guest: []}]\n');
    usageError(vl('check', bad), /bad\.yaml:3:\d+: vm\.nrLr: 99 is not a number of list registers \(1–16\)/);
    writeFileSync(bad, 'name: x\ndescription: [oops\nvm: {}\n');
    usageError(vl('check', bad), /bad\.yaml:\d+:\d+: invalid YAML/);
  });

  it('bad flag values: negative bounds, unknown strategy, malformed tokens', () => {
    usageError(
      vl('check', 'happy-lpi', '--max-executions', '-1'),
      /--max-executions takes a whole number, got "-1"/,
    );
    usageError(vl('check', 'happy-lpi', '--strategy', 'magic'), /argument 'magic' is invalid/);
    usageError(vl('replay', 'V3@happy-lpi@S9.AAAA'), /schedule token version S9 is not supported/);
    usageError(vl('replay', 'S1.AA'), /carries only a schedule/);
    usageError(vl('replay', 'garbage'), /"garbage" is not a schedule token/);
  });

  it('a token that does not fit the scenario: exit 2, not a different schedule', () => {
    // S1.AAAA: a length of 0 with a deviation at decision 0; S1.Aw: 3 decisions and no deviation.
    usageError(vl('replay', 'V3@happy-spi-edge@S1.AAAA'), /schedule token is corrupt/);
    usageError(
      vl('replay', 'V3@happy-spi-edge@S1.Aw'),
      /schedule does not fit: the token records 3 decisions, the run made \d+/,
    );
    const ok = vl('run', 'happy-spi-edge');
    const token = /Replay: vgic-lab replay (\S+)/.exec(ok.out)?.[1] ?? '';
    const again = vl('replay', token);
    assert.equal(again.code, 0, again.err);
    assert.match(again.out, new RegExp(`Replay: vgic-lab replay ${token.replace(/[.]/g, '\\.')}\n`));
    usageError(vl('list', 'things'), /cannot list "things"/);
  });

  it('--help of every command shows examples', () => {
    for (const c of ['list', 'run', 'check', 'replay', 'compare']) {
      const r = vl(c, '--help');
      assert.equal(r.code, 0);
      assert.match(r.out, /Examples:\n {2}\$ vgic-lab /);
    }
  });
});

describe('Ctrl-C', () => {
  it('stops cleanly, prints what was explored and exits 130', async () => {
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        'src/cli/main.ts',
        'check',
        'inj-sgi-all-edge-eoimode0-ispendr-nlr4',
        '--design',
        'V4b',
      ],
      {
        env: { ...process.env, NO_COLOR: '1' },
      },
    );
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
    });
    setTimeout(() => child.kill('SIGINT'), 2500);
    const code = await new Promise<number | null>((res) => child.on('close', (c) => res(c)));
    assert.equal(code, 130);
    assert.match(out, /no violation in [\d,]+ executions; not exhaustive \(stopped: interrupted\)/);
  });
});

describe('the installed entry point', () => {
  it('bin/vgic-lab.mjs runs (the bundle when built, else the sources)', () => {
    const r = spawnSync(process.execPath, ['bin/vgic-lab.mjs', 'list', 'designs'], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^V0 /);
  });

  it('a bundle older than src/ is not run: the sources are, with a notice', () => {
    // A copy of bin/ next to the real src/ and node_modules/, and a stand-in bundle whose output
    // shows whether it ran.
    const root = join(tmp, 'clone');
    mkdirSync(join(root, 'bin'), { recursive: true });
    mkdirSync(join(root, 'dist'), { recursive: true });
    copyFileSync('bin/vgic-lab.mjs', join(root, 'bin', 'vgic-lab.mjs'));
    symlinkSync(resolve('src'), join(root, 'src'), 'dir');
    symlinkSync(resolve('node_modules'), join(root, 'node_modules'), 'dir');
    const bundle = join(root, 'dist', 'vgic-lab.mjs');
    writeFileSync(bundle, "process.stdout.write('stand-in bundle\\n');\n");
    const bin = () =>
      spawnSync(process.execPath, [join(root, 'bin', 'vgic-lab.mjs'), 'list', 'designs'], {
        encoding: 'utf8',
      });

    const old = new Date('2000-01-01T00:00:00Z');
    utimesSync(bundle, old, old);
    const stale = bin();
    assert.equal(stale.status, 0, stale.stderr);
    assert.match(stale.stdout, /^V0 /, 'the sources ran, not the stale bundle');
    assert.match(stale.stderr, /^vgic-lab: dist\/vgic-lab\.mjs is older than src\/, running the sources/);
    assert.equal(stale.stderr.split('\n').filter(Boolean).length, 1, 'one line');

    const future = new Date('2100-01-01T00:00:00Z');
    utimesSync(bundle, future, future);
    const fresh = bin();
    assert.equal(fresh.stdout, 'stand-in bundle\n');
    assert.equal(fresh.stderr, '');

    rmSync(bundle);
    const none = bin();
    assert.match(none.stdout, /^V0 /);
    assert.equal(none.stderr, '', 'no bundle is the normal case of a clone before npm ci');
  });
});
