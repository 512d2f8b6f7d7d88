// npm run baseline: records what every catalogue cell (scenario × design) produces — check's verdict,
// execution and step counts, findings and replay tokens, and digests of check's and run's JSON — in
// test/baseline/catalogue.json, which test/baseline.test.ts compares against. Re-record only when a
// change is meant to alter behaviour, and say so in its commit.
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { cell, cellNames } from '../test/baseline/cells.ts';

const cells = [];
for (const n of cellNames()) cells.push(await cell(n.scenario, n.design));
writeFileSync('test/baseline/catalogue.json', `${JSON.stringify(cells, null, 2)}\n`);
// In the project's format, so that npm run lint stays clean after a re-record.
spawnSync('npx', ['biome', 'format', '--write', 'test/baseline/catalogue.json'], { stdio: 'inherit' });
process.stderr.write(`recorded ${cells.length} cells in test/baseline/catalogue.json\n`);
