import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve as resolvePath } from 'node:path';
import { KconfigError, type KernelConfig, kernelSection, parseKernelConfig } from '../kernel/kconfig.ts';
import type { TokenTarget } from '../report/token.ts';
import { closest } from '../scenario/closest.ts';
import type { LoadedScenario } from '../scenario/load.ts';
import { DesignExpressionError, parseDesignExpression } from '../vgic/design-expr.ts';
import { DESIGNS, type Design } from '../vgic/designs.ts';
import { builtIn } from './built-in.ts';
import { designModule, isDesignModule } from './design-module.ts';
import { UsageError } from './errors.ts';
import { packageRoot } from './root.ts';

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

/** The names of the catalogue's scenarios, in order. */
export function catalogueNames(): string[] {
  const dir = catalogueDir();
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .map((f) => f.replace(/\.yaml$/, ''));
}

/** The catalogue's scenarios with the descriptions their files give (each file is read). */
export function catalogueEntries(): CatalogueEntry[] {
  return catalogueNames().map((name) => {
    const file = join(catalogueDir(), `${name}.yaml`);
    const desc = /^description: (.*)$/m.exec(readFileSync(file, 'utf8'))?.[1] ?? '';
    return { name, description: desc, file };
  });
}

/** A design module loaded before the command line was parsed; as a token names it, the hash must match. */
function moduleDesign(ref: string): Design {
  const d = designModule(ref);
  if (!d)
    throw new UsageError(
      `the design module ${ref.split('#')[0]} was not loaded`,
      'name it with --design or --designs',
    );
  const hash = ref.split('#')[1];
  if (hash !== undefined && d.file?.hash !== hash)
    throw new UsageError(
      `the token was made for another content of the design module ${ref.split('#')[0]} (hash ${hash}, now ${d.file?.hash})`,
      'run check again with the module as it is now',
    );
  return d;
}

function looksLikeDesignFile(name: string): boolean {
  return name.includes('/') || /\.ya?ml(#[0-9a-f]+)?$/.test(name);
}

/**
 * A design file (docs/designs.md). As a token names it, `PATH#HASH`: the file must still have the
 * content the token was made with.
 */
async function designFile(ref: string): Promise<Design> {
  const [path, hash] = ref.split('#');
  const abs = resolvePath(path);
  const rel = relative(process.cwd(), abs) || path;
  const { loadDesignFile } = await import('../scenario/design-file.ts');
  const d = loadDesignFile(rel.startsWith('..') ? abs : rel);
  if (hash !== undefined && d.file?.hash !== hash)
    throw new UsageError(
      `the token was made for another content of the design file ${path} (hash ${hash}, now ${d.file?.hash})`,
      'run check again with the design file as it is now',
    );
  return { ...d, file: d.file && { path: abs, hash: d.file.hash } };
}

/**
 * A design by id, alias or design expression (`V3-PRUNE_CHECK_STILL_OURS`); an unknown one names the
 * closest valid design and lists the valid names.
 */
export async function resolveDesign(name: string): Promise<Design> {
  if (isDesignModule(name)) return moduleDesign(name);
  if (looksLikeDesignFile(name)) return designFile(name);
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
  /** A kernel configuration given on the command line (--config), in place of the scenario's. */
  config?: KernelConfig;
}

/**
 * The scenario with the kernel configuration `text` (--config) in place of its own `kernel:`
 * section; without `text`, as it is.
 */
export function withConfig(r: ResolvedScenario, text: string | undefined): ResolvedScenario {
  if (text === undefined) return r;
  let config: KernelConfig;
  try {
    config = parseKernelConfig(text);
  } catch (e) {
    if (e instanceof KconfigError) throw new UsageError(e.message, e.hint);
    throw e;
  }
  const spec = { ...r.loaded.spec, kernel: kernelSection(config) };
  return { ...r, loaded: { ...r.loaded, spec }, config };
}

/**
 * A scenario file, read and checked. YAML and zod load only here, on demand: a built-in scenario whose
 * file is as the build found it comes ready-made from the build (built-in.ts), and a check of it starts
 * without them.
 */
async function loadScenario(file: string, name?: string): Promise<LoadedScenario> {
  const ready = name === undefined ? null : builtIn(name, file);
  if (ready) return ready;
  const { loadScenarioFile } = await import('../scenario/load.ts');
  return loadScenarioFile(file);
}

/** A scenario by catalogue name or by path. */
export async function resolveScenario(ref: string): Promise<ResolvedScenario> {
  const looksLikePath = ref.includes('/') || ref.endsWith('.yaml') || ref.endsWith('.yml');
  if (!looksLikePath) {
    const name = catalogueNames().find((n) => n === ref.toLowerCase());
    if (name !== undefined) {
      const file = join(catalogueDir(), `${name}.yaml`);
      return { loaded: await loadScenario(file, name), ref: name, tokenRef: name };
    }
    if (!existsSync(ref)) {
      const names = catalogueNames();
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
  return { loaded: await loadScenario(shown), ref: shown, tokenRef: abs };
}

/**
 * Where a replay token of this scenario and design points. A configuration given on the command line
 * travels with the design (`V3:production`): the scenario's own is in its content, which the hash pins.
 */
export function tokenTarget(s: ResolvedScenario, d: Design): TokenTarget {
  const named = d.file ? `${d.file.path}#${d.file.hash}` : d.id;
  const design = s.config ? `${named}:${s.config.name}` : named;
  return { design, scenario: s.tokenRef, hash: s.loaded.hash };
}
