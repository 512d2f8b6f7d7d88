// npm run catalogue: writes scenarios/<name>.yaml for every catalogue scenario (generated; do not edit).
import { mkdirSync, readdirSync, unlinkSync, writeFileSync } from 'node:fs';
import { catalogue, fileHeader } from '../src/scenario/catalogue/index.ts';
import { dumpScenario } from '../src/scenario/dump.ts';

const dir = 'scenarios';
mkdirSync(dir, { recursive: true });
const names = new Set<string>();
for (const s of catalogue()) {
  writeFileSync(`${dir}/${s.name.toLowerCase()}.yaml`, dumpScenario(s, fileHeader(s)));
  names.add(`${s.name.toLowerCase()}.yaml`);
}
for (const f of readdirSync(dir)) if (f.endsWith('.yaml') && !names.has(f)) unlinkSync(`${dir}/${f}`);
console.log(`wrote ${names.size} scenarios to ${dir}/`);
