/**
 * Design modules (docs/designs.md, "Design modules"): a design file in code, whose default export is
 * given the model API and returns the design, with replacements for named kernel functions. A `.ts`
 * module is type-checked against the model API and transpiled; a `.mjs` one is imported as it is.
 * Modules load before the command line is parsed (import is asynchronous; resolving a design is not).
 */
import { readFileSync, statSync } from 'node:fs';
import { join, relative, resolve as resolvePath } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ScenarioError } from '../scenario/error.ts';
import { contentHash } from '../scenario/hash.ts';
import {
  applyChanges,
  changesFrom,
  DESIGN_TOGGLES,
  DesignExpressionError,
  FIX_SWITCHES,
  parseDesignExpression,
} from '../vgic/design-expr.ts';
import type { Design } from '../vgic/designs.ts';
import { type DesignModule, MODEL_API } from '../vgic/model-api.ts';
import { REPLACEABLE } from '../vgic/replace.ts';
import { importModule } from './import.ts';
import { packageRoot } from './root.ts';

const loaded = new Map<string, Design>();

/** Whether a design reference names a module: a .ts, .mjs or .js path, with a token's #hash. */
export function isDesignModule(ref: string): boolean {
  return /\.(ts|mjs|js)(#[0-9a-f]+)?$/.test(ref);
}

/** The loaded module `ref` names (preloadDesignModules ran on the command line first). */
export function designModule(ref: string): Design | undefined {
  return loaded.get(resolvePath(ref.split('#')[0]));
}

/** The design references of a command line: --design, --designs, --ablate, and a replay token's. */
function designRefs(argv: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 2; i < argv.length; i++) {
    const a = argv[i];
    const eq = /^--(design|designs|ablate)=(.*)$/.exec(a);
    if (eq) out.push(...eq[2].split(','));
    else if (['--design', '-d', '--designs', '--ablate'].includes(a) && i + 1 < argv.length)
      out.push(...argv[++i].split(','));
  }
  if (argv[2] === 'replay' && argv[3]?.includes('@')) out.push(argv[3].split('@')[0].split(':')[0]);
  return out.map((r) => r.trim()).filter(isDesignModule);
}

export async function preloadDesignModules(argv: readonly string[]): Promise<void> {
  for (const ref of designRefs(argv)) {
    const path = ref.split('#')[0];
    const abs = resolvePath(path);
    if (!loaded.has(abs)) loaded.set(abs, await loadDesignModule(path, abs));
  }
}

function problem(file: string, what: string, hint = 'docs/designs.md, "Design modules"'): ScenarioError {
  return new ScenarioError(file, 1, 1, '', what, hint);
}

async function loadDesignModule(path: string, abs: string): Promise<Design> {
  let text: string;
  try {
    if (!statSync(path).isFile()) throw problem(path, 'is not a regular file');
    text = readFileSync(path, 'utf8');
  } catch (e) {
    if (e instanceof ScenarioError) throw e;
    throw problem(path, `cannot be read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  const hash = contentHash(text);
  let mod: { default?: unknown };
  try {
    if (path.endsWith('.ts')) {
      await typeCheck(path, abs);
      const { transform } = await importModule<typeof import('esbuild')>('esbuild');
      const js = (await transform(text, { loader: 'ts', format: 'esm', sourcefile: abs })).code;
      mod = await importModule(`data:text/javascript;base64,${Buffer.from(js).toString('base64')}`);
    } else mod = await importModule(`${pathToFileURL(abs).href}?${hash}`);
  } catch (e) {
    if (e instanceof ScenarioError) throw e;
    throw problem(path, `cannot be loaded: ${(e as Error).message.split('\n')[0]}`);
  }
  if (typeof mod.default !== 'function')
    throw problem(
      path,
      'does not export a design: its default export must be a function of the model API that returns one',
    );
  let spec: DesignModule;
  try {
    spec = (mod.default as (api: typeof MODEL_API) => DesignModule)(MODEL_API);
  } catch (e) {
    throw problem(path, `its default export threw: ${(e as Error).message}`);
  }
  return designOf(path, abs, hash, spec);
}

function designOf(path: string, abs: string, hash: string, spec: DesignModule): Design {
  if (typeof spec !== 'object' || spec === null) throw problem(path, 'its default export returned no design');
  for (const key of ['name', 'description', 'base'] as const)
    if (typeof spec[key] !== 'string' || spec[key] === '')
      throw problem(path, `the design it returns has no ${key}`, `return {name, description, base, …}`);
  const replace = spec.replace ?? {};
  for (const [name, fn] of Object.entries(replace)) {
    if (!(REPLACEABLE as readonly string[]).includes(name))
      throw problem(
        path,
        `"${name}" is not a kernel function a design may replace`,
        `replaceable: ${REPLACEABLE.join(', ')}`,
      );
    if (typeof fn !== 'function') throw problem(path, `replace.${name} is not a function`);
  }
  let base: Design;
  try {
    base = parseDesignExpression(spec.base);
  } catch (e) {
    if (!(e instanceof DesignExpressionError)) throw e;
    throw problem(path, `base: ${e.message}`, e.hint);
  }
  for (const [names, written] of [
    [DESIGN_TOGGLES, spec.fields ?? {}],
    [FIX_SWITCHES, spec.switches ?? {}],
  ] as const) {
    for (const key of Object.keys(written))
      if (!(names as readonly string[]).includes(key))
        throw problem(path, `"${key}" is not a design field or fix switch`, names.join(', '));
  }
  const changes = changesFrom(base, spec.fields ?? {}, spec.switches ?? {});
  let design: Design;
  try {
    design = applyChanges(base, changes, spec.name);
  } catch (e) {
    if (!(e instanceof DesignExpressionError)) throw e;
    throw problem(path, e.message, e.hint);
  }
  return {
    ...design,
    description: spec.description,
    reference: spec.reference ?? '',
    version: spec.version ?? base.version,
    file: { path: abs, hash },
    replace,
  };
}

/**
 * Type-checks a .ts module against the model API (`import type … from 'vgic-lab/model'`), strict, as
 * the project is. The first error is the message, at its position.
 */
async function typeCheck(path: string, abs: string): Promise<void> {
  let ts: typeof import('typescript');
  try {
    ts = (await importModule<{ default: typeof import('typescript') }>('typescript')).default;
  } catch {
    throw problem(
      path,
      'cannot be type-checked: the typescript package is not installed',
      'run npm ci, or write the module as .mjs',
    );
  }
  const root = packageRoot();
  const program = ts.createProgram([abs], {
    strict: true,
    noEmit: true,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    allowImportingTsExtensions: true,
    skipLibCheck: true,
    types: ['node'],
    typeRoots: [join(root, 'node_modules', '@types')],
    baseUrl: root,
    paths: { 'vgic-lab/model': [join(root, 'src', 'vgic', 'model-api.ts')] },
  });
  const d = ts.getPreEmitDiagnostics(program).find((x) => x.category === ts.DiagnosticCategory.Error);
  if (!d) return;
  const message = ts.flattenDiagnosticMessageText(d.messageText, '\n').split('\n')[0];
  if (!d.file || d.start === undefined) throw problem(path, `does not type-check: ${message}`);
  const p = d.file.getLineAndCharacterOfPosition(d.start);
  const where = resolvePath(d.file.fileName) === abs ? path : relative(process.cwd(), d.file.fileName);
  throw new ScenarioError(
    where,
    p.line + 1,
    p.character + 1,
    '',
    `does not type-check: ${message} (TS${d.code})`,
    'docs/designs.md, "Design modules"',
  );
}
