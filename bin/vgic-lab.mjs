#!/usr/bin/env node
// The vgic-lab command. Runs the bundle built by `npm ci` (prepare) when it is at least as new as every
// file under src/; otherwise runs the TypeScript sources through tsx. A bundle left behind by a pull
// without `npm ci` would otherwise give the old model's verdicts without a word.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const bundle = join(root, 'dist', 'main.mjs');
const sources = join(root, 'src');

/** The newest modification time under `dir`; a walk of about a hundred files, well under startup cost. */
function newestMtime(dir) {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    newest = Math.max(newest, e.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs);
  }
  return newest;
}

function notice(text) {
  // --quiet promises nothing but errors; a stale bundle is not one, the sources give the right answer.
  if (!process.argv.includes('--quiet')) process.stderr.write(`vgic-lab: ${text}\n`);
}

const hasBundle = existsSync(bundle);
// An installed copy without src/ has only the bundle, which is then the program.
const fresh = hasBundle && (!existsSync(sources) || statSync(bundle).mtimeMs >= newestMtime(sources));

if (fresh) {
  await import(pathToFileURL(bundle).href);
} else {
  let tsx = null;
  try {
    tsx = await import('tsx/esm/api');
  } catch {
    tsx = null;
  }
  if (tsx) {
    if (hasBundle)
      notice('dist/main.mjs is older than src/, running the sources (`npm run prepare` rebuilds it)');
    tsx.register();
    await import(pathToFileURL(join(sources, 'cli', 'main.ts')).href);
  } else if (hasBundle) {
    notice(
      'dist/main.mjs is older than src/ and tsx is not installed: running the old bundle (run `npm ci`)',
    );
    await import(pathToFileURL(bundle).href);
  } else {
    process.stderr.write('vgic-lab: neither dist/main.mjs nor tsx is installed: run `npm ci`\n');
    process.exitCode = 2;
  }
}
