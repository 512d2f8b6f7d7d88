import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { runCli } from '../fuzz/run.ts';

/**
 * vgic-lab under bad input, signals and limits: it never crashes, never hangs, and loses nothing it
 * found. Commands that need signals or real file descriptors run as child processes; the others run
 * in this process through the worker's entry point (runCli), which is much faster.
 */
const tmp = mkdtempSync(join(tmpdir(), 'vgic-lab-robust-'));
const ENTRY = ['--import', 'tsx', 'src/cli/main.ts'];

/** A guest that runs for the step bound (200,000 steps): long enough to be interrupted. */
const LONG = join(tmp, 'long.yaml');
writeFileSync(
  LONG,
  `name: long
description: a guest that runs for as long as an execution may
vm: {vcpus: 1, nrLr: 4}
actors:
  - vcpu: 0
    guest:
      - op: repeat
        times: 10000
        body:
          - op: repeat
            times: 100
            body:
              - {op: pmr, value: 0xf8}
explore: {maxSteps: 200000}
`,
);

/**
 * Runs the command, waits for a line on stderr that matches `ready` (the readiness line of --progress
 * or a later phase), then sends `signals`, one after the other; resolves with the exit code and output.
 */
function signalled(args: string[], ready: RegExp, signals: NodeJS.Signals[]) {
  const child = spawn(process.execPath, [...ENTRY, ...args, '--progress'], {
    env: { ...process.env, NO_COLOR: '1' },
  });
  let out = '';
  let err = '';
  let sent = false;
  child.stdout.on('data', (d) => {
    out += d;
  });
  child.stderr.on('data', (d) => {
    err += d;
    if (!sent && ready.test(err)) {
      sent = true;
      for (const s of signals) child.kill(s);
    }
  });
  return new Promise<{ code: number | null; out: string; err: string }>((res) =>
    child.on('close', (code) => res({ code, out, err })),
  );
}

function noStack(err: string) {
  assert.doesNotMatch(err, /\n\s+at .+:\d+:\d+\)?\n/, err);
}

describe('signals stop the work in every phase and print what was found', () => {
  it('Ctrl-C during one long execution (run): the log up to there, exit 130', async () => {
    const r = await signalled(['run', LONG], /^vgic-lab: running long on V3/m, ['SIGINT']);
    assert.equal(r.code, 130, r.err);
    assert.match(
      r.out,
      /^long on V3 \(tail walk\): default schedule, [\d,]+ steps, interrupted at step \d+$/m,
    );
    assert.match(r.out, /Interrupted at step \d+: the above is the execution up to there\./);
    noStack(r.err);
  });

  it('SIGTERM during an exploration: the summary of what was explored, exit 143', async () => {
    const r = await signalled(
      ['check', 'inj-sgi-all-edge-eoimode0-ispendr-nlr4', '--design', 'V4b'],
      /^vgic-lab: exploring /m,
      ['SIGTERM'],
    );
    assert.equal(r.code, 143, r.err);
    assert.match(r.out, /no violation in [\d,]+ executions?; not exhaustive \(interrupted\)/);
    noStack(r.err);
  });

  it('SIGHUP during minimisation: every finding is still reported, exit 129', async () => {
    const r = await signalled(
      ['check', 'lpi-disable-vs-eoicount-replay', '--all-violations', '--json'],
      /^vgic-lab: minimising finding 1 of/m,
      ['SIGHUP'],
    );
    assert.equal(r.code, 129, r.err);
    const doc = JSON.parse(r.out);
    assert.equal(doc.findings.length, 4, 'all four findings, minimised or not');
    assert.ok(doc.findings.every((f: { token: string }) => f.token.startsWith('V3@')));
    noStack(r.err);
  });

  it('Ctrl-C during compare: the cells explored so far, exit 130', async () => {
    const r = await signalled(
      ['compare', 'happy-lpi', 'inj-sgi-all-edge-eoimode0-ispendr-nlr4', '--designs', 'V3', '--json'],
      /^vgic-lab: exploring inj-sgi-all/m,
      ['SIGINT'],
    );
    assert.equal(r.code, 130, r.err);
    const doc = JSON.parse(r.out);
    assert.equal(doc.interrupted, true);
    assert.deepEqual(
      doc.cells.map((c: { scenario: string }) => c.scenario),
      ['happy-lpi'],
    );
  });

  it('a second Ctrl-C ends the process at once', async () => {
    const r = await signalled(['run', LONG], /^vgic-lab: running long/m, ['SIGINT', 'SIGINT']);
    assert.equal(r.code, 130, r.err);
    noStack(r.err);
  });

  it('--time-limit bounds the whole command: the exploration and its reports end, exit as usual', () => {
    const r = spawnSync(
      process.execPath,
      [...ENTRY, 'check', 'inj-sgi-all-edge-eoimode0-ispendr-nlr4', '--design', 'V4b', '--time-limit', '1'],
      { encoding: 'utf8' },
    );
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /not exhaustive \(time limit reached\)/);
  });
});

