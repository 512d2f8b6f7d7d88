import { assignShards, Frontier, unitExploration } from '../explore/split.ts';
import type { Stop } from '../explore/stop.ts';
import type { Unit } from '../explore/strategies/tree.ts';
import type { Design } from '../vgic/designs.ts';
import { type CheckOptions, endsWhen, limitsOf, splitDepthOf, stopOf, workerSpawner } from './check.ts';
import { printJson, programOf } from './context.ts';
import { EXIT, UsageError } from './errors.ts';
import { exploreFresh, freshToJson, type UnitResultJson } from './parallel.ts';
import { Progress, progressMode } from './progress.ts';
import type { ResolvedScenario } from './resolve.ts';

/**
 * `check --shard K/N` (docs/scale.md): explores the units of the split that `assignShards` gives shard
 * K and prints their results as a shard document; `vgic-lab merge` joins the N documents into the
 * result of the whole check. Every shard probes the whole frontier (one short execution per unit).
 */

export interface ShardSpec {
  /** 1-based, as a job array's task numbers usually are not: docs/scale.md shows the conversion. */
  index: number;
  count: number;
}

export const SHARD_FORMAT = 'vgic-lab shard 1';

/** What `merge` needs to redo the check: the command line's choices, as given. */
export interface ShardDocument {
  format: typeof SHARD_FORMAT;
  shard: ShardSpec;
  scenario: string;
  scenarioHash: string;
  design: string;
  /** The content hash of a design file or module; null for a built-in design or expression. */
  designHash: string | null;
  config: string | null;
  options: ShardedOptions;
  /** How many units the split has; null when this shard stopped before it had seen them all. */
  units: number | null;
  /** The units this shard was given, explored or not. */
  assigned: number[];
  results: ({ unit: number } & UnitResultJson)[];
}

/** The options of the check that change its result. */
export interface ShardedOptions {
  strategy: string;
  preemptions: number | null;
  maxExecutions: number | null;
  timeLimit: number | null;
  seed: number;
  stopOn: CheckOptions['stopOn'];
  strict: boolean;
  minimise: NonNullable<CheckOptions['minimise']>;
  splitDepth: number;
}

/** The options of `o` that change the result, as a shard document keeps them. */
function shardedOptions(o: CheckOptions, splitDepth: number): ShardedOptions {
  return {
    strategy: o.strategy,
    preemptions: o.preemptions ?? null,
    maxExecutions: o.maxExecutions ?? null,
    timeLimit: o.timeLimit ?? null,
    seed: o.seed,
    stopOn: o.stopOn,
    strict: o.strict === true,
    minimise: o.minimise ?? 'kernel',
    splitDepth,
  };
}

/** The check options a shard document's options stand for (`merge`), the inverse of the above. */
export function checkOptionsOf(opt: ShardedOptions): CheckOptions {
  return {
    strategy: opt.strategy,
    preemptions: opt.preemptions ?? undefined,
    maxExecutions: opt.maxExecutions ?? undefined,
    timeLimit: opt.timeLimit ?? undefined,
    seed: opt.seed,
    stopOn: opt.stopOn,
    strict: opt.strict,
    minimise: opt.minimise,
    splitDepth: opt.splitDepth,
  };
}

export function parseShard(text: string): ShardSpec {
  const m = /^(\d+)\/(\d+)$/.exec(text);
  const index = m ? Number(m[1]) : 0;
  const count = m ? Number(m[2]) : 0;
  if (!m || count < 1 || count > 100_000 || index < 1 || index > count)
    throw new UsageError(
      `--shard takes K/N with 1 <= K <= N, got "${text}"`,
      'for example --shard 1/4 … --shard 4/4 for four shards',
    );
  return { index, count };
}

export async function runShard(
  scenario: ResolvedScenario,
  d: Design,
  o: CheckOptions,
  shard: ShardSpec,
  signals: Stop,
  started: number,
): Promise<number> {
  const s = scenario.loaded;
  const limits = limitsOf(s, o);
  const depth = splitDepthOf(o, limits);
  if (depth === 0)
    throw new UsageError(
      '--shard splits a DPOR exploration without a preemption bound',
      'leave out --strategy and --preemptions (or give --strategy dpor), and a --split-depth above 0',
    );
  if (!o.origin) throw new Error('vgic-lab: --shard without the command line it came from');
  const stop = stopOf(scenario, o, signals, started);
  const program = programOf(s, d);
  const frontier = new Frontier(program, depth, { maxSteps: limits.maxSteps, stop });
  const cap = limits.maxExecutions ?? Number.POSITIVE_INFINITY;
  const results: ShardDocument['results'] = [];
  const progress = new Progress(progressMode(o), () => 0);
  progress.begin(`${s.spec.name} on ${d.id}, shard ${shard.index} of ${shard.count}`);
  // Every shard probes the whole frontier, to number the units and share them out the same way.
  const units: Unit[] = [];
  for (let unit = frontier.next(); unit; unit = frontier.next()) units.push(unit);
  let complete = !stop.reason();
  const mine = assignShards(units, shard.count);
  const assigned = units.flatMap((unit, index) => (mine[index] === shard.index - 1 ? [{ index, unit }] : []));
  const first = assigned[0]?.index;
  // Each unit starts from a fresh lockdep graph; `merge` decides whether that was the graph the units
  // before it left (split.ts, Lineage). The first unit's graph may be what the next ones need. The
  // budget left is known only when the units before are joined: `merge` explores a unit again when it
  // turns out to have had less.
  let explored: Map<number, UnitResultJson>;
  if ((o.jobs ?? 1) > 1 && assigned.length > 1 && complete) {
    explored = await exploreFresh(assigned, {
      jobs: o.jobs ?? 1,
      maxExecutions: cap,
      spawn: workerSpawner(o.origin, o, limits, stop),
      withSession: (i) => i === first,
    });
  } else {
    explored = new Map();
    for (const { index, unit } of assigned) {
      if (!complete) break;
      const x = unitExploration(program, unit, {
        maxSteps: limits.maxSteps,
        maxExecutions: cap,
        stop,
        ...endsWhen(o.stopOn),
      });
      while (x.step()) {}
      explored.set(index, freshToJson(x, index === first));
      if (x.result().stats.stoppedBy !== 'exhausted') break;
    }
  }
  // A unit that ended the search ends the check there: later units do not count, whoever explored them.
  for (const { index } of assigned) {
    const r = explored.get(index);
    if (!r) {
      complete = false;
      break;
    }
    results.push({ unit: index, ...r });
    if (r.stats.stoppedBy !== 'exhausted') {
      complete = false;
      break;
    }
  }
  if (stop.reason()) complete = false;
  progress.clear();
  const origin = o.origin;
  const doc: ShardDocument = {
    format: SHARD_FORMAT,
    shard,
    scenario: origin.scenario,
    scenarioHash: s.hash,
    design: origin.design,
    designHash: d.file?.hash ?? null,
    config: origin.config ?? null,
    options: shardedOptions(o, depth),
    units: complete ? units.length : null,
    assigned: assigned.map((a) => a.index),
    results,
  };
  printJson(doc);
  return stop.reason() === 'interrupted' ? EXIT.INTERRUPTED : EXIT.OK;
}
