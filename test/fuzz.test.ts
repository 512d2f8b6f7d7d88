import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { fuzzScenario, problem, runCli, yamlOf } from './fuzz/run.ts';
import { fuzzFile, mutation } from './fuzz/scenarios.ts';

/**
 * The fuzzer, a bounded number of cases (more with `npm run fuzz`): no generated scenario crashes
 * `run` or a short `check` on V3 and V4b, and every mutated file either loads or is refused with
 * exit 2 and its position. The seeds are fixed, so a failure here fails the same way every time.
 */
const dir = mkdtempSync(join(tmpdir(), 'vgic-lab-fuzz-'));

describe('fuzzing scenario files', () => {
  it('generated scenarios: run and check never crash', async () => {
    await fc.assert(
      fc.asyncProperty(fuzzFile, async (f) => {
        const p = await fuzzScenario(yamlOf(f), dir);
        assert.equal(p, null, p ?? '');
      }),
      { numRuns: 80, seed: 20261202 },
    );
  });

  it('mutated files: exit 2 with file:line:column, or they load', async () => {
    await fc.assert(
      fc.asyncProperty(fuzzFile, fc.array(mutation, { minLength: 1, maxLength: 3 }), async (f, edits) => {
        const text = edits.reduce((t, e) => e(t), yamlOf(f));
        const args = ['run', join(dir, 'mutated.yaml')];
        writeFileSync(args[1], text);
        const r = await runCli(args);
        const p = problem(args, r);
        assert.equal(p, null, `${p}\n--- mutated file:\n${text}`);
      }),
      { numRuns: 150, seed: 20261203 },
    );
  });
});