describe('input vgic-lab does not read', () => {
  it('a FIFO, a device, a directory: exit 2 at once', async () => {
    const fifo = join(tmp, 'fifo.yaml');
    spawnSync('mkfifo', [fifo]);
    for (const path of [fifo, '/dev/zero', tmp]) {
      const r = await runCli(['run', path]);
      assert.equal(r.code, 2, path);
      assert.match(r.err, /^vgic-lab: .+:1:1: (is not a regular file|is a directory)/);
    }
  });

  it('a file over 1 MiB: exit 2 with the limit', async () => {
    const big = join(tmp, 'big.yaml');
    writeFileSync(big, `name: big\ndescription: ${'x'.repeat(1 << 20)}\n`);
    const r = await runCli(['run', big]);
    assert.equal(r.code, 2);
    assert.match(r.err, /is 1,048,\d+ bytes; a scenario file may have at most 1,048,576 \(1 MiB\)/);
  });

  it('step bounds and counts a user can understand; a cut execution says so', async () => {
    const steps = join(tmp, 'steps.yaml');
    writeFileSync(steps, readFileSync(LONG, 'utf8').replace('maxSteps: 200000', 'maxSteps: 1000000000'));
    const r = await runCli(['run', steps]);
    assert.equal(r.code, 2);
    assert.match(r.err, /explore\.maxSteps: 1000000000 is not a step bound \(1–200000\)/);
    const times = join(tmp, 'times.yaml');
    writeFileSync(times, readFileSync(LONG, 'utf8').replace('times: 10000', 'times: 100000'));
    assert.match((await runCli(['run', times])).err, /times: 100000 is not a count \(0–10000\)/);
    const cut = join(tmp, 'cut.yaml');
    writeFileSync(cut, readFileSync(LONG, 'utf8').replace('maxSteps: 200000', 'maxSteps: 500'));
    assert.match(
      (await runCli(['run', cut])).out,
      /^long on V3 \(tail walk\): default schedule, 500 steps, cut at the step bound$/m,
    );
  });

  it('a prologue that runs past the step bound is a scenario error, not a hang', async () => {
    const p = join(tmp, 'prologue.yaml');
    writeFileSync(
      p,
      readFileSync(LONG, 'utf8').replace(
        'actors:',
        'prologue:\n  - vcpu: 0\n    guest:\n      - op: repeat\n        times: 10000\n        body:\n          - op: repeat\n            times: 100\n            body: [{op: pmr, value: 0}]\nactors:',
      ),
    );
    const r = await runCli(['run', p]);
    assert.equal(r.code, 2, r.err);
    assert.match(
      r.err,
      /prologue\[0\]: this prologue step never finishes: vCPU 0: it takes more than 200000 steps/,
    );
  });
});

describe('schema-valid scenarios that crashed, and gaps in validation', () => {
  const LPI = readFileSync('scenarios/happy-lpi.yaml', 'utf8');
  const file = (name: string, text: string) => {
    const path = join(tmp, `${name}.yaml`);
    writeFileSync(path, text);
    return path;
  };
  const refused = async (name: string, text: string, where: RegExp) => {
    const r = await runCli(['run', file(name, text)]);
    assert.equal(r.code, 2, `${name}: ${r.err}`);
    assert.match(r.err, where);
  };

  it('a MOVALL, a uaccess, an IROUTER or a MAPC naming a vCPU the VM does not have', async () => {
    const action = (a: string) =>
      LPI.replace('          - {cmd: INT, device: 1, event: 0}', `          - ${a}`);
    await refused('movall', action('{cmd: MOVALL, from: 0, to: 3}'), /cmds\[0\]\.to: vCPU 3 does not exist/);
    await refused(
      'mapc',
      action('{cmd: MAPC, collection: 1, vcpu: 2}'),
      /cmds\[0\]\.vcpu: vCPU 2 does not exist/,
    );
    const call = (c: string) =>
      LPI.replace(
        '      - call: its\n        cmds:\n          - {cmd: INT, device: 1, event: 0}',
        `      - ${c}`,
      );
    await refused(
      'uaccess',
      call('{call: uaccess, vcpu: 5, write: {reg: ISPENDR, intid: 20}}'),
      /actions\[0\]\.vcpu: vCPU 5/,
    );
    await refused(
      'irouter',
      call('{call: uaccess, write: {reg: IROUTER, intid: 32, vcpu: 4}}'),
      /actions\[0\]\.write\.vcpu: vCPU 4 does not exist/,
    );
  });

  it('an ITS command or an MSI in a VM without an ITS', async () => {
    const noIts = readFileSync('scenarios/happy-spi-edge.yaml', 'utf8');
    const last = noIts.lastIndexOf('      - ');
    const withCall = (c: string) => `${noIts.slice(0, last)}      - ${c}\n${noIts.slice(last)}`;
    await refused(
      'its',
      withCall('{call: its, cmds: [{cmd: MAPD, device: 0, valid: true}]}'),
      /an ITS command needs an ITS/,
    );
    await refused('msi', withCall('{call: msi, device: 0, event: 0}'), /an MSI needs an ITS/);
  });

  it('expectations about interrupts nothing defines; __proto__ keys', async () => {
    await refused(
      'acks',
      LPI.replace('"0": [8200]', '"0": [8201]'),
      /expect\.acks\.0\[0\]: INTID 8201 is never defined/,
    );
    await refused(
      'proto',
      LPI.replace('"0": [8200]', '"__proto__": [8200]'),
      /"__proto__" is not a key of any scenario field/,
    );
  });

  it('ackPriorityOrder naming an LPI discarded before the end runs (no crash)', async () => {
    const text = LPI.replace(
      '          - {cmd: INT, device: 1, event: 0}',
      '          - {cmd: INT, device: 1, event: 0}\n          - {cmd: DISCARD, device: 1, event: 0}',
    ).replace('expect:\n', 'expect:\n  ackPriorityOrder: [0]\n');
    const r = await runCli(['check', file('discarded', text), '--max-executions', '30']);
    assert.ok(r.code === 0 || r.code === 1, r.err);
  });
});

