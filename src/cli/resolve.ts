import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve as resolvePath } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TokenTarget } from '../report/token.ts';
import { closest, type LoadedScenario, loadScenarioFile } from '../scenario/load.ts';
import { DesignExpressionError, parseDesignExpression } from '../vgic/design-expr.ts';
import { DESIGNS, type Design } from '../vgic/designs.ts';
import { UsageError } from './errors.ts';

/** The package root (where scenarios/ lives), found from this module whether bundled or not. */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    const pj = join(dir, 'package.json');
    if (existsSync(pj) && JSON.parse(readFileSync(pj, 'utf8')).name === 'vgic-lab') return dir;
    dir = dirname(dir);
  }
  return process.cwd();
}

/** The version in package.json. */
export function packageVersion(): string {
  const pj = join(packageRoot(), 'package.json');
  return existsSync(pj) ? String(JSON.parse(readFileSync(pj, 'utf8')).version) : 'unknown';
}

export function catalogueDir(): string {
  return join(packageRoot(), 'scenarios');
}

export interface CatalogueEntry {
  name: string;
  description: string;
  file: string;
}

export function catalogueEntries(): CatalogueEntry[] {
  const dir = catalogueDir();
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .map((f) => {
      const text = readFileSync(join(dir, f), 'utf8');
      const desc = /^description: (.*)$/m.exec(text)?.[1] ?? '';
      return { name: f.replace(/\.yaml$/, ''), description: desc, file: join(dir, f) };
    });
}

/**
 * A design by id, alias or design expression (`V3-PRUNE_CHECK_STILL_OURS`); an unknown one names the
 * closest valid design and lists the valid names.
 */
export function resolveDesign(name: string): Design {
  try {
    return parseDesignExpression(name);
  } catch (e) {
    if (!(e instanceof DesignExpressionError)) throw e;
    if (!/^unknown design/.test(e.message)) throw new UsageError(e.message, e.hint);
    const all = DESIGNS.flatMap((x) => [x.id, ...x.aliases]);
    const near = closest(name, all);
    throw new UsageError(
      `unknown design "${name}"${near ? `; did you mean "${near}"?` : ''}`,
      `designs: ${DESIGNS.map((x) => `${x.id} (${x.aliases.join(', ')})`).join('; ')}; add +NAME or -NAME to turn a field or fix switch on or off (vgic-lab list designs)`,
    );
  }
}

/**
 * A resolved scenario: the loaded file, how reports name it (`ref`: a catalogue name, or a path
 * relative to the working directory when it is below it) and how replay tokens name it (`tokenRef`:
 * a catalogue name or an absolute path, valid from any directory).
 */
export interface ResolvedScenario {
  loaded: LoadedScenario;
  ref: string;
  tokenRef: string;
}

/** A scenario by catalogue name or by path. */
export function resolveScenario(ref: string): ResolvedScenario {
  const looksLikePath = ref.includes('/') || ref.endsWith('.yaml') || ref.endsWith('.yml');
  if (!looksLikePath) {
    const entry = catalogueEntries().find((e) => e.name === ref.toLowerCase());
    if (entry) return { loaded: loadScenarioFile(entry.file), ref: entry.name, tokenRef: entry.name };
    if (!existsSync(ref)) {
      const names = catalogueEntries().map((e) => e.name);
      const near = closest(ref, names);
      throw new UsageError(
        `unknown scenario "${ref}"${near ? `; did you mean "${near}"?` : ''}`,
        `give a scenario file path or a catalogue name (vgic-lab list scenarios); e.g. ${names.slice(0, 3).join(', ')}`,
      );
    }
  }
  const abs = resolvePath(ref);
  const rel = relative(process.cwd(), abs) || ref;
  const shown = rel.startsWith('..') ? abs : rel;
  return { loaded: loadScenarioFile(shown), ref: shown, tokenRef: abs };
}

/** Where a replay token of this scenario and design points. */
export function tokenTarget(s: ResolvedScenario, d: Design): TokenTarget {
  return { design: d.id, scenario: s.tokenRef, hash: s.loaded.hash };
}
