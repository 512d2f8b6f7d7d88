// The entry of the bundled worker thread (copied to dist/worker.mjs by scripts/build.mjs). It runs
// dist/worker.cjs as a script compiled with V8's code cache, dist/worker.cjs.cache: parsing and
// compiling the 1.5 MB bundle is most of vgic-lab's start-up, and the cache lets V8 skip it. A cache
// that does not fit (another Node version, a new bundle) is ignored by V8 and written again after the
// command; where dist/ is read-only, the bundle simply runs without one.
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import vm from 'node:vm';

const file = fileURLToPath(new URL('./worker.cjs', import.meta.url));
const cacheFile = `${file}.cache`;
let cachedData;
try {
  cachedData = readFileSync(cacheFile);
} catch {
  cachedData = undefined;
}
const params = 'exports, require, module, __filename, __dirname, __vgicLabUrl';
const script = new vm.Script(`(function (${params}) {${readFileSync(file, 'utf8')}\n})`, {
  filename: file,
  cachedData,
});
globalThis.__vgicLabImport = (specifier) => import(specifier);
const mod = { exports: {} };
script.runInThisContext()(
  mod.exports,
  createRequire(file),
  mod,
  file,
  dirname(file),
  pathToFileURL(file).href,
);
await mod.exports.done;
if (cachedData === undefined || script.cachedDataRejected) {
  // After the command, so that the functions it compiled lazily are in the cache too.
  try {
    const tmp = `${cacheFile}.${process.pid}`;
    writeFileSync(tmp, script.createCachedData());
    renameSync(tmp, cacheFile);
  } catch {
    // A read-only installation: no cache.
  }
}
