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
import { findingClass } from '../../src/report/classes.ts';
import { formatToken } from '../../src/report/token.ts';
import { contentHash } from '../../src/scenario/hash.ts';
import { loadScenarioFile } from '../../src/scenario/load.ts';
import { runCli } from '../fuzz/run.ts';

const tmp = mkdtempSync(join(tmpdir(), 'vgic-lab-cli-'));

/**
 * Runs a command line in this process through the worker's entry point (runCli): the parsing, output
 * and exit code of the real command without a process start per call. The tests that need signals,
 * file descriptors or the installed entry point spawn the real command below.
 */
function vl(...args: string[]) {
  return runCli(args);
}

async function json(...args: string[]) {
  const r = await vl(...args, '--json');
  return { code: r.code, doc: JSON.parse(r.out), err: r.err };
}

function usageError(r: { code: number | null; err: string }, re: RegExp) {
  assert.equal(r.code, 2, r.err);
  assert.match(r.err, re);
  assert.doesNotMatch(r.err, /\n\s+at .*\(.*:\d+:\d+\)/, 'no stack trace for a user error');
}

describe('vgic-lab list', () => {
  it('designs with their aliases; scenarios as JSON', async () => {
    const r = await vl('list', 'designs');
    assert.equal(r.code, 0);
    assert.match(
      r.out,
      /^V3 +\(tail-walk, mainline, mainline-2026\) +EOIcount replay continues after last_lr_irq/m,
    );
    assert.match(r.out, /^V4b +\(locked-fold\)/m);
    const s = await json('list', 'scenarios');
    assert.equal(s.code, 0);
    assert.ok(s.doc.some((e: { name: string }) => e.name === 'lpi-disable-vs-eoicount-replay'));
    assert.ok(s.doc.every((e: { description: string }) => e.description.length > 0));
  });
});

describe('vgic-lab run', () => {
  it('prints the guest-visible log, the final state and the replay command', async () => {
    const r = await vl('run', 'happy-spi-edge');
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /vCPU 0:\n(.*\n)* {2}ack 40\n(.*\n)* {2}EOI 40/);
    assert.match(r.out, /exit: /);
    assert.match(r.out, /Replay: vgic-lab replay V3@happy-spi-edge@S1\./);
  });

  it('--json and a violation under the default schedule (exit 1)', async () => {
    const r = await json('run', 'lr-overflow-eoimode0', '--design', 'V0');
    assert.equal(r.code, 1, r.err);
    assert.equal(r.doc.command, 'run');
    assert.equal(r.doc.design, 'V0');
    assert.equal(r.doc.schedule, 'default schedule');
    assert.ok(r.doc.guest[0].events.includes('EOI 34 (EOIcount)'), r.doc.guest[0].events.join(' | '));
    assert.deepEqual(
      r.doc.reports.map((x: { class: string; title: string }) => `${x.class}: ${x.title}`),
      [
        'functional: P-EOI: a deactivation outside the LRs was lost',
        'functional: P-ACTIVE: an interrupt stays active after the guest deactivated it',
        'functional: expect: final state of INTID 34',
      ],
    );
    const v = await json('run', 'head-walk-wrong-deactivation', '--design', 'V2');
    assert.equal(v.code, 0, 'the default schedule does not hit the head-walk bug (a note alone is exit 0)');
  });

  it('every report has its vgic-lab header (class, assumed config) and ends with its model trailer', async () => {
    const r = await vl('run', 'lr-overflow-eoimode0', '--design', 'V0', '--seed', '3');
    assert.equal(r.code, 1, r.err);
    const schedule = /Replay: vgic-lab replay V0@lr-overflow-eoimode0@(S1\.[\w-]+)/.exec(r.out)?.[1];
    assert.ok(schedule);
    const trailers = r.out.match(
      /^vgic-lab: design=V0 scenario=lr-overflow-eoimode0 execution=1 step=\d+ schedule=.*$/gm,
    );
    assert.ok(trailers && trailers.length >= 2, r.out);
    for (const t of trailers) assert.ok(t.endsWith(`schedule=${schedule}`), t);
    const heads = r.out.match(
      /^vgic-lab: finding \d of \d, functional finding .*\nvgic-lab: kernel 6\.18\.0-vgiclab-v0, assumed config: .*CONFIG_NO_HZ_FULL=y/gm,
    );
    assert.equal(heads?.length, trailers.length, r.out);
  });

  it('a lock-discipline note speaks as vgic-lab: no WARNING, no cut-here block, no taint, exit 0', async () => {
    const g = await json('run', 'lpi-disable-vs-eoicount-replay');
    assert.equal(g.code, 0, 'a note alone does not fail');
    const note = g.doc.reports.find((x: { class: string }) => x.class === 'note');
    assert.ok(note, 'the default schedule reads the AP list unlocked');
    assert.equal(note.title, 'P-LOCK: vgic_v3_fold_lr_state reads the AP list without ap_list_lock');
    assert.match(note.text, /^vgic-lab: lock-discipline note P-LOCK at vgic_v3_fold_lr_state\+0x2\/0x6\n/);
    assert.match(note.text, /without holding vCPU 0's ap_list_lock \(&vgic_cpu->ap_list_lock\)/);
    assert.doesNotMatch(note.text, /WARNING|cut here|Tainted/);
    assert.deepEqual(note.trailer, [
      `vgic-lab: design=V3 scenario=lpi-disable-vs-eoicount-replay execution=1 step=${note.step < 0 ? 'prologue' : note.step} schedule=${g.doc.token.split('@')[2].replace(/\.[0-9a-f]{12}$/, '')}`,
    ]);
    // A kernel report after the note is not tainted by it.
    const c = await json('check', 'lpi-disable-vs-eoicount-replay');
    const oops = c.doc.findings.find((f: { checker: string }) => f.checker === 'fault');
    assert.match(oops.kernel, / Not tainted /);
  });
});

