import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Script } from 'node:vm';
import { programOf } from '../../src/cli/context.ts';
import { resolveDesign, resolveScenario } from '../../src/cli/resolve.ts';
import { Exploration } from '../../src/explore/explorer.ts';
import { DporStrategy } from '../../src/explore/strategies/dpor.ts';
import { buildFindingReport } from '../../src/report/finding.ts';
import { esc, HTML_MARK, jsonInScript } from '../../src/report/html/page.ts';
import { checkPage } from '../../src/report/html/pages.ts';
import { SCRIPT } from '../../src/report/html/script.ts';
import { kernelConfigOf } from '../../src/scenario/kernel-config.ts';
import { stateLines } from '../../src/vgic/dump.ts';
import { runCli } from '../fuzz/run.ts';

/** The seed race's oops with the details of every step, as `check --html` builds it. */
async function seedRaceReport() {
  const s = await resolveScenario('lpi-disable-vs-eoicount-replay');
  const d = await resolveDesign('V3');
  const program = programOf(s.loaded, d);
  const x = new Exploration(program, new DporStrategy(Number.POSITIVE_INFINITY), {
    maxSteps: s.loaded.explore.maxSteps,
    stopOn: (v) => v.fatal,
  });
  while (x.step()) {}
  const f = x.result().findings.find((g) => g.violation.fatal)!;
  return buildFindingReport(program, f, {
    design: d,
    kernel: kernelConfigOf(s.loaded.spec),
    target: { design: 'V3', scenario: s.tokenRef, hash: s.loaded.hash },
    scenario: s.ref,
    maxSteps: s.loaded.explore.maxSteps,
    minimiseBudget: 0,
    detail: true,
  });
}

