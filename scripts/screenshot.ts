// `npm run screenshot`: docs/html-report.png, the seed race's HTML report in headless Chromium (Debian's
// package, scripts/browser.ts) with the step of CPU 1's list_del selected.
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import { findChromium } from './browser.ts';

const executable = findChromium();
if (!executable) {
  console.error(
    'screenshot: no Chromium found ($VGIC_LAB_CHROMIUM, /usr/bin/chromium); run scripts/install-browser.sh',
  );
  process.exit(1);
}
const file = join(mkdtempSync(join(tmpdir(), 'vgic-shot-')), 'seed.html');
const args = [
  'bin/vgic-lab.mjs',
  'check',
  'lpi-disable-vs-eoicount-replay',
  '--design',
  'V3',
  '--html',
  file,
  '--quiet',
];
const run = spawnSync(process.execPath, args, { stdio: 'inherit' });
if (run.status !== 1) throw new Error(`vgic-lab check exited ${run.status}, expected 1 (the seed race)`);
const browser = await chromium.launch({ executablePath: executable, chromiumSandbox: false });
const page = await browser.newPage({ viewport: { width: 1400, height: 900 }, deviceScaleFactor: 1 });
await page.goto(pathToFileURL(file).href);
const trace = page.locator('#finding-1 .trace');
await trace.locator('tr.step', { hasText: 'list_del(LPI 8195.ap_list)' }).click();
await page.evaluate(() => document.querySelector('#finding-1 h3')?.scrollIntoView());
await page.screenshot({ path: 'docs/html-report.png' });
await browser.close();
console.log('screenshot: docs/html-report.png');
