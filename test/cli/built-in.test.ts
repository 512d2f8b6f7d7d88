import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { type BuiltInTable, builtIn, builtInEntry } from '../../src/cli/built-in.ts';
import { catalogueDir, catalogueNames } from '../../src/cli/resolve.ts';
import { loadScenarioFile } from '../../src/scenario/load.ts';
import { runCli } from '../fuzz/run.ts';

const tmp = mkdtempSync(join(tmpdir(), 'vgic-lab-built-in-'));
const fileOf = (name: string) => join(catalogueDir(), `${name}.yaml`);

/** The table as the build writes it: every catalogue file read, through JSON. */
function table(): BuiltInTable {
  const t: BuiltInTable = {};
  for (const name of catalogueNames()) t[name] = builtInEntry(loadScenarioFile(fileOf(name)));
  return JSON.parse(JSON.stringify(t));
}

describe('the catalogue as the build read it', () => {
  it('every catalogue scenario comes out of the table exactly as reading its file gives it', () => {
    const t = table();
    assert.ok(catalogueNames().length > 30);
    for (const name of catalogueNames()) {
      const file = fileOf(name);
      assert.deepEqual(builtIn(name, file, t), loadScenarioFile(file), name);
    }
  });

  it('an entry stands only for the text it was read from: an edited file is read again', () => {
    const t = table();
    const name = 'lpi-disable-vs-eoicount-replay';
    const copy = join(tmp, `${name}.yaml`);
    copyFileSync(fileOf(name), copy);
    assert.ok(builtIn(name, copy, t), 'the same text');
    writeFileSync(copy, `# edited\n${readFileSync(fileOf(name), 'utf8')}`);
    assert.equal(builtIn(name, copy, t), null);
    assert.equal(builtIn('no-such-scenario', copy, t), null);
    assert.equal(builtIn(name, join(tmp, 'missing.yaml'), t), null);
  });

  it('the installed command gives for a catalogue name what the sources, reading the file, give', async () => {
    const args = ['check', 'lpi-disable-vs-eoicount-replay', '--design', 'V3', '--json'];
    const installed = spawnSync(process.execPath, ['bin/vgic-lab.mjs', ...args], { encoding: 'utf8' });
    const sources = await runCli(args);
    assert.equal(installed.status, 1, installed.stderr);
    assert.equal(installed.stdout, sources.out);
  });
});
