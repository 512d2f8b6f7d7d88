import { InternalError } from '../explore/explorer.ts';
import { type DecodedToken, decodeToken, ReplayScheduler, TokenError } from '../explore/schedule.ts';
import type { CommonOptions } from './context.ts';
import { UsageError } from './errors.ts';
import { resolveDesign, resolveScenario } from './resolve.ts';
import { printRun, type RunResult, runWith } from './run.ts';

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
    // Without this, any word would be taken for a bare schedule and asked for --scenario and --design.
    if (!/^S\d+\./.test(t))
      throw new UsageError(
        `"${t}" is not a schedule token`,
        'a token is design@scenario@S1.… as printed by vgic-lab check or run',
      );
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

/**
 * Decodes the schedule part. Deviations must come in increasing order and inside the recorded length:
 * anything else was not written by encodeDeviations and would be silently half-used.
 */
function decodeSchedule(schedule: string): DecodedToken {
  const hint = 'copy the whole token printed by vgic-lab check or run';
  let decoded: DecodedToken;
  try {
    decoded = decodeToken(schedule);
  } catch (e) {
    if (e instanceof TokenError) throw new UsageError(e.message, hint);
    throw e;
  }
  decoded.deviations.forEach((dv, i) => {
    if (dv.at >= decoded.length || (i > 0 && dv.at <= decoded.deviations[i - 1].at))
      throw new UsageError(
        `schedule token is corrupt: a decision at ${dv.at} in a schedule of ${decoded.length} decisions`,
        hint,
      );
  });
  return decoded;
}

/** vgic-lab replay TOKEN: re-runs exactly one recorded schedule and prints it like `run`. */
export function replay(token: string, o: ReplayOptions): number {
  const p = parseFullToken(token, o);
  const decoded = decodeSchedule(p.schedule);
  const d = resolveDesign(p.design);
  const s = resolveScenario(p.scenario);
  const notFor = '(was the token made for another scenario or design?)';
  let r: RunResult;
  try {
    r = runWith(s.loaded, d, new ReplayScheduler(null, decoded.deviations));
  } catch (e) {
    if (e instanceof TokenError) throw new UsageError(`${e.message} ${notFor}`);
    throw new InternalError(e, p.schedule, 1);
  }
  // Past its recorded decisions the replay follows the default policy, so a token made for another
  // program runs to some end without complaint; the decision count is what shows it is not this run.
  const made = r.exec.decisions.length;
  if (made !== decoded.length)
    throw new UsageError(
      `schedule does not fit: the token records ${decoded.length} decisions, the run made ${made} ${notFor}`,
    );
  return printRun(r, s.loaded, d, s.ref, o, 'replay', `schedule ${p.schedule}`);
}
