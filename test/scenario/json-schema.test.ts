import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { parse } from 'yaml';
import {
  KEYS_BEGIN,
  KEYS_END,
  keyTable,
  MODELINE,
  SCHEMA_FILE,
  scenarioJsonSchema,
} from '../../src/scenario/json-schema.ts';

const catalogue = readdirSync('scenarios')
  .filter((f) => f.endsWith('.yaml'))
  .map((f) => join('scenarios', f));

/** A validator as an editor's language server applies the schema. */
function validator() {
  const ajv = new Ajv2020({ allErrors: true, strict: false });
  return ajv.compile(JSON.parse(readFileSync(SCHEMA_FILE, 'utf8')));
}

describe('the JSON Schema of scenario files', () => {
  it('is the zod schema as it is now (npm run schema writes it)', () => {
    assert.deepEqual(JSON.parse(readFileSync(SCHEMA_FILE, 'utf8')), scenarioJsonSchema());
  });

  it('every catalogue file names it on its first line and is valid against it', () => {
    const valid = validator();
    assert.ok(catalogue.length > 30);
    for (const f of catalogue) {
      const text = readFileSync(f, 'utf8');
      assert.equal(text.split('\n')[0], MODELINE, f);
      assert.ok(valid(parse(text)), `${f}: ${JSON.stringify(valid.errors)}`);
    }
  });

  it('marks what vgic-lab refuses: an unknown key, a value out of range, a wrong type, a missing key', () => {
    const valid = validator();
    const base = parse(readFileSync('scenarios/lpi-disable-vs-eoicount-replay.yaml', 'utf8'));
    const broken = (change: (s: Record<string, unknown>) => void) => {
      const s = structuredClone(base);
      change(s);
      assert.equal(valid(s), false, JSON.stringify(s).slice(0, 80));
      return valid.errors ?? [];
    };
    const typo = broken((s) => {
      (s.interrupts as Record<string, unknown>[])[0].prority = 0x10;
    });
    assert.ok(typo.some((e) => e.keyword === 'additionalProperties' && e.instancePath === '/interrupts/0'));
    const range = broken((s) => {
      (s.interrupts as Record<string, unknown>[])[0].priority = 300;
    });
    assert.ok(range.some((e) => e.keyword === 'maximum' && e.instancePath === '/interrupts/0/priority'));
    const type = broken((s) => {
      (s.vm as Record<string, unknown>).its = 'yes';
    });
    assert.ok(type.some((e) => e.keyword === 'type' && e.instancePath === '/vm/its'));
    const missing = broken((s) => {
      delete s.actors;
    });
    assert.ok(missing.some((e) => e.keyword === 'required'));
    const action = broken((s) => {
      (s.actors as { guest: Record<string, unknown>[] }[])[0].guest[0] = { op: 'eio' };
    });
    assert.ok(action.length > 0);
  });

  it('docs/scenarios.md lists every key as the schema has it', () => {
    const doc = readFileSync('docs/scenarios.md', 'utf8');
    const from = doc.indexOf(KEYS_BEGIN) + KEYS_BEGIN.length;
    assert.equal(doc.slice(from, doc.indexOf(KEYS_END)).trim(), keyTable());
    for (const key of [
      'vm.nrLr',
      'interrupts[].lpi.collection',
      'GuestStep (op: sgi).targets',
      'explore.maxSteps',
    ])
      assert.ok(keyTable().includes(`\`${key}\``), key);
  });
});
