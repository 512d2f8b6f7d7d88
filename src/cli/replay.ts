import { Execution, Session } from '../explore/execution.ts';
import { InternalError } from '../explore/explorer.ts';
import { decodeToken, ReplayScheduler, TokenError } from '../explore/schedule.ts';
import type { World } from '../scenario/builder.ts';
import type { CommonOptions } from './context.ts';
import { programOf } from './context.ts';
import { UsageError } from './errors.ts';
import { resolveDesign, resolveScenario } from './resolve.ts';
import { printRun, type RunResult } from './run.ts';

export interface ReplayOptions extends CommonOptions {
  scenario?: string;
  design?: string;
}

/** Splits design@scenario@S1.schedule (scenario and design may come from options instead). */
export function parseFullToken(
  token: string,
  o: ReplayOptions,
): { design: string; scenario: string; schedule: string } {
  const t = token.trim();
  const last = t.lastIndexOf('@');
  if (last < 0) {
    if (!o.scenario || !o.design) {
      throw new UsageError(
        `the token "${t}" carries only a schedule`,
        'give --scenario and --design, or a full token design@scenario@S1.… as printed by vgic-lab check',
      );
    }
    return { design: o.design, scenario: o.scenario, schedule: t };
  }
  const first = t.indexOf('@');
  if (first === last)
    throw new UsageError(
      `malformed token "${t}"`,
      'a token is design@scenario@S1.… as printed by vgic-lab check',
    );
  return {
    design: o.design ?? t.slice(0, first),
    scenario: o.scenario ?? t.slice(first + 1, last),
    schedule: t.slice(last + 1),
  };
}

/** vgic-lab replay TOKEN: re-runs exactly one recorded schedule and prints it like `run`. */
export function replay(token: string, o: ReplayOptions): number {
  const p = parseFullToken(token, o);
  let decoded: ReturnType<typeof decodeToken>;
  try {
    decoded = decodeToken(p.schedule);
  } catch (e) {
    if (e instanceof TokenError)
      throw new UsageError(e.message, 'copy the whole token printed by vgic-lab check');
    throw e;
  }
  const d = resolveDesign(p.design);
  const s = resolveScenario(p.scenario);
  let world: World | null = null;
  const program = programOf(s.loaded, d, (w) => {
    world = w;
  });
  const exec = new Execution(1, new Session(), new ReplayScheduler(null, decoded.deviations), {
    maxSteps: s.loaded.explore.maxSteps ?? 10_000,
  });
  exec.recording = true;
  try {
    exec.run((e) => program.build(e));
  } catch (e) {
    if (e instanceof TokenError)
      throw new UsageError(`${e.message} (was the token made for another scenario or design?)`);
    throw new InternalError(e, p.schedule, 1);
  }
  const r: RunResult = { exec, world: world! };
  return printRun(r, s.loaded, d, s.ref, o, 'replay', `schedule ${p.schedule}`);
}
