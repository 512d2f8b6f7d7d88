import { type ExploreOptions, type ExploreResult, explore } from '../../src/explore/explorer.ts';
import { DporStrategy } from '../../src/explore/strategies/dpor.ts';
import { ReplayStrategy } from '../../src/explore/strategies/replay.ts';
import type { Strategy } from '../../src/explore/strategy.ts';
import { type FindingClass, findingClass } from '../../src/report/classes.ts';
import { buildProgram, type World } from '../../src/scenario/builder.ts';
import type { ScenarioSpec } from '../../src/scenario/schema.ts';
import { type Design, designById } from '../../src/vgic/designs.ts';

/**
 * V2's replay walk starts at the AP-list head without ap_list_lock on every fold, EOIcount or not:
 * another CPU queueing an interrupt on the list races that read (a real KCSAN report on v6.19).
 */
export const V2_HEAD_WALK_RACE = 'BUG: KCSAN: data-race in vgic_queue_irq_unlock / vgic_v3_fold_lr_state';

/** The same race on a GICv2 host, in vgic_v2_fold_lr_state. */
export const V2_HEAD_WALK_RACE_GICV2 =
  'BUG: KCSAN: data-race in vgic_queue_irq_unlock / vgic_v2_fold_lr_state';

/** Kernel reports a design shows in any scenario where another CPU queues to a running vCPU. */
export function knownRaces(designId: string): string[] {
  return designId === 'V2' ? [V2_HEAD_WALK_RACE, V2_HEAD_WALK_RACE_GICV2] : [];
}

export function design(id: string): Design {
  const d = designById(id);
  if (!d) throw new Error(`no design ${id}`);
  return d;
}

export interface Run {
  result: ExploreResult;
  /** Titles of the kernel reports and functional findings (lock-discipline notes are in `notes`). */
  titles: string[];
  /** Kernel reports: what the modelled kernel prints (docs/findings.md). */
  sanitizer: string[];
  /** Functional findings: oracles, expectations, guest assertions, CPU-interface findings. */
  oracle: string[];
  /** Lock-discipline notes. */
  notes: string[];
  /** The worlds of the executions that ran to their end (sleep-set-blocked ones are cut short). */
  worlds: World[];
}

/** Explores a scenario on a design; by default exhaustive DPOR collecting every distinct finding. */
export function check(
  s: ScenarioSpec,
  d: string | Design,
  strategy: Strategy = new DporStrategy(),
  opts: ExploreOptions = {},
): Run {
  const worlds: World[] = [];
  const p = buildProgram(s, typeof d === 'string' ? design(d) : d);
  const result = explore(p, strategy, {
    allViolations: true,
    ...opts,
    onExecution: (exec, w) => {
      if (exec.outcome !== 'sleep-blocked') worlds.push(w);
      opts.onExecution?.(exec, w);
    },
  });
  const f = result.findings;
  const by = (cls: FindingClass) =>
    f.filter((x) => findingClass(x.violation.checker) === cls).map((x) => x.violation.title);
  return {
    result,
    titles: f.filter((x) => findingClass(x.violation.checker) !== 'note').map((x) => x.violation.title),
    sanitizer: by('kernel'),
    oracle: by('functional'),
    notes: by('note'),
    worlds,
  };
}

/** One execution under the default schedule. */
export function runDefault(s: ScenarioSpec, d: string): Run {
  return check(s, d, new ReplayStrategy({ decisions: [] }));
}
