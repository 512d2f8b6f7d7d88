// `npm run prepare`: the CLI bundle. dist/main.mjs is the main thread (ESM); the worker is a CommonJS
// bundle, dist/worker.cjs, run by dist/worker.mjs through V8's code cache (scripts/worker-loader.mjs).
// A warm-up command writes the cache, so that the first real command starts fast too. Then the library
// (dist/api.mjs, dist/types/) and the catalogue as read now (dist/catalogue.json).
import { spawnSync } from 'node:child_process';
import { copyFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');
const common = { bundle: true, platform: 'node', logLevel: 'warning', external: ['esbuild', 'typescript'] };
/** An ES module bundle `src` → `out`; the bundled CommonJS packages get a `require`. */
const esm = (src, out) =>
  build({
    ...common,
    entryPoints: [join(root, src)],
    format: 'esm',
    outfile: out,
    banner: { js: "import { createRequire as __cr } from 'module'; const require = __cr(import.meta.url);" },
  });

await esm('src/cli/main.ts', join(dist, 'main.mjs'));
await build({
  ...common,
  entryPoints: [join(root, 'src/cli/worker.ts')],
  format: 'cjs',
  outfile: join(dist, 'worker.cjs'),
  // The sources are ES modules, strict throughout; the loader passes the bundle's own URL.
  banner: { js: "'use strict';" },
  define: { 'import.meta.url': '__vgicLabUrl' },
});
copyFileSync(join(root, 'scripts/worker-loader.mjs'), join(dist, 'worker.mjs'));
// The library (`import … from 'vgic-lab'`, docs/api.md) and its type declarations.
await esm('src/api.ts', join(dist, 'api.mjs'));
rmSync(join(dist, 'types'), { recursive: true, force: true });
const types = spawnSync(
  process.execPath,
  [join(root, 'node_modules/typescript/bin/tsc'), '-p', join(root, 'tsconfig.api.json')],
  { stdio: 'inherit' },
);
if (types.status !== 0)
  throw new Error('tsc -p tsconfig.api.json failed: no type declarations for the library');
// The catalogue as read now, next to the bundle (src/cli/built-in.ts).
const reader = join(dist, '.built-in.mjs');
await esm('scripts/built-in.ts', reader);
const read = spawnSync(process.execPath, [reader, join(dist, 'catalogue.json')], { stdio: 'inherit' });
rmSync(reader, { force: true });
if (read.status !== 0) throw new Error('scripts/built-in.ts failed: the catalogue table was not written');
rmSync(join(dist, 'worker.cjs.cache'), { force: true });
spawnSync(process.execPath, [join(root, 'bin/vgic-lab.mjs'), 'check', 'happy-sgi', '--quiet'], {
  stdio: 'ignore',
});