describe('vgic-lab check', () => {
  it('finds the seed race on V3: the oops first, with interleaving, state and replay command', async () => {
    const r = await vl('check', 'lpi-disable-vs-eoicount-replay', '--design', 'mainline');
    assert.equal(r.code, 1, r.err);
    assert.match(
      r.out,
      /^vgic-lab: finding 1 of \d, fatal kernel report: Unable to handle kernel paging request in vgic_v3_fold_lr_state\n.*\n\nUnable to handle kernel paging request at virtual address dead0000000000b8\n/,
    );
    assert.match(r.out, /BUG: KCSAN: data-race in vgic_flush_pending_lpis \/ vgic_v3_fold_lr_state/);
    assert.match(r.out, /Interleaving \(minimised\): \d+ steps, \d+ preemptions?,/);
    assert.match(r.out, /CPU 0\/KVM +CPU 1\/KVM/);
    assert.match(r.out, />>\d+: /);
    assert.match(r.out, /State at the failing step:\n {2}vCPU 0: /);
    assert.match(r.out, /Replay: vgic-lab replay V3@lpi-disable-vs-eoicount-replay@S1\.[A-Za-z0-9_-]+/);
    assert.match(
      r.out,
      /\nlpi-disable-vs-eoicount-replay on V3: Unable to handle kernel paging request in vgic_v3_fold_lr_state, and [^;]+; \d+ executions; not exhaustive \(stopped at the first fatal kernel report\)\n/,
    );
  });

  it('most severe first: kernel reports before functional findings before notes, whatever the order found', async () => {
    const r = await json('check', 'lpi-disable-vs-eoicount-replay', '--all-violations');
    assert.equal(r.code, 1);
    assert.equal(r.doc.exhaustive, true);
    assert.deepEqual(
      r.doc.findings.map((f: { class: string; checker: string }) => `${f.class}:${f.checker}`),
      ['kernel:fault', 'kernel:kcsan', 'functional:invariant', 'note:note'],
    );
    assert.match(
      r.doc.verdict,
      /^Unable to handle kernel paging request in vgic_v3_fold_lr_state, and 1 kernel report, 1 functional finding, 1 lock-discipline note; \d+ executions; exhaustive \(every Mazurkiewicz trace\)$/,
    );
  });

  it('--minimise: kernel reports in full and the rest briefly by default; all; none keeps the schedules found', async () => {
    type F = { class: string; minimised: boolean; minimiseBudget: number; token: string; steps?: number };
    const budgets = (doc: { findings: F[] }) => doc.findings.map((f) => `${f.class}:${f.minimiseBudget}`);
    const dflt = await json('check', 'lpi-disable-vs-eoicount-replay');
    assert.deepEqual(budgets(dflt.doc), ['kernel:300', 'kernel:300', 'functional:20', 'note:20']);
    assert.ok(dflt.doc.findings.every((f: F) => f.minimised));
    const all = await json('check', 'lpi-disable-vs-eoicount-replay', '--minimise', 'all');
    assert.deepEqual(budgets(all.doc), ['kernel:300', 'kernel:300', 'functional:300', 'note:300']);
    const none = await json('check', 'lpi-disable-vs-eoicount-replay', '--minimise', 'none');
    assert.deepEqual(budgets(none.doc), ['kernel:0', 'kernel:0', 'functional:0', 'note:0']);
    assert.ok(none.doc.findings.every((f: F) => !f.minimised));
    // The exploration is the same whatever is minimised afterwards.
    assert.equal(none.doc.stats.executions, dflt.doc.stats.executions);
    const text = await vl('check', 'lpi-disable-vs-eoicount-replay');
    assert.match(
      text.out,
      /Interleaving \(minimised within 20 executions; --minimise all searches further\)/,
    );
    usageError(await vl('check', 'happy-sgi', '--minimise', 'some'), /--minimise/);
  });

  it('one classifier: oracles, invariants, expectations, guest and CPU-interface findings are functional', async () => {
    for (const c of ['oracle', 'invariant', 'expect', 'guest', 'arch'])
      assert.equal(findingClass(c), 'functional');
    assert.equal(findingClass('note'), 'note');
    for (const c of ['kcsan', 'kasan', 'fault', 'lockdep', 'list', 'refcount', 'deadlock', 'warn', 'bug'])
      assert.equal(findingClass(c), 'kernel');
  });

  it('lock-discipline notes alone exit 0, with --strict 1; mainline passes the LR-overflow and conformance scenarios', async () => {
    for (const s of [
      'lr-overflow-eoimode0',
      'inj-spi-1-edge-eoimode0-edge-irq-line-nlr4',
      'kut-ipi-self-4cpus-nlr4',
    ]) {
      const r = await vl('check', s, '--design', 'V3');
      assert.equal(r.code, 0, `${s}: ${r.out.split('\n').slice(-3).join('\n')}`);
      assert.match(
        r.out,
        /: no violation in \d+ executions? \(1 lock-discipline note: P-LOCK: .*\); exhaustive/,
      );
    }
    assert.equal((await vl('check', 'lr-overflow-eoimode0', '--design', 'V3', '--strict')).code, 1);
  });

  it("--json reports the bounds that applied: the scenario's and the 10,000 of pct and random", async () => {
    const file = join(tmp, 'bounded.yaml');
    writeFileSync(
      file,
      readFileSync('scenarios/happy-lpi.yaml', 'utf8').replace(/^explore:.*(\n {2}.*)*\n?/m, '') +
        '\nexplore:\n  maxExecutions: 3\n',
    );
    const r = await json('check', file);
    assert.equal(r.code, 0, r.err);
    assert.equal(r.doc.bounds.maxExecutions, 3);
    assert.ok(r.doc.stats.executions <= 3);
    const happy = loadScenarioFile('scenarios/happy-lpi.yaml');
    const o = { strategy: 'pct', seed: 1, stopOn: 'fatal' as const };
    assert.equal(limitsOf(happy, o).maxExecutions, happy.explore.maxExecutions ?? 10_000);
    assert.equal(limitsOf(happy, { ...o, strategy: 'random', maxExecutions: 7 }).maxExecutions, 7);
    assert.equal(
      limitsOf(happy, { ...o, strategy: 'dpor' }).maxExecutions,
      happy.explore.maxExecutions ?? null,
    );
  });

  it('a clean scenario says what was proven (exit 0)', async () => {
    const r = await vl('check', 'happy-lpi', '--design', 'V4b');
    assert.equal(r.code, 0, r.err);
    assert.match(
      r.out,
      /happy-lpi on V4b: no violation in \d+ executions; exhaustive \(every Mazurkiewicz trace\)/,
    );
    const b = await vl('check', 'happy-lpi', '--strategy', 'bounded', '--preemptions', '1');
    assert.match(
      b.out,
      /no violation in \d+ executions( \(1 lock-discipline note: [^)]*\))?; exhaustive for preemption bound 1/,
    );
  });

  it('--json: the findings with kernel text, interleaving and state; the token replays the same report', async () => {
    const r = await json('check', 'lpi-disable-vs-eoicount-replay', '--all-violations');
    assert.equal(r.code, 1);
    assert.equal(r.doc.stats.exhaustive, true);
    const fault = r.doc.findings.find((f: { checker: string }) => f.checker === 'fault');
    assert.ok(fault, 'the poisoned-pointer oops is among the findings');
    assert.match(fault.kernel, /^Unable to handle kernel paging request at virtual address dead0000000000b8/);
    assert.ok(fault.interleaving.rows.length > 0 && fault.interleaving.threads.length === 2);
    assert.ok(fault.state.vcpus[0].lastLrIrq.startsWith('LPI 8195'));
    const again = await json('replay', fault.token);
    assert.equal(again.code, 1);
    const same = again.doc.reports.find((x: { title: string }) => x.title === fault.title);
    assert.ok(same, `replaying ${fault.token} reproduces ${fault.title}`);
    assert.equal(same.text.replace(/ #\d+ /g, ' '), fault.kernel.replace(/ #\d+ /g, ' '));
  });

  it('same inputs and seed give the same output, byte for byte', async () => {
    const args = [
      'check',
      'head-walk-wrong-deactivation',
      '--design',
      'V2',
      '--strategy',
      'random',
      '--seed',
      '4',
      '--max-executions',
      '500',
      '--json',
    ];
    const [a, b] = [await vl(...args), await vl(...args)];
    assert.equal(a.code, 1);
    assert.equal(a.out, b.out);
    const c = await vl('check', 'lpi-disable-vs-eoicount-replay');
    const d = await vl('check', 'lpi-disable-vs-eoicount-replay');
    assert.equal(c.out, d.out);
  });

  it('--perfetto: one track group per finding reported, each with its own interleaving', async () => {
    const file = join(tmp, 'trace.json');
    const r = await json('check', 'lpi-disable-vs-eoicount-replay', '--all-violations', '--perfetto', file);
    assert.equal(r.code, 1);
    const t = JSON.parse(readFileSync(file, 'utf8'));
    assert.equal(t.displayTimeUnit, 'ms');
    assert.equal(t.metadata['time-unit'], 'one model step = 1 ms of trace time');
    type Ev = { ph: string; name: string; pid: number; cat?: string; ts?: number; args?: { name: string } };
    const events: Ev[] = t.traceEvents;
    const groups = events.filter((e) => e.ph === 'M' && e.name === 'process_name');
    // Every finding with steps (the note fired in the prologue and has none).
    const traced = r.doc.findings.filter((f: { step: number }) => f.step >= 0);
    assert.deepEqual(
      groups.map((g) => g.args!.name),
      traced.map((f: { title: string }) => `finding ${r.doc.findings.indexOf(f) + 1}: ${f.title}`),
    );
    traced.forEach((f: { title: string; step: number }, i: number) => {
      const pid = groups[i].pid;
      const threads = events.filter((e) => e.pid === pid && e.ph === 'M' && e.name === 'thread_name');
      assert.deepEqual(
        threads.map((e) => e.args!.name),
        ['CPU 0/KVM', 'CPU 1/KVM'],
      );
      const marks = events.filter((e) => e.pid === pid && e.ph === 'i' && e.name === f.title);
      assert.equal(marks.length, 1, `${f.title} is marked in its own group`);
      assert.equal(Math.floor(marks[0].ts! / 1000), f.step, 'at its step, one step per millisecond');
      assert.ok(events.some((e) => e.pid === pid && e.cat === 'lock'));
      assert.ok(events.some((e) => e.pid === pid && e.cat === 'guest'));
    });
  });

  it('--perfetto with nothing to trace says so on stderr and writes no file', async () => {
    const file = join(tmp, 'none.json');
    const r = await vl('check', 'happy-lpi', '--design', 'V4b', '--perfetto', file);
    assert.equal(r.code, 0, r.err);
    assert.match(
      r.err,
      /vgic-lab: --perfetto: nothing to trace \(no finding\); .*none\.json was not written/,
    );
    assert.throws(() => readFileSync(file));
  });

  it("each finding's state is taken where it fired, in the printed schedule; V4b's last_lr_irq holds a reference", async () => {
    const r = await json('check', 'lpi-disable-vs-eoicount-replay', '--all-violations');
    const oops = r.doc.findings.find((f: { checker: string }) => f.checker === 'fault');
    const active = r.doc.findings.find((f: { title: string }) => f.title.startsWith('P-ACTIVE'));
    // At the oops, flush_pending_lpis has unlinked the LPI: it is on no AP list.
    assert.ok(!oops.state.vcpus[0].apList.some((e: string) => e.startsWith('LPI 8195')));
    assert.ok(
      oops.state.lpis.some((e: string) => /^LPI 8195 .* vcpu=- /.test(e)),
      oops.state.lpis.join(' | '),
    );
    if (active) {
      // P-ACTIVE is judged at the end: SPI 35 is still active there.
      assert.ok(active.state.vcpus[0].apList.some((e: string) => /^SPI 35 .*active/.test(e)));
    }
    const v4b = await json('check', 'lpi-disable-vs-eoicount-replay', '--design', 'V4b', '--all-violations');
    const peoi = v4b.doc.findings.find((f: { title: string }) => f.title.startsWith('P-EOI'));
    assert.equal(peoi.state.vcpus[0].lastLrIrq, 'LPI 8195 (holds a reference)');
    const replayed = await json('replay', peoi.token);
    assert.ok(replayed.doc.reports.some((x: { title: string }) => x.title === peoi.title));
  });
});

describe('design expressions', () => {
  it('a design with a fix switch turned off is named by its expression in the report, JSON and token', async () => {
    const r = await json('check', 'lpi-disable-vs-fold-without-eoi-discarded', '--design', 'V4b-pinlastlr');
    assert.equal(r.code, 1, r.err);
    assert.equal(r.doc.design, 'V4b-pinLastLr');
    const kasan = r.doc.findings.find((x: { title: string }) => x.title.startsWith('BUG: KASAN'));
    assert.ok(kasan, r.doc.findings.map((x: { title: string }) => x.title).join(' | '));
    assert.match(kasan.token, /^V4b-pinLastLr@lpi-disable-vs-fold-without-eoi-discarded@/);
    assert.match(kasan.kernel, / 7\.1\.0-vgiclab-v4b-pinlastlr #/);
    const again = await json('replay', kasan.token);
    assert.equal(again.code, 1, again.err);
    assert.ok(again.doc.reports.some((x: { title: string }) => x.title === kasan.title));
  });

  it('unknown names and changes that change nothing are usage errors that list what is valid', async () => {
    const r = await vl('check', 'happy-sgi', '--design', 'V3-PRUNE_CHECK_STILL_OUR');
    usageError(r, /"PRUNE_CHECK_STILL_OUR" in the design "V3-PRUNE_CHECK_STILL_OUR" is neither/);
    assert.match(r.err, /switches: PRUNE_REF_ACROSS_MIGRATION, .*PAUSE_IS_COUNTER/);
    usageError(await vl('run', 'happy-sgi', '--design', 'V3+PRUNE_CHECK_STILL_OURS'), /V3 already has/);
    usageError(await vl('compare', 'happy-sgi', '--designs', 'V3,V9'), /unknown design "V9"/);
  });

  it('compare --ablate shows which parts of the locked fold the DISCARD race needs', async () => {
    const r = await json('compare', 'lpi-disable-vs-fold-without-eoi-discarded', '--ablate', 'V4b');
    assert.equal(r.code, 0, r.err);
    assert.deepEqual(r.doc.ablation, { base: 'V4b' });
    const kind = Object.fromEntries(
      r.doc.cells.map((c: { design: string; kind: string }) => [c.design, c.kind]),
    );
    assert.equal(kind.V4b, 'clean');
    assert.equal(kind['V4b-pinLastLr'], 'kasan', 'without the pin: use-after-free');
    assert.equal(kind['V4b-foldLocked-deferNotify'], 'kcsan', 'without the lock: the unlocked walk races');
    assert.equal(kind['V4b-lrOverflow'], 'not-a-design');
    assert.equal(kind['V4b+HALT_ON_LPI_DISABLE'], 'clean');
    assert.equal(kind['V4b-rcuFreedLpis'], 'clean', 'the pin keeps last_lr_irq alive without RCU');
    assert.equal(r.doc.cells.length, 18);
    usageError(
      await vl('compare', '--ablate', 'V4b', '--designs', 'V3'),
      /--ablate and --designs contradict/,
    );
  });
});

describe('design files', () => {
  it('examples/v4b-no-defer.yaml: V4b without its deferral reports the invalid wait context; its token replays', async () => {
    const r = await json('check', 'level-spi-irqfd-resample', '--design', 'examples/v4b-no-defer.yaml');
    assert.equal(r.code, 1, r.err);
    assert.equal(r.doc.design, 'V4b-no-defer');
    assert.equal(r.doc.findings[0].title, '[ BUG: Invalid wait context ]');
    const token = r.doc.findings[0].token;
    assert.match(token, /^\/.*\/examples\/v4b-no-defer\.yaml#[0-9a-f]{8}@level-spi-irqfd-resample@/);
    const again = await json('replay', token);
    assert.equal(again.code, 1, again.err);
    assert.equal(again.doc.reports[0].title, r.doc.findings[0].title);
    const m = await json(
      'compare',
      'level-spi-irqfd-resample',
      '--designs',
      'V4b,./examples/v4b-no-defer.yaml',
    );
    assert.deepEqual(
      m.doc.cells.map((c: { design: string; kind: string }) => `${c.design}:${c.kind}`),
      ['V4b:clean', 'V4b-no-defer:lockdep'],
    );
  });

  it('a design file that changed since the token, or is malformed, is exit 2 with the position', async () => {
    const file = join(tmp, 'fix.yaml');
    writeFileSync(file, 'name: fix\ndescription: d\nbase: V3\nswitches: {HALT_ON_LPI_DISABLE: true}\n');
    const r = await json('run', 'happy-sgi', '--design', file);
    assert.equal(r.code, 0, r.err);
    const token = r.doc.token;
    writeFileSync(file, 'name: fix\ndescription: d2\nbase: V3\nswitches: {HALT_ON_LPI_DISABLE: true}\n');
    usageError(await vl('replay', token), /the token was made for another content of the design file/);
    writeFileSync(file, 'name: fix\ndescription: d\nbase: V4b\nfields: {deferNotfy: false}\n');
    usageError(
      await vl('run', 'happy-sgi', '--design', file),
      /fix\.yaml:4:10: fields\.deferNotfy: unknown key "deferNotfy"/,
    );
    writeFileSync(file, 'name: fix\ndescription: d\nbase: V4b\nfields: {foldLocked: false}\n');
    usageError(
      await vl('run', 'happy-sgi', '--design', file),
      /fix\.yaml:4:22: fields\.foldLocked: the result is not a consistent design: deferring/,
    );
    writeFileSync(file, 'name: fix\ndescription: d\nbase: V9\n');
    usageError(await vl('run', 'happy-sgi', '--design', file), /fix\.yaml:3:7: base: unknown design "V9"/);
    usageError(
      await vl('run', 'happy-sgi', '--design', join(tmp, 'none.yaml')),
      /none\.yaml:1:1: cannot be read: ENOENT/,
    );
  });
});

describe('design modules', () => {
  it('examples/v4a-module.ts gives the verdicts and execution counts of the built-in V4a; its token replays', async () => {
    const scenarios = ['lpi-disable-vs-eoicount-replay', 'lpi-disable-vs-fold-without-eoi-discarded'];
    const r = await json('compare', ...scenarios, '--designs', 'V4a,examples/v4a-module.ts');
    assert.equal(r.code, 0, r.err);
    const cells = r.doc.cells as { scenario: string; design: string; verdict: string; executions: number }[];
    for (const s of scenarios) {
      const [a, b] = ['V4a', 'V4a-module'].map((d) => cells.find((c) => c.scenario === s && c.design === d));
      assert.ok(a && b);
      assert.deepEqual([b.verdict, b.executions], [a.verdict, a.executions], s);
    }
    const c = await json('check', scenarios[1], '--design', 'examples/v4a-module.ts');
    assert.match(c.doc.findings[0].token, /\/examples\/v4a-module\.ts#[0-9a-f]{8}@/);
    const again = await json('replay', c.doc.findings[0].token);
    assert.equal(again.code, 1, again.err);
    assert.equal(again.doc.reports[0].title, c.doc.findings[0].title);
  });

  it('examples/v4b-module.ts, the locked fold as code, finds what built-in V4b finds, in as many executions', async () => {
    for (const s of ['lpi-disable-vs-eoicount-replay', 'lpi-disable-vs-eoicount-replay-discarded']) {
      const [a, b] = [
        await json('check', s, '--design', 'V4b', '--all-violations'),
        // On two threads: the workers load the module too, from the command line being run.
        await json('check', s, '--design', 'examples/v4b-module.ts', '--all-violations', '--jobs', '2'),
      ];
      const titles = (r: typeof a) => r.doc.findings.map((f: { title: string }) => f.title);
      assert.deepEqual(titles(b), titles(a), s);
      assert.ok(titles(a).includes('P-EOI: a deactivation outside the LRs was lost'));
      assert.equal(b.doc.stats.executions, a.doc.stats.executions, s);
    }
  });

  it('a .mjs module that delegates to the built-in changes nothing; bad modules are exit 2 with the reason', async () => {
    const mod = (body: string, ext = 'mjs') => {
      const f = join(tmp, `m${Math.random().toString(16).slice(2)}.${ext}`);
      writeFileSync(f, body);
      return f;
    };
    const same = mod(
      "export default (m) => ({ name: 'same', description: 'd', base: 'V3', replace: { vgic_put_irq: function* (t, vm, irq) { yield* m.builtin.vgic_put_irq(t, vm, irq); } } });\n",
    );
    const a = await json('check', 'lpi-disable-vs-fold-without-eoi-discarded', '--design', same);
    const b = await json('check', 'lpi-disable-vs-fold-without-eoi-discarded', '--design', 'V3');
    assert.deepEqual(
      [a.doc.verdict.replace('same', 'V3'), a.doc.stats.executions],
      [b.doc.verdict, b.doc.stats.executions],
    );
    usageError(
      await vl('run', 'happy-sgi', '--design', mod('export const x = 1;\n')),
      /does not export a design/,
    );
    usageError(
      await vl(
        'run',
        'happy-sgi',
        '--design',
        mod(
          "export default () => ({ name: 'n', description: 'd', base: 'V3', replace: { vgic_queue_irq_unlock() {} } });\n",
        ),
      ),
      /"vgic_queue_irq_unlock" is not a kernel function a design may replace/,
    );
    const bad = mod(
      "import type { ModelApi } from 'vgic-lab/model';\nexport default (m: ModelApi) => m.nothing;\n",
      'ts',
    );
    usageError(
      await vl('run', 'happy-sgi', '--design', bad),
      /\.ts:2:35: does not type-check: Property 'nothing' does not exist/,
    );
  });
});

describe('kernel configuration', () => {
  it('production: the seed race is the oops a distribution kernel prints, no sanitizer; the token keeps the config', async () => {
    const r = await json('check', 'lpi-disable-vs-eoicount-replay', '--config', 'production');
    assert.equal(r.code, 1, r.err);
    const titles = r.doc.findings.map((x: { title: string }) => x.title);
    assert.equal(titles[0], 'Unable to handle kernel paging request in vgic_v3_fold_lr_state');
    assert.ok(!titles.some((t: string) => /KCSAN|KASAN|lockdep|Invalid wait/.test(t)), titles.join(' | '));
    assert.match(
      r.doc.findings[0].config,
      /^kernel 7\.1\.0-vgiclab-v3, config production: arm64, CONFIG_PREEMPT=y, CONFIG_NO_HZ_FULL=y/,
    );
    assert.doesNotMatch(r.doc.findings[0].config, /KASAN|KCSAN|PROVE_LOCKING|DEBUG_LIST/);
    const token = r.doc.findings[0].token;
    assert.match(token, /^V3:production@lpi-disable-vs-eoicount-replay@/);
    const again = await json('replay', token);
    assert.equal(again.code, 1, again.err);
    assert.equal(again.doc.reports[0].title, titles[0]);
    usageError(
      await vl('replay', token, '--config', 'debug'),
      /the token replays kernel configuration production, not debug/,
    );
  });

  it('PREEMPT_RT: spinlock_t under a raw lock is a sleeping-in-atomic BUG, not only a lockdep warning', async () => {
    const args = ['check', 'level-spi-irqfd-resample', '--design', 'V4b-deferNotify'];
    const debug = await json(...args);
    assert.equal(debug.doc.findings[0].title, '[ BUG: Invalid wait context ]');
    const prod = await json(...args, '--config', 'production');
    assert.deepEqual(prod.doc.findings, [], 'a production kernel without PREEMPT_RT does not notice');
    assert.equal(prod.doc.exhaustive, true);
    const rt = await json(...args, '--config', 'production+PREEMPT_RT');
    assert.equal(
      rt.doc.findings[0].title,
      'BUG: sleeping function called from invalid context in rt_spin_lock',
    );
    assert.match(rt.doc.findings[0].kernel, /at kernel\/locking\/spinlock_rt\.c:\d+\n/);
    assert.match(rt.doc.findings[0].config, /CONFIG_PREEMPT_RT=y/);
  });

  it('NO_HZ_FULL decides whether the DISCARD variant is a use-after-free', async () => {
    const on = await json('check', 'lpi-disable-vs-fold-without-eoi-discarded', '--all-violations');
    assert.ok(
      on.doc.findings.some((x: { title: string }) => x.title.startsWith('BUG: KASAN: slab-use-after-free')),
    );
    const off = await json(
      'check',
      'lpi-disable-vs-fold-without-eoi-discarded',
      '--all-violations',
      '--config',
      'debug-NO_HZ_FULL',
    );
    assert.ok(!off.doc.findings.some((x: { title: string }) => x.title.startsWith('BUG: KASAN')));
    assert.match(off.doc.findings[0].config, /no nohz_full CPU/);
  });

  it("a scenario's kernel: section is honoured; bad values are exit 2 with the position", async () => {
    const file = join(tmp, 'kernel.yaml');
    writeFileSync(
      file,
      `${readFileSync('scenarios/lpi-disable-vs-fold-without-eoi-discarded.yaml', 'utf8')}kernel: {config: production, KASAN: true}\n`,
    );
    const r = await json('check', file);
    assert.equal(r.doc.findings[0].title, 'BUG: KASAN: slab-use-after-free in vgic_v3_fold_lr_state');
    assert.match(r.doc.findings[0].config, /config production\+KASAN: .*CONFIG_KASAN=y/);
    assert.doesNotMatch(r.doc.findings[0].token, /:production/, 'the file carries its configuration');
    writeFileSync(file, `${readFileSync('scenarios/happy-sgi.yaml', 'utf8')}kernel: {config: prod}\n`);
    usageError(
      await vl('run', file),
      /kernel\.yaml:\d+:\d+: kernel\.config: a kernel configuration is debug or production/,
    );
    usageError(
      await vl('run', 'happy-sgi', '--config', 'debug+FOO'),
      /"FOO" in "debug\+FOO" is not a kernel configuration option/,
    );
    usageError(await vl('run', 'happy-sgi', '--config', 'debug+KASAN'), /already has KASAN on/);
  });
});

describe('vgic-lab compare', () => {
  it('the matrix as text and JSON', async () => {
    const r = await vl(
      'compare',
      'head-walk-wrong-deactivation',
      'lr-overflow-eoimode0',
      '--designs',
      'V0,V2,V3',
    );
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /^head-walk-wrong-deactivation +ok \d+ +F1 \d+\* +ok \d+\*$/m);
    assert.match(r.out, /^ {2}F1 +functional finding: P-EOI: /m);
    const j = await json('compare', 'lr-overflow-eoimode0', '--designs', 'V0,V4b');
    assert.deepEqual(
      j.doc.cells.map((c: { design: string; kind: string }) => `${c.design}:${c.kind}`),
      ['V0:oracle', 'V4b:clean'],
    );
    // The default budget is executions only, so that cells do not depend on the machine.
    assert.deepEqual(j.doc.budget, { maxExecutions: 300, timeLimitSeconds: null });
  });

  it('a cell cut by the budget never says clean: "+" and "none", kind none-found in JSON', async () => {
    const r = await vl('compare', 'happy-sgi', '--designs', 'V4b', '--max-executions', '2');
    assert.match(r.out, /^happy-sgi +none 2\+$/m);
    assert.doesNotMatch(r.out, /^happy-sgi .*ok/m);
    const j = await json('compare', 'happy-sgi', '--designs', 'V4b', '--max-executions', '2');
    assert.deepEqual(
      j.doc.cells.map((c: { kind: string; verdict: string; exhaustive: boolean }) => [
        c.kind,
        c.verdict,
        c.exhaustive,
      ]),
      [['none-found', 'no violation found, not exhaustive', false]],
    );
    // A verdict is a code in the cell, whole in the legend; the count is always there.
    const k = await vl(
      'compare',
      'lpi-disable-vs-eoicount-replay',
      '--designs',
      'V3',
      '--max-executions',
      '3',
    );
    assert.match(k.out, /^lpi-disable-vs-eoicount-replay +K1 3\+\*$/m);
    assert.match(
      k.out,
      /^ {2}K1 +kernel report: BUG: KCSAN: data-race in vgic_flush_pending_lpis \/ vgic_v3_fold_lr_state$/m,
    );
  });

  it('fits 120 columns with every design; every code in a cell is in the legend', async () => {
    const r = await vl(
      'compare',
      'lpi-disable-vs-eoicount-replay',
      'fail-level-eoimode1-set-irq-line-high-nlr4',
      'lpi-disable-vs-fold-without-eoi-discarded',
      '--max-executions',
      '40',
    );
    const table = r.out.split('\n\n')[0].split('\n');
    assert.equal(table.length, 4);
    for (const l of table) assert.ok(l.length <= 120, `${l.length}: ${l}`);
    const codes = new Set(table.slice(1).flatMap((l) => [...l.matchAll(/\b([KF]\d+) \d/g)].map((m) => m[1])));
    assert.ok(codes.size >= 2);
    for (const code of codes)
      assert.match(r.out, new RegExp(`^ {2}${code} +(kernel report|functional finding): `, 'm'));
    for (const mark of ['ok', 'none', '\\+', '\\*'])
      assert.match(r.out, new RegExp(`^ {2}${mark} +\\S`, 'm'), mark);
  });

  it('a column is as wide as its design expression: two long ones never read the same', async () => {
    const long = ['V3+HALT_ON_LPI_DISABLE', 'V3+HALT_ON_LPI_DISABLE+MOVALL_FILTER_SOURCE'];
    const r = await vl('compare', 'happy-sgi', '--designs', long.join(','), '--max-executions', '5');
    const header = r.out.split('\n')[0];
    for (const d of long) assert.ok(header.split(/ +/).includes(d), header);
  });

  it('--expect gates a CI job: exit 1 with the cells that differ, 0 when all agree, 2 when malformed', async () => {
    const args = ['compare', 'lpi-disable-vs-eoicount-replay', '--designs', 'V3,V4b'];
    const met = await vl(...args, '--expect', 'V3=kernel,locked-fold=functional');
    assert.equal(met.code, 0, met.err);
    // Designs are named in any case, as --designs takes them.
    assert.equal((await vl(...args, '--expect', 'v3=kernel')).code, 0);
    const unmet = await vl(...args, '--expect', 'V3=kernel,V4b=clean');
    assert.equal(unmet.code, 1);
    assert.match(
      unmet.out,
      /^expected clean for lpi-disable-vs-eoicount-replay on V4b, got functional: P-EOI: a deactivation outside the LRs was lost$/m,
    );
    const j = await json(...args, '--expect', 'V4b=clean');
    assert.equal(j.code, 1);
    assert.deepEqual(
      j.doc.unmet.map((u: { design: string; got: string }) => `${u.design}:${u.got}`),
      ['V4b:functional'],
    );
    usageError(
      await vl(...args, '--expect', 'V3=broken'),
      /--expect "V3=broken": the outcome is one of kernel, functional, clean, none/,
    );
    usageError(
      await vl(...args, '--expect', 'V5=clean'),
      /--expect "V5=clean": V5 is not a column of the matrix/,
    );
  });

  it('over the whole catalogue (npm start) it ends with what to run next', async () => {
    const r = await vl('compare', '--designs', 'V3', '--max-executions', '1');
    assert.equal(r.code, 0, r.err);
    const tail = r.out.trimEnd().split('\n').slice(-3);
    assert.match(tail[0], /^Next: vgic-lab check lpi-disable-vs-eoicount-replay --design V3 /);
    assert.match(tail[2], /vgic-lab list scenarios/);
    assert.doesNotMatch((await vl('compare', 'happy-sgi', '--designs', 'V3')).out, /^Next:/m);
  });

  it('a --designs list that names no design is a usage error', async () => {
    usageError(await vl('compare', 'happy-lpi', '--designs', ','), /--designs "," names no design/);
  });
});

describe('bad input: a clear message and exit 2', () => {
  it('unknown design and scenario name the closest valid one', async () => {
    usageError(
      await vl('check', 'happy-lpi', '--design', 'V3b'),
      /unknown design "V3b"; did you mean "V3"\?/,
    );
    usageError(
      await vl('run', 'happy-spi-edg'),
      /unknown scenario "happy-spi-edg"; did you mean "happy-spi-edge"\?/,
    );
  });

  it('unreadable file, invalid YAML and schema errors give file:line:column and a hint', async () => {
    usageError(await vl('run', join(tmp, 'missing.yaml')), /missing\.yaml:1:1: no such file\n {2}hint: /);
    const bad = join(tmp, 'bad.yaml');
    writeFileSync(bad, 'name: x\ndescription: y\nvm: {vcpus: 1, nrLr: 99}\nactors: [{vcpu: 0, guest: []}]\n');
    usageError(
      await vl('check', bad),
      /bad\.yaml:3:\d+: vm\.nrLr: 99 is not a number of list registers \(1–16; on GICv2 1–64\)/,
    );
    writeFileSync(bad, 'name: x\ndescription: [oops\nvm: {}\n');
    usageError(await vl('check', bad), /bad\.yaml:\d+:\d+: invalid YAML/);
  });

  it('bad flag values: negative bounds, unknown strategy, malformed tokens', async () => {
    usageError(
      await vl('check', 'happy-lpi', '--max-executions', '-1'),
      /--max-executions takes a whole number, got "-1"/,
    );
    usageError(await vl('check', 'happy-lpi', '--strategy', 'magic'), /argument 'magic' is invalid/);
    usageError(
      await vl('replay', token('happy-lpi', 'S9.AAAA')),
      /schedule token version S9 is not supported/,
    );
    usageError(await vl('replay', 'S1.AA'), /carries only a schedule/);
    usageError(await vl('replay', 'garbage'), /"garbage" is not a schedule token/);
  });

  /** A well-formed token for a catalogue scenario as it is now and `schedule`. */
  function token(scenario: string, schedule: string, design = 'V3'): string {
    const hash = contentHash(readFileSync(`scenarios/${scenario}.yaml`, 'utf8'));
    return formatToken({ design, scenario, hash }, schedule);
  }

  it('a token that does not fit the scenario: exit 2, not a different schedule', async () => {
    // S1.AAAA: a length of 0 with a deviation at decision 0; S1.Aw: 3 decisions and no deviation.
    usageError(await vl('replay', token('happy-spi-edge', 'S1.AAAA')), /schedule token is corrupt/);
    usageError(
      await vl('replay', token('happy-spi-edge', 'S1.Aw')),
      /schedule does not fit: the token records 3 decisions, the run made \d+/,
    );
    const ok = await vl('run', 'happy-spi-edge');
    const printed = /Replay: vgic-lab replay (\S+)/.exec(ok.out)?.[1] ?? '';
    const again = await vl('replay', printed);
    assert.equal(again.code, 0, again.err);
    assert.match(again.out, new RegExp(`Replay: vgic-lab replay ${printed.replace(/[.]/g, '\\.')}\n`));
    usageError(await vl('list', 'things'), /cannot list "things"/);
  });

  it('a token is bound to its scenario, content included, and to its design; one altered by hand fails', async () => {
    const ok = /Replay: vgic-lab replay (\S+)/.exec((await vl('run', 'happy-spi-edge')).out)?.[1] ?? '';
    assert.match(ok, /^V3@happy-spi-edge@S1\.[\w-]*\.[0-9a-f]{12}$/);
    usageError(
      await vl('replay', `${ok.slice(0, -1)}${ok.endsWith('0') ? '1' : '0'}`),
      /is damaged: its check digits/,
    );
    usageError(await vl('replay', ok.replace('@happy-spi-edge@', '@happy-sgi@')), /is damaged/);
    usageError(await vl('replay', ok, '--design', 'V4b'), /the token replays design V3, not V4b/);
    usageError(
      await vl('replay', ok, '--scenario', 'happy-sgi'),
      /the token replays scenario happy-spi-edge, not happy-sgi/,
    );
    // The same schedule, well-formed, for a file whose content changed since.
    const file = join(tmp, 'edge copy.yaml');
    writeFileSync(file, readFileSync('scenarios/happy-spi-edge.yaml', 'utf8'));
    const made = await vl('run', file);
    const quoted = /Replay: vgic-lab replay '(.+)'$/m.exec(made.out)?.[1] ?? '';
    assert.ok(quoted.startsWith(`V3@${file}@`), 'an absolute path, quoted for the shell');
    assert.equal((await vl('replay', quoted)).code, 0);
    writeFileSync(file, `${readFileSync(file, 'utf8')}# a comment\n`);
    usageError(
      await vl('replay', quoted),
      /the token was made for another content of .*edge copy\.yaml \(hash [0-9a-f]{8}, now [0-9a-f]{8}\): the scenario changed since/,
    );
  });

  it('--help of every command shows examples', async () => {
    for (const c of ['list', 'run', 'check', 'replay', 'compare']) {
      const r = await vl(c, '--help');
      assert.equal(r.code, 0);
      assert.match(r.out, /Examples:\n {2}\$ vgic-lab /);
    }
  });
});

describe('Ctrl-C', () => {
  it('stops cleanly, prints what was explored and exits 130 (SIGINT once the readiness line is out)', async () => {
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
        '--progress',
      ],
      { env: { ...process.env, NO_COLOR: '1' } },
    );
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => {
      out += d;
    });
    child.stderr.on('data', (d) => {
      err += d;
      if (/^vgic-lab: exploring inj-sgi-all.* on V4b \(Ctrl-C stops/m.test(err)) child.kill('SIGINT');
    });
    const code = await new Promise<number | null>((res) => child.on('close', (c) => res(c)));
    assert.equal(code, 130, err);
    assert.match(out, /no violation in [\d,]+ executions?; not exhaustive \(interrupted\)/);
  });
});

describe('a reader that goes away (| head)', () => {
  /** Runs the command, reads the first chunk of its output and closes the pipe. */
  async function closedEarly(args: string[]) {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
      env: { ...process.env, NO_COLOR: '1' },
    });
    let err = '';
    child.stderr.on('data', (d) => {
      err += d;
    });
    child.stdout.once('data', () => child.stdout.destroy());
    const code = await new Promise<number | null>((res) => child.on('close', (c) => res(c)));
    return { code, err };
  }

  for (const [args, status] of [
    [['list', 'scenarios'], 0],
    [['run', 'lpi-disable-vs-eoicount-replay', '--design', 'V0'], 1],
    [['check', 'lpi-disable-vs-eoicount-replay'], 1],
    [['check', 'happy-lpi', '--json'], 0],
    [['compare', 'happy-lpi', 'head-walk-wrong-deactivation', '--designs', 'V2,V3'], 0],
  ] as const) {
    it(`${args.join(' ')}: quiet, exit ${status}`, async () => {
      const r = await closedEarly([...args]);
      assert.doesNotMatch(r.err, /EPIPE|\n\s+at /, r.err);
      assert.equal(r.code, status, r.err);
    });
  }

  it('replay: quiet, exit 0', async () => {
    const token = /Replay: vgic-lab replay (\S+)/.exec((await vl('run', 'happy-spi-edge')).out)?.[1] ?? '';
    const r = await closedEarly(['replay', token]);
    assert.doesNotMatch(r.err, /EPIPE|\n\s+at /, r.err);
    assert.equal(r.code, 0, r.err);
  });
});

describe('the installed entry point', () => {
  it('bin/vgic-lab.mjs runs (the bundle when built, else the sources)', async () => {
    const r = spawnSync(process.execPath, ['bin/vgic-lab.mjs', 'list', 'designs'], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^V0 /);
  });

  it('a bundle older than src/ is not run: the sources are, with a notice', async () => {
    // A copy of bin/ next to the real src/ and node_modules/, and a stand-in bundle whose output
    // shows whether it ran.
    const root = join(tmp, 'clone');
    mkdirSync(join(root, 'bin'), { recursive: true });
    mkdirSync(join(root, 'dist'), { recursive: true });
    copyFileSync('bin/vgic-lab.mjs', join(root, 'bin', 'vgic-lab.mjs'));
    symlinkSync(resolve('src'), join(root, 'src'), 'dir');
    symlinkSync(resolve('node_modules'), join(root, 'node_modules'), 'dir');
    const bundle = join(root, 'dist', 'main.mjs');
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
    assert.match(stale.stderr, /^vgic-lab: dist\/main\.mjs is older than src\/, running the sources/);
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
