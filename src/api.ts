/**
 * vgic-lab as a library (docs/api.md): `import { check, compare, replay, loadScenario, designs } from
 * 'vgic-lab'`. Each call does what the command of the same name does and returns the document that
 * command prints with --json, as an object. Bad input throws UsageError or ScenarioError, whose
 * message is what the command would print; nothing is written to stdout or stderr.
 */
import {
  type CheckOptions as CliCheckOptions,
  checkDocument,
  checkStatus,
  explorationOf,
  findingReports,
  type Minimise,
  type StopOn,
} from './cli/check.ts';
import { type CompareOptions as CliCompareOptions, compareCells, compareDocument } from './cli/compare.ts';
import { preloadDesignModules } from './cli/design-module.ts';
import { EXIT, UsageError } from './cli/errors.ts';
import { replayRun } from './cli/replay.ts';
import { type ResolvedScenario, resolveDesign, resolveScenario, withConfig } from './cli/resolve.ts';
import { runDocument } from './cli/run.ts';
import { NEVER } from './explore/stop.ts';
import { ScenarioError } from './scenario/error.ts';
import { DESIGNS, type Design } from './vgic/designs.ts';

export type { Design, Minimise, ResolvedScenario as Scenario, StopOn };
export { ScenarioError, UsageError };

/** The built-in designs, V0 … V5, with their ids, aliases, names and kernel versions. */
export const designs: readonly Design[] = DESIGNS;

/** Nothing of the command's own output: no progress bar, no text. */
const SILENT = { json: true, quiet: true, color: false } as const;

/** A design by id, alias, expression, design file or design module path (as --design takes it). */
export async function loadDesign(ref: string): Promise<Design> {
  await preloadDesignModules(['node', 'vgic-lab', '--design', ref]);
  return resolveDesign(ref);
}

/**
 * A scenario by catalogue name or file path, read and checked as the command reads it: `spec` is the
 * scenario with every default filled in, `hash` the hash replay tokens carry.
 */
export async function loadScenario(
  ref: string,
  options: { config?: string } = {},
): Promise<ResolvedScenario> {
  return withConfig(await resolveScenario(ref), options.config);
}

export interface CheckOptions {
  /** Design id, alias, expression, design file or module (default V3). */
  design?: string;
  /** Kernel configuration in place of the scenario's: `debug`, `production`, `production+KASAN`, … */
  config?: string;
  /** Search strategy (default the scenario's, else dpor). */
  strategy?: 'dpor' | 'optimal' | 'bounded' | 'pct' | 'random';
  preemptions?: number;
  maxExecutions?: number;
  /** Seconds for the whole check, reports included. */
  timeLimit?: number;
  seed?: number;
  /** Default `fatal`: the first fatal kernel report ends the search. */
  stopOn?: StopOn;
  /** Lock-discipline notes count as failures (`failed`). */
  strict?: boolean;
  /** Default `kernel`: kernel reports in full, other findings briefly. */
  minimise?: Minimise;
  /** Depth of the split of DPOR's tree (docs/scale.md); 0 for plain DPOR. */
  splitDepth?: number;
}

/** What `check --json` prints. */
export type CheckDocument = ReturnType<typeof checkDocument>;

/**
 * `vgic-lab check`: explores the scenario on the design and returns the document `check --json`
 * prints, with `failed` as the command's exit status 1 would say it (a kernel report or functional
 * finding; a lock-discipline note too with `strict`). Runs on the calling thread.
 */
export async function check(
  scenario: string,
  options: CheckOptions = {},
): Promise<CheckDocument & { failed: boolean }> {
  const d = await loadDesign(options.design ?? 'V3');
  const s = await loadScenario(scenario, options);
  const o: CliCheckOptions = {
    ...SILENT,
    strategy: options.strategy ?? s.loaded.explore.strategy ?? 'dpor',
    preemptions: options.preemptions,
    maxExecutions: options.maxExecutions,
    timeLimit: options.timeLimit,
    seed: options.seed ?? s.loaded.explore.seed ?? 1,
    stopOn: options.stopOn ?? 'fatal',
    strict: options.strict === true,
    minimise: options.minimise ?? 'kernel',
    jobs: 1,
    splitDepth: options.splitDepth,
  };
  const stop =
    options.timeLimit === undefined ? NEVER : NEVER.until(performance.now() + options.timeLimit * 1000);
  const explored = await explorationOf(s.loaded, d, o, stop);
  const reports = findingReports(s, d, o, explored, stop);
  const doc = checkDocument(s.ref, d, explored.result, reports, explored.limits, o);
  return { ...doc, failed: checkStatus(explored.result, o, stop) === EXIT.VIOLATION };
}

export interface CompareOptions {
  /** The columns (default every built-in design). */
  designs?: string[];
  config?: string;
  /** Execution budget per cell (default 300). */
  maxExecutions?: number;
  /** Seconds per cell (off by default). */
  timeLimit?: number;
}

/** What `compare --json` prints. */
export type CompareDocument = ReturnType<typeof compareDocument>;

/** `vgic-lab compare`: the matrix designs × scenarios (default the whole catalogue is not assumed: name them). */
export async function compare(scenarios: string[], options: CompareOptions = {}): Promise<CompareDocument> {
  if (scenarios.length === 0) throw new UsageError('no scenario to compare', 'name at least one scenario');
  const columns = [];
  for (const ref of options.designs ?? DESIGNS.map((d) => d.id)) {
    const design = await loadDesign(ref);
    columns.push({ id: design.id, design, problem: null });
  }
  const loaded = [];
  for (const ref of scenarios) loaded.push(await loadScenario(ref, options));
  const o: CliCompareOptions = {
    ...SILENT,
    maxExecutions: options.maxExecutions ?? 300,
    timeLimit: options.timeLimit,
  };
  return compareDocument(loaded, columns, o, compareCells(loaded, columns, o, NEVER));
}

/** What `replay --json` (and `run --json`) prints. */
export type RunDocument = ReturnType<typeof runDocument>;

/** `vgic-lab replay TOKEN`: re-runs the schedule a token records (a full `design@scenario@S1.…` token). */
export async function replay(token: string): Promise<RunDocument> {
  const design = token.includes('@') ? token.split('@')[0].split(':')[0] : undefined;
  if (design) await preloadDesignModules(['node', 'vgic-lab', '--design', design]);
  const { r, s, d, title } = await replayRun(token, SILENT, NEVER);
  return runDocument(r, s, d, 'replay', title);
}
