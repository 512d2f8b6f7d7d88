// Node 20's test runner does not expand globs: list every test file explicitly so CI never runs zero tests.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

function collect(dir) {
  const out = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...collect(p));
    else if (name.endsWith('.test.ts')) out.push(p);
  }
  return out;
}

const files = collect('test');
if (files.length === 0) {
  console.error('no test files found under test/');
  process.exit(1);
}
// --full (npm run test:full) adds the long explorations the quick tier leaves out (test/tier.ts).
const full = process.argv.includes('--full');
const r = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-reporter=tap', ...files], {
  stdio: 'inherit',
  // One job unless a test asks for more: test files run side by side already.
  env: { VGIC_LAB_JOBS: '1', ...process.env, VGIC_LAB_TESTS: full ? 'full' : 'quick' },
});
process.exit(r.status ?? 1);
