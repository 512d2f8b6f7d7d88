// Run by scripts/build.mjs (bundled): reads every catalogue file as `check` would and writes the table
// that lets the bundle skip reading them (src/cli/built-in.ts) to the path given.
import { writeFileSync } from 'node:fs';
import { isDeepStrictEqual } from 'node:util';
import { builtInEntry } from '../src/cli/built-in.ts';
import { catalogueEntries } from '../src/cli/resolve.ts';
import { loadScenarioFile } from '../src/scenario/load.ts';

const table: Record<string, unknown> = {};
for (const e of catalogueEntries()) {
  let entry: unknown;
  try {
    entry = builtInEntry(loadScenarioFile(e.file));
  } catch {
    // A file that does not load is left to `check`, which reports what is wrong with it.
    continue;
  }
  // Only what JSON carries unchanged (no undefined members, no special numbers) may stand in for the file.
  if (isDeepStrictEqual(JSON.parse(JSON.stringify(entry)), entry)) table[e.name] = entry;
  else process.stderr.write(`built-in: ${e.name} does not survive JSON; it will be read each time\n`);
}
writeFileSync(process.argv[2], JSON.stringify(table));
