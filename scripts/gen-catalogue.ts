// npm run catalogue: writes scenarios/<name>.yaml for every catalogue scenario (generated; do not edit).
import { mkdirSync, readdirSync, unlinkSync, writeFileSync } from 'node:fs';
import { catalogue } from '../src/scenario/catalogue/index.ts';
import { dumpScenario } from '../src/scenario/dump.ts';

const dir = 'scenarios';
mkdirSync(dir, { recursive: true });
const names = new Set<string>();
for (const s of catalogue()) {
  const header = `# ${s.name}: generated from src/scenario/catalogue by "npm run catalogue"; copy it to write your own.\n`;
  writeFileSync(`${dir}/${s.name.toLowerCase()}.yaml`, dumpScenario(s, header));
  names.add(`${s.name.toLowerCase()}.yaml`);
}
for (const f of readdirSync(dir)) if (f.endsWith('.yaml') && !names.has(f)) unlinkSync(`${dir}/${f}`);
console.log(`wrote ${names.size} scenarios to ${dir}/`);
