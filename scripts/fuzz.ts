// npm run fuzz [-- RUNS [SEED]]: the fuzzer of test/fuzz.test.ts with many more cases (default 2,000
// generated and 2,000 mutated files) and a fresh seed unless one is given. A failure prints the seed
// and the shrunk file; `npm run fuzz -- RUNS SEED` reproduces it.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { fuzzScenario, problem, runCli, yamlOf } from '../test/fuzz/run.ts';
import { fuzzFile, mutation } from '../test/fuzz/scenarios.ts';

const runs = Number(process.argv[2] ?? 2000);
const seed = Number(process.argv[3] ?? Date.now() % 0x7fffffff);
const dir = mkdtempSync(join(tmpdir(), 'vgic-lab-fuzz-'));
process.stderr.write(`fuzzing ${runs} generated and ${runs} mutated files, seed ${seed}\n`);

const generated = await fc.check(
  fc.asyncProperty(fuzzFile, async (f) => (await fuzzScenario(yamlOf(f), dir)) === null),
  { numRuns: runs, seed },
);
const mutated = await fc.check(
  fc.asyncProperty(fuzzFile, fc.array(mutation, { minLength: 1, maxLength: 3 }), async (f, edits) => {
    const file = join(dir, 'mutated.yaml');
    writeFileSync(
      file,
      edits.reduce((t, e) => e(t), yamlOf(f)),
    );
    return problem(['run', file], await runCli(['run', file])) === null;
  }),
  { numRuns: runs, seed },
);
// defaultReportMessage wants one run's own type, hence one call each.
const g = fc.defaultReportMessage(generated);
if (g) process.stderr.write(`generated: failed (seed ${seed}):\n${g}\n`);
const m = fc.defaultReportMessage(mutated);
if (m) process.stderr.write(`mutated: failed (seed ${seed}):\n${m}\n`);
process.stderr.write(generated.failed || mutated.failed ? 'fuzz: FAILED\n' : 'fuzz: no crash\n');
process.exitCode = generated.failed || mutated.failed ? 1 : 0;