describe('HTML report: page', () => {
  it("the page's script is valid JavaScript", () => {
    assert.doesNotThrow(() => new Script(SCRIPT));
  });

  it('escapes text, and JSON in the page cannot close its script element', () => {
    assert.equal(
      esc(`<script>"a" & 'b'</script>`),
      '&#60;script&#62;&#34;a&#34; &#38; &#39;b&#39;&#60;/script&#62;',
    );
    const json = jsonInScript({ name: '</script><script>alert(1)</script>', sep: '\u2028' });
    assert.ok(!json.includes('<') && !json.includes('\u2028'));
    assert.deepEqual(JSON.parse(json), { name: '</script><script>alert(1)</script>', sep: '\u2028' });
  });

  it('names from a scenario stay text: the page has its own two scripts and no other element', async () => {
    const r = await seedRaceReport();
    const evil = '<script>window.__xss=1</script><img src=x onerror="window.__xss=2">';
    const html = checkPage({
      scenario: evil,
      design: `V3"><b>`,
      verdict: evil,
      notes: [evil],
      reports: [{ ...r, title: evil, kernel: evil, replay: evil, config: evil }],
      version: '0',
    });
    assert.equal(html.split('\n')[1], HTML_MARK);
    assert.equal((html.match(/<script/g) ?? []).length, 2);
    assert.ok(!/<img|<b>/.test(html));
    assert.match(html, /Content-Security-Policy" content="default-src &#39;none&#39;;/);
  });
});

describe('HTML report: step details', () => {
  it('the state after the firing step is the state the report printed, and every step has its details', async () => {
    const r = await seedRaceReport();
    const d = r.detail!;
    assert.equal(d.steps.length, r.interleaving.rows.length);
    assert.deepEqual(d.states[d.steps[r.step].state], stateLines(r.state!));
  });

  it("list_del's step takes the LPI off vCPU 0's AP list, under the locks it holds", async () => {
    const r = await seedRaceReport();
    const d = r.detail!;
    const at = r.interleaving.rows.findIndex((row) =>
      row.notes.some((n) => n.startsWith('list_del(LPI 8195')),
    );
    assert.ok(at > 0);
    const apList = (lines: string[]) => {
      const from = lines.findIndex((l) => l.startsWith('vCPU 0:'));
      const to = lines.findIndex((l, i) => i > from && l.startsWith('vCPU 1:'));
      return lines.slice(from, to).join('\n');
    };
    assert.match(apList(d.states[d.steps[at - 1].state]), /^ {4}LPI 8195 /m);
    assert.doesNotMatch(apList(d.states[d.steps[at].state]), /^ {4}LPI 8195 /m);
    assert.ok(d.steps[at].writes.includes('LPI 8195: ap_list.next'));
    // The list_del runs under vCPU 0's ap_list_lock, which CPU 1 released in the same step.
    const before = d.steps[at - 1].held.find((h) => h.thread === 'CPU 1/KVM');
    assert.ok(before?.locks.some((l) => l.startsWith('&vgic_cpu->ap_list_lock (vcpu 0)')));
    // The firing step reads the poisoned link the list_del left.
    assert.ok(d.steps[r.step].reads.includes('LPI 8195: ap_list.next'));
  });
});

describe('HTML report: command line', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vgic-html-'));

  it('check --html writes the page, says so, and leaves the JSON document as it was', async () => {
    const file = join(dir, 'seed.html');
    const plain = await runCli(['check', 'lpi-disable-vs-eoicount-replay', '--design', 'V3', '--json']);
    const r = await runCli([
      'check',
      'lpi-disable-vs-eoicount-replay',
      '--design',
      'V3',
      '--json',
      '--html',
      file,
    ]);
    assert.equal(r.code, 1);
    assert.equal(r.out, plain.out);
    const html = readFileSync(file, 'utf8');
    assert.match(html, /<h1>vgic-lab check: lpi-disable-vs-eoicount-replay on V3<\/h1>/);
    // One firing step for each finding that has an interleaving (one fired in the prologue).
    const traced = JSON.parse(plain.out).findings.filter((f: { step: number }) => f.step >= 0);
    assert.ok(traced.length >= 2);
    assert.equal((html.match(/<tr class="step firing"/g) ?? []).length, traced.length);
    const text = await runCli(['check', 'lpi-disable-vs-eoicount-replay', '--design', 'V3', '--html', file]);
    assert.match(text.out, new RegExp(`^HTML report: ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`, 'm'));
  });

  it('never overwrites a file vgic-lab did not write, and refuses --html with --shard', async () => {
    const mine = join(dir, 'notes.html');
    writeFileSync(mine, '<p>my notes</p>\n');
    const r = await runCli(['check', 'happy-sgi', '--html', mine]);
    assert.equal(r.code, 2);
    assert.match(r.err, /exists and is not an HTML report written by vgic-lab; it was not overwritten/);
    assert.equal(readFileSync(mine, 'utf8'), '<p>my notes</p>\n');
    const c = await runCli(['compare', 'happy-sgi', '--designs', 'V3', '--html', mine]);
    assert.equal(c.code, 2);
    assert.equal(readFileSync(mine, 'utf8'), '<p>my notes</p>\n');
    const s = await runCli(['check', 'happy-sgi', '--shard', '1/2', '--html', join(dir, 's.html')]);
    assert.equal(s.code, 2);
    assert.match(s.err, /--html and --shard contradict each other/);
  });

  it('compare --html links every failing cell to its finding', async () => {
    const file = join(dir, 'matrix.html');
    const r = await runCli([
      'compare',
      'head-walk-wrong-deactivation',
      'happy-sgi',
      '--designs',
      'V2,V3',
      '--html',
      file,
    ]);
    assert.equal(r.code, 0);
    const html = readFileSync(file, 'utf8');
    const links = [...html.matchAll(/<a href="#(cell-\d+)">/g)].map((m) => m[1]);
    assert.ok(links.length >= 1);
    for (const id of links) assert.match(html, new RegExp(`<section class="finding" id="${id}">`));
    assert.match(html, /<td class="clean"[^>]*>ok \d+/);
  });
});
