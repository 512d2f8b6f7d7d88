// The HTML report in a real headless Chromium (Debian's package, driven by playwright-core). Skipped,
// with the reason, where no Chromium is installed: scripts/install-browser.sh installs it.
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { type Browser, chromium, type Page } from 'playwright-core';
import { findChromium } from '../../scripts/browser.ts';
import { runCli } from '../fuzz/run.ts';

const executable = findChromium();
const skip = executable
  ? false
  : 'no Chromium found ($VGIC_LAB_CHROMIUM, /usr/bin/chromium): run scripts/install-browser.sh to run the browser tests';

/** A page of the report with every console error and uncaught exception collected. */
async function open(browser: Browser, file: string): Promise<{ page: Page; errors: string[] }> {
  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  const errors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') errors.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('dialog', (d) => {
    errors.push(`a dialog opened: ${d.message()}`);
    void d.dismiss();
  });
  await page.goto(pathToFileURL(file).href);
  // The script has run once the first trace's panel is filled.
  await page.locator('.trace .panel h3').first().waitFor();
  return { page, errors };
}

describe('HTML report in Chromium', { skip }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'vgic-browser-'));
  let browser: Browser;
  const seed = join(dir, 'seed.html');

  before(async () => {
    browser = await chromium.launch({ executablePath: executable!, chromiumSandbox: false });
    const r = await runCli(['check', 'lpi-disable-vs-eoicount-replay', '--design', 'V3', '--html', seed]);
    assert.equal(r.code, 1, r.err);
  });
  after(async () => {
    await browser?.close();
  });

  it('loads without console errors, with one lane per CPU and the firing step marked and selected', async () => {
    const { page, errors } = await open(browser, seed);
    const trace = page.locator('#finding-1 .trace');
    assert.deepEqual(await trace.locator('thead th').allTextContents(), ['step', 'CPU 0/KVM', 'CPU 1/KVM']);
    const firing = trace.locator('tr.firing');
    assert.equal(await firing.count(), 1);
    assert.match(await firing.innerText(), /Unable to handle kernel paging request in vgic_v3_fold_lr_state/);
    assert.equal(await firing.getAttribute('aria-selected'), 'true');
    const s = await firing.getAttribute('data-s');
    assert.equal(await trace.locator('.panel h3').first().innerText(), `Step ${s} on CPU 0/KVM`);
    // The state as of the firing step is the state printed under the report.
    const printed = (await page.locator('#finding-1 details pre').textContent())!.trim();
    assert.equal((await trace.locator('.panel pre.state').innerText()).trim(), printed);
    assert.deepEqual(errors, []);
  });

  it('folds lock-only steps, and unfolds them one run at a time or all at once', async () => {
    const { page, errors } = await open(browser, seed);
    const trace = page.locator('#finding-1 .trace');
    const hidden = trace.locator('tr.step[hidden]');
    const folded = await hidden.count();
    assert.ok(folded > 0);
    const first = trace.locator('tr.fold button').first();
    const g = await trace.locator('tr.fold').first().getAttribute('data-g');
    await first.click();
    assert.equal(await first.getAttribute('aria-expanded'), 'true');
    assert.equal(await trace.locator(`tr.step[data-g="${g}"][hidden]`).count(), 0);
    assert.ok(await trace.locator(`tr.step[data-g="${g}"]`).first().isVisible());
    assert.ok((await hidden.count()) < folded);
    await trace.locator('input.every-step').check();
    assert.equal(await hidden.count(), 0);
    await trace.locator('input.every-step').uncheck();
    assert.equal(await hidden.count(), folded);
    assert.deepEqual(errors, []);
  });

  it("selecting list_del's step shows its writes, the locks held and the LPI leaving vCPU 0's AP list", async () => {
    const { page, errors } = await open(browser, seed);
    const trace = page.locator('#finding-1 .trace');
    const row = trace.locator('tr.step', { hasText: 'list_del(LPI 8195.ap_list)' });
    await row.click();
    const s = Number(await row.getAttribute('data-s'));
    const panel = trace.locator('.panel');
    assert.equal(await panel.locator('h3').first().innerText(), `Step ${s} on CPU 1/KVM`);
    assert.match(await panel.innerText(), /LPI 8195: ap_list\.next/);
    // Removed from vCPU 0's AP list in this step: a deleted line of the state.
    assert.match(
      await panel
        .locator('pre.state del')
        .allInnerTexts()
        .then((t) => t.join('\n')),
      /^ {4}LPI 8195 /m,
    );
    // Walking back one step: the LPI is still on the list, and CPU 1 holds vCPU 0's ap_list_lock.
    await page.keyboard.press('ArrowUp');
    assert.equal(await panel.locator('h3').first().innerText(), `Step ${s - 1} on CPU 1/KVM`);
    assert.equal(await trace.getAttribute('data-selected'), String(s - 1));
    const state = await panel.locator('pre.state').innerText();
    assert.match(state.slice(0, state.indexOf('vCPU 1:')), /^ {4}LPI 8195 /m);
    assert.match(await panel.innerText(), /CPU 1\/KVM: .*&vgic_cpu->ap_list_lock \(vcpu 0\)/);
    assert.deepEqual(errors, []);
  });

  it('a scenario whose path reads like markup stays text: no script runs, no element appears', async () => {
    // Scenario names are lower-case words; the path, shown in the head, the trailer and the replay
    // command, can hold anything.
    const evil = join(dir, 'x<img src=x onerror=window.__xss=1><svg onload="window.__xss=2">.yaml');
    copyFileSync(join('scenarios', 'head-walk-wrong-deactivation.yaml'), evil);
    const file = join(dir, 'evil.html');
    const r = await runCli(['check', evil, '--design', 'V2', '--html', file]);
    assert.equal(r.code, 1, r.err);
    const { page, errors } = await open(browser, file);
    assert.equal(await page.evaluate(() => (window as { __xss?: number }).__xss), undefined);
    assert.equal(await page.locator('img, svg').count(), 0);
    assert.equal(await page.locator('script').count(), 2);
    assert.match(await page.locator('h1').innerText(), /x<img src=x onerror=window.__xss=1><svg/);
    assert.match(await page.locator('.replay code').first().innerText(), /<svg onload="window\.__xss=2">/);
    assert.deepEqual(errors, []);
  });

  it("compare's matrix links each failing cell to its finding, and the legend explains every code", async () => {
    const file = join(dir, 'matrix.html');
    const r = await runCli([
      'compare',
      'head-walk-wrong-deactivation',
      'lpi-disable-vs-eoicount-replay',
      '--designs',
      'V2,V3',
      '--html',
      file,
    ]);
    assert.equal(r.code, 0, r.err);
    const { page, errors } = await open(browser, file);
    const cells = page.locator('table.matrix tbody td');
    assert.equal(await cells.count(), 4);
    const codes = new Set((await cells.allInnerTexts()).map((t) => t.split(' ')[0]));
    const legend = (await page.locator('ul.legend b').allInnerTexts()).map((t) => t.trim());
    for (const code of codes) assert.ok(legend.includes(code), `${code} is not in the legend`);
    const links = page.locator('table.matrix a');
    assert.ok((await links.count()) >= 2);
    await links.first().click();
    const id = (await links.first().getAttribute('href'))!.slice(1);
    assert.equal(await page.evaluate(() => location.hash), `#${id}`);
    assert.ok(await page.locator(`section#${id} .trace tr.firing`).isVisible());
    assert.deepEqual(errors, []);
  });
});
