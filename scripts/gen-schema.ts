// npm run schema: writes the JSON Schema of scenario files (schema/scenario.schema.json) and the key
// table of docs/scenarios.md, both from the zod schema (src/scenario/json-schema.ts).
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import {
  KEYS_BEGIN,
  KEYS_END,
  keyTable,
  SCHEMA_FILE,
  scenarioJsonSchema,
} from '../src/scenario/json-schema.ts';

mkdirSync(dirname(SCHEMA_FILE), { recursive: true });
writeFileSync(SCHEMA_FILE, `${JSON.stringify(scenarioJsonSchema(), null, 2)}\n`);
const doc = 'docs/scenarios.md';
const text = readFileSync(doc, 'utf8');
const from = text.indexOf(KEYS_BEGIN);
const to = text.indexOf(KEYS_END);
if (from < 0 || to < from) throw new Error(`${doc} has no ${KEYS_BEGIN} … ${KEYS_END} section`);
writeFileSync(doc, `${text.slice(0, from + KEYS_BEGIN.length)}\n${keyTable()}\n${text.slice(to)}`);
console.log(`wrote ${SCHEMA_FILE} and the key table of ${doc}`);