describe('errors say what is wrong, where', () => {
  const GOOD = readFileSync('scenarios/happy-spi-edge.yaml', 'utf8');

  it('a value of the wrong type, at its own position, with what it got', async () => {
    const r = async (text: string) => {
      const path = join(tmp, 'wrong.yaml');
      writeFileSync(path, text);
      return (await runCli(['run', path])).err;
    };
    assert.match(
      await r(GOOD.replace('enabled: true', 'enabled: yes')),
      /\.enabled: expected a boolean \(true or false\), got `yes`/,
    );
    assert.match(
      await r(GOOD.replace('intid: 40,', 'intid: 40.5,')),
      /\.intid: an INTID must be a whole number, got `40\.5`/,
    );
  });

  it('YAML alias bombs and undefined anchors: exit 2 with the position', async () => {
    const path = join(tmp, 'alias.yaml');
    writeFileSync(path, `${GOOD}x: &a [1, 2]\ny: [*a, *a, *a]\n`);
    const a = await runCli(['run', path]);
    assert.equal(a.code, 2);
    assert.match(a.err, /alias\.yaml:\d+:\d+: YAML aliases \(\*a\) are not supported/);
    writeFileSync(path, GOOD.replace('description: ', 'description: *nowhere '));
    const b = await runCli(['run', path]);
    assert.equal(b.code, 2);
    assert.match(b.err, /alias\.yaml:\d+:\d+: /);
  });

  it("a scenario's explore.strategy and explore.seed are honoured, and the JSON says so", async () => {
    const path = join(tmp, 'explore.yaml');
    writeFileSync(
      path,
      `${GOOD.replace(/^explore:.*\n/m, '')}explore: {strategy: random, seed: 42, maxExecutions: 5}\n`,
    );
    const r = await runCli(['check', path, '--json']);
    const doc = JSON.parse(r.out);
    assert.equal(doc.strategy, 'random');
    assert.equal(doc.seed, 42);
    assert.equal(doc.bounds.maxExecutions, 5);
    const flag = JSON.parse((await runCli(['check', path, '--json', '--seed', '7'])).out);
    assert.equal(flag.seed, 7, 'a flag wins over the file');
  });

  it('no command: the usage on stderr, exit 2; --version; --json --quiet; --designs ""', async () => {
    const none = spawnSync(process.execPath, ENTRY, { encoding: 'utf8' });
    assert.equal(none.status, 2);
    assert.match(none.stderr, /^Usage: vgic-lab /);
    const v = await runCli(['--version']);
    assert.equal(v.code, 0);
    assert.match(v.out, /^\d+\.\d+\.\d+\n$/);
    const q = await runCli(['list', 'designs', '--json', '--quiet']);
    assert.equal(q.code, 2);
    assert.match(q.err, /--json and --quiet contradict each other/);
    const d = await runCli(['compare', 'happy-lpi', '--designs', '']);
    assert.equal(d.code, 2);
  });
});

describe('output is never lost or corrupted', () => {
  it('a full disk: one line on stderr, exit 2', () => {
    const r = spawnSync('sh', ['-c', `${process.execPath} ${ENTRY.join(' ')} list designs > /dev/full`], {
      encoding: 'utf8',
    });
    assert.equal(r.status, 2);
    assert.equal(r.stderr, 'vgic-lab: cannot write the output: no space left on device\n');
  });

  it('--perfetto to a path that cannot be written is refused before the search', async () => {
    const r = await runCli([
      'check',
      'inj-sgi-all-edge-eoimode0-ispendr-nlr4',
      '--perfetto',
      join(tmp, 'no', 'such', 'dir', 'trace.json'),
    ]);
    assert.equal(r.code, 2);
    assert.equal(r.out, '', 'nothing was explored');
    assert.match(r.err, /cannot write the Perfetto trace to .*trace\.json: its directory .* does not exist/);
    assert.ok(!existsSync(join(tmp, 'no')));
  });

  it('compare --json is the same, byte for byte, run after run', async () => {
    const args = ['compare', 'happy-lpi', 'head-walk-wrong-deactivation', '--designs', 'V2,V4b', '--json'];
    const [a, b] = [await runCli(args), await runCli(args)];
    assert.equal(a.code, 0);
    assert.equal(a.out, b.out);
  });
});
