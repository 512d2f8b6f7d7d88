import { readFileSync } from 'node:fs';
import { type FreshOutcome, Frontier, Join, Lineage, unitExploration } from '../explore/split.ts';
import type { Stop } from '../explore/stop.ts';
import { type CheckOptions, endsWhen, limitsOf, reportCheck } from './check.ts';
import { type CommonOptions, checkHtmlTarget, programOf } from './context.ts';
import { preloadDesignModules } from './design-module.ts';
import { UsageError } from './errors.ts';
import { freshFromJson } from './parallel.ts';
import { resolveDesign, resolveScenario, withConfig } from './resolve.ts';
import { checkOptionsOf, SHARD_FORMAT, type ShardDocument } from './shard.ts';

function readShard(file: string): ShardDocument {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new UsageError(`cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  let doc: Partial<ShardDocument>;
  try {
    doc = JSON.parse(text);
  } catch {
    throw new UsageError(`${file} is not JSON`, 'give the files that `check … --shard K/N` printed');
  }
  if (doc?.format !== SHARD_FORMAT || !doc.shard || !Array.isArray(doc.results))
    throw new UsageError(
      `${file} is not a shard document (${SHARD_FORMAT})`,
      'give the files that `check … --shard K/N` printed, with the vgic-lab version that merges them',
    );
  return doc as ShardDocument;
}

/** The part of a shard document that every shard of one check has in common. */
function identity(d: ShardDocument): string {
  return JSON.stringify([
    d.scenario,
    d.scenarioHash,
    d.design,
    d.designHash,
    d.config,
    d.options,
    d.shard.count,
  ]);
}

/** The shards of one check, in order, or a usage error saying what is missing or does not belong. */
function shardsOf(files: string[]): ShardDocument[] {
  const docs = files.map(readShard);
  const first = docs[0];
  const byIndex = new Map<number, string>();
  docs.forEach((d, i) => {
    if (identity(d) !== identity(first))
      throw new UsageError(
        `${files[i]} is a shard of another check than ${files[0]}`,
        'merge the shards of one command line: same scenario, design, options and shard count',
      );
    const twin = byIndex.get(d.shard.index);
    if (twin)
      throw new UsageError(`${twin} and ${files[i]} are both shard ${d.shard.index}/${d.shard.count}`);
    byIndex.set(d.shard.index, files[i]);
  });
  const missing: number[] = [];
  for (let k = 1; k <= first.shard.count; k++) if (!byIndex.has(k)) missing.push(k);
  if (missing.length > 0)
    throw new UsageError(
      `shard${missing.length > 1 ? 's' : ''} ${missing.map((k) => `${k}/${first.shard.count}`).join(', ')} missing`,
      'give every shard document of the check',
    );
  return docs.sort((a, b) => a.shard.index - b.shard.index);
}

/**
 * vgic-lab merge: joins the shard documents of one `check … --shard K/N` command line into the result
 * of that check run whole, and reports it as `check` does (docs/scale.md).
 */
export async function merge(
  files: string[],
  out: CommonOptions & { html?: string },
  signals: Stop,
): Promise<number> {
  if (out.html) checkHtmlTarget(out.html);
  const shards = shardsOf(files);
  const doc = shards[0];
  await preloadDesignModules(['node', 'vgic-lab', 'merge', '--design', doc.design]);
  const design = await resolveDesign(doc.design);
  if ((design.file?.hash ?? null) !== doc.designHash)
    throw new UsageError(
      `the design ${doc.design} has changed since the shards explored it`,
      'run the shards again with the design as it is now',
    );
  const scenario = withConfig(await resolveScenario(doc.scenario), doc.config ?? undefined);
  if (scenario.loaded.hash !== doc.scenarioHash)
    throw new UsageError(
      `${doc.scenario} has changed since the shards explored it`,
      'run the shards again on the scenario as it is now',
    );
  const opt = doc.options;
  const o: CheckOptions = { ...out, ...checkOptionsOf(opt) };
  const program = programOf(scenario.loaded, design);
  const limits = limitsOf(scenario.loaded, o);
  const results = new Map<number, FreshOutcome>();
  for (const d of shards) {
    for (const r of d.results) {
      if (!d.assigned.includes(r.unit) || results.has(r.unit))
        throw new UsageError(
          `shard ${d.shard.index}/${d.shard.count} has a result for unit ${r.unit}, which is not its own or is there twice`,
          'merge the documents as `check … --shard K/N` printed them',
        );
      results.set(r.unit, freshFromJson(r));
    }
  }
  const total = shards.find((d) => d.units !== null)?.units ?? null;
  const shardOf = (i: number) => shards.find((d) => d.assigned.includes(i))?.shard.index ?? '?';
  const cap = limits.maxExecutions ?? Number.POSITIVE_INFINITY;
  const join = new Join();
  const lineage = new Lineage();
  // Units whose budget was larger than what was left for them are explored again here: the frontier
  // gives their roots.
  const frontier = new Frontier(program, opt.splitDepth, { maxSteps: limits.maxSteps, stop: signals });
  let probed = 0;
  /** Unit `i`'s root, probed again; null when a signal cut the probing short. */
  const rootOf = (i: number) => {
    for (;;) {
      const unit = frontier.next();
      if (!unit) {
        if (signals.reason()) return null;
        throw new Error(`vgic-lab: unit ${i} is not in the split`);
      }
      if (probed++ === i) return unit;
    }
  };
  while (!join.ended) {
    const i = join.units;
    if (i === total) {
      join.end('exhausted');
      break;
    }
    const fresh = results.get(i);
    if (!fresh)
      throw new UsageError(
        `no shard has a result for unit ${i} of the split: shard ${shardOf(i)}/${doc.shard.count} stopped before it`,
        'run that shard again to its end',
      );
    // Shards explore with the whole budget and from a fresh lockdep graph: a unit that had less, or
    // that the graph of the units before it would have changed, is explored again here.
    const left = cap - join.stats.executions;
    let r = fresh.result;
    if (!lineage.stands(fresh, cap, left)) {
      const root = rootOf(i);
      if (!root) {
        join.end(signals.reason() ?? 'interrupted');
        break;
      }
      const x = unitExploration(program, root, {
        maxSteps: limits.maxSteps,
        maxExecutions: left,
        stop: signals,
        ...endsWhen(o.stopOn),
        session: lineage.session,
        firstExecution: join.stats.executions,
      });
      while (x.step()) {}
      r = x.result();
    }
    join.add(r);
  }
  const result = join.result(0);
  return reportCheck(scenario, design, o, { program, result, limits }, signals);
}
