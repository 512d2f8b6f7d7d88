/**
 * Design files (docs/designs.md, "Design files"): a patch idea as YAML — a base design, the fields and
 * fix switches it changes, a name, a description and a reference — checked like a scenario file, with
 * file:line:column for every problem.
 */
import { readFileSync, statSync } from 'node:fs';
import { z } from 'zod';
import {
  applyChanges,
  changesFrom,
  DESIGN_TOGGLES,
  DesignExpressionError,
  FIX_SWITCHES,
  parseDesignExpression,
} from '../vgic/design-expr.ts';
import type { Design } from '../vgic/designs.ts';
import { ScenarioError } from './error.ts';
import { contentHash } from './hash.ts';
import { fromZod, MAX_FILE_BYTES, Positions, readYaml } from './load.ts';

const settings = (names: readonly string[]) =>
  z.strictObject(Object.fromEntries(names.map((n) => [n, z.boolean().optional()]))).default({});

export const designFileSchema = z.strictObject({
  name: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, { error: 'a design name is letters, digits, dots, dashes and _' }),
  description: z.string(),
  reference: z.string().default(''),
  base: z.string({
    error: 'the base is a design id, alias or expression (V3, locked-fold, V4b-deferNotify)',
  }),
  version: z.string().optional(),
  fields: settings(DESIGN_TOGGLES),
  switches: settings(FIX_SWITCHES),
});

/** Parses a design file's text; every problem is a ScenarioError with its position. */
export function parseDesignFile(text: string, file: string): Design {
  const pos = new Positions(file, text, designFileSchema, 'docs/designs.md');
  const data = readYaml(pos, 'design file', '"name:", "description:" and "base:"');
  const r = designFileSchema.safeParse(data);
  if (!r.success) throw fromZod(pos, r.error.issues, data);
  const f = r.data;
  let base: Design;
  try {
    base = parseDesignExpression(f.base);
  } catch (e) {
    if (!(e instanceof DesignExpressionError)) throw e;
    throw pos.error(['base'], e.message, e.hint);
  }
  const changes = changesFrom(base, f.fields, f.switches);
  let design: Design;
  try {
    design = applyChanges(base, changes, f.name);
  } catch (e) {
    if (!(e instanceof DesignExpressionError)) throw e;
    // The changes as a whole are inconsistent: point at the first one the file writes.
    const first = changes[0];
    const group = (DESIGN_TOGGLES as readonly string[]).includes(first?.name ?? '') ? 'fields' : 'switches';
    const path = first ? [group, first.name] : ['base'];
    throw pos.error(path, e.message.replace(`${f.name} is not`, 'the result is not'), e.hint);
  }
  return {
    ...design,
    description: f.description,
    reference: f.reference,
    version: f.version ?? base.version,
    file: { path: file, hash: contentHash(text) },
  };
}

/** Reads and parses a design file (a regular file of at most 1 MiB, as scenario files). */
export function loadDesignFile(path: string): Design {
  const refuse = (what: string) =>
    new ScenarioError(path, 1, 1, '', what, 'give the path of a .yaml design file (docs/designs.md)');
  let text: string;
  try {
    const st = statSync(path);
    if (!st.isFile()) throw refuse('is not a regular file');
    if (st.size > MAX_FILE_BYTES) throw refuse('is larger than 1 MiB; a design file is a few lines');
    text = readFileSync(path, 'utf8');
  } catch (e) {
    if (e instanceof ScenarioError) throw e;
    throw refuse(`cannot be read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  return parseDesignFile(text, path);
}
