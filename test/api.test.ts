import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
// By the package's name, as a user's project imports it: the built library (dist/api.mjs).
import {
  check,
  compare,
  designs,
  loadDesign,
  loadScenario,
  replay,
  ScenarioError,
  UsageError,
} from 'vgic-lab';
import { runCli } from './fuzz/run.ts';

const tmp = mkdtempSync(join(tmpdir(), 'vgic-lab-api-'));

async function cli(...args: string[]) {
  const r = await runCli([...args, '--json']);
  return { code: r.code, doc: JSON.parse(r.out) };
}

describe('the library API (import … from "vgic-lab")', () => {
  it('check returns the document of check --json, with failed as the exit status says', async () => {
    const args = ['check', 'lpi-disable-vs-eoicount-replay', '--design', 'V3'];
    const { code, doc } = await cli(...args, '--jobs', '1');
    const { failed, ...api } = await check('lpi-disable-vs-eoicount-replay', { design: 'V3' });
    assert.equal(JSON.stringify(api), JSON.stringify(doc));
    assert.equal(failed, code === 1);
    assert.equal(failed, true);
    const clean = await check('happy-sgi', { design: 'V3', maxExecutions: 20 });
    assert.equal(clean.failed, false);
  });

  it('replay and compare return what replay --json and compare --json print', async () => {
    const first = (await check('lpi-disable-vs-eoicount-replay', { design: 'V3' })).findings[0];
    assert.equal(
      JSON.stringify(await replay(first.token)),
      JSON.stringify((await cli('replay', first.token)).doc),
    );
    const args = ['happy-sgi', 'head-walk-wrong-deactivation'];
    const matrix = await compare(args, { designs: ['V2', 'V3'], maxExecutions: 40 });
    const printed = (await cli('compare', ...args, '--designs', 'V2,V3', '--max-executions', '40')).doc;
    assert.equal(JSON.stringify(matrix), JSON.stringify(printed));
  });

  it('loadScenario, loadDesign and designs', async () => {
    const s = await loadScenario('lpi-disable-vs-eoicount-replay');
    assert.equal(s.loaded.spec.vm.vcpus, 2);
    assert.match(s.loaded.hash, /^[0-9a-f]{8}$/);
    assert.equal((await loadDesign('locked-fold')).id, 'V4b');
    assert.deepEqual(
      designs.map((d) => d.id),
      ['V0', 'V1', 'V2', 'V3', 'V4a', 'V4b', 'V5'],
    );
  });

  it('bad input throws what the command reports with exit 2, and prints nothing', async () => {
    await assert.rejects(
      check('happy-sgi', { design: 'V9' }),
      (e) => e instanceof UsageError && /unknown design "V9"/.test(e.message),
    );
    await assert.rejects(check('no-such-scenario'), UsageError);
    const bad = join(tmp, 'bad.yaml');
    writeFileSync(
      bad,
      'name: bad\ndescription: x\nvm: {vcpus: 1, nrLr: 4}\nactors:\n  - {vcpu: 0, guest: [{op: eio}]}\n',
    );
    await assert.rejects(
      check(bad),
      (e) => e instanceof ScenarioError && e.line === 5 && /unknown guest action/.test(e.message),
    );
    await assert.rejects(replay('V3@happy-sgi@S1.zz.00000000'), UsageError);
  });

  it("docs/api.md's example test type-checks against the declarations and passes", () => {
    const code = [...readFileSync('docs/api.md', 'utf8').matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]);
    const example = code.find((c) => c.includes("from 'node:test'"));
    assert.ok(example, 'an example test in docs/api.md');
    const project = join(tmp, 'project');
    mkdirSync(join(project, 'node_modules'), { recursive: true });
    symlinkSync(resolve('.'), join(project, 'node_modules', 'vgic-lab'), 'dir');
    writeFileSync(join(project, 'package.json'), '{ "type": "module" }\n');
    writeFileSync(
      join(project, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          target: 'ES2022',
          strict: true,
          noEmit: true,
          skipLibCheck: true,
          types: ['node'],
          typeRoots: [resolve('node_modules/@types')],
        },
      }),
    );
    writeFileSync(join(project, 'fix.test.ts'), example);
    const tsc = spawnSync(process.execPath, [resolve('node_modules/typescript/bin/tsc'), '-p', project], {
      encoding: 'utf8',
    });
    assert.equal(tsc.status, 0, tsc.stdout + tsc.stderr);
    const run = spawnSync(
      process.execPath,
      [
        '--import',
        pathToFileURL(resolve('node_modules/tsx/dist/loader.mjs')).href,
        '--test',
        '--test-reporter=tap',
        'fix.test.ts',
      ],
      {
        cwd: project,
        encoding: 'utf8',
        // A test run of its own, not a child of this one.
        env: Object.fromEntries(Object.entries(process.env).filter(([k]) => k !== 'NODE_TEST_CONTEXT')),
      },
    );
    assert.equal(run.status, 0, run.stdout + run.stderr);
    assert.match(run.stdout, /# pass 2/);
  });
});
