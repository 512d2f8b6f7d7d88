import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { contentHash } from '../scenario/hash.ts';
import type { LoadedScenario } from '../scenario/load.ts';
import type { ScenarioSpec } from '../scenario/schema.ts';

/**
 * The catalogue as the build read it. Reading a scenario file means YAML, zod and the checks of
 * load.ts, about a tenth of a short check's time with the modules they load; `npm run prepare`
 * (scripts/built-in.ts) does it once for every catalogue file and writes what it got next to the
 * bundle, dist/catalogue.json. An entry is used only for a file whose text still has the hash it was
 * read with: an edited catalogue file is read again. Run from the sources there is no such file, and
 * every scenario is read.
 */
export interface BuiltInScenario {
  hash: string;
  spec: ScenarioSpec;
  /** Where the prologue's steps are in the file (LoadedScenario.source). */
  prologue: { line: number; col: number }[];
}

export type BuiltInTable = Record<string, BuiltInScenario>;

export const BUILT_IN_NAME = 'catalogue.json';

let table: BuiltInTable | null | undefined;

function tableNextToBundle(): BuiltInTable | null {
  const file = fileURLToPath(new URL(`./${BUILT_IN_NAME}`, import.meta.url));
  if (!existsSync(file)) return null;
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as BuiltInTable;
  } catch {
    // A damaged table costs time, not correctness: the files are read instead.
    return null;
  }
}

/** The catalogue scenario `name`, whose file is `file`, as the build read it; null when it must be read. */
export function builtIn(name: string, file: string, from?: BuiltInTable): LoadedScenario | null {
  if (from === undefined && table === undefined) table = tableNextToBundle();
  const entry = (from ?? table)?.[name];
  if (!entry) return null;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return null;
  }
  if (contentHash(text) !== entry.hash) return null;
  const spec = structuredClone(entry.spec);
  return { spec, explore: spec.explore, source: { file, prologue: entry.prologue }, file, hash: entry.hash };
}

/** The table entry of a scenario as loaded from its file. */
export function builtInEntry(s: LoadedScenario): BuiltInScenario {
  return { hash: s.hash, spec: s.spec, prologue: s.source.prologue };
}
