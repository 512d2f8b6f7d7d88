import { InternalError } from '../explore/explorer.ts';
import { type DecodedToken, decodeToken, ReplayScheduler, TokenError } from '../explore/schedule.ts';
import type { Stop } from '../explore/stop.ts';
import { parseToken, TokenFormatError } from '../report/token.ts';
import { type CommonOptions, checkWritable } from './context.ts';
import { UsageError } from './errors.ts';
import { Progress } from './progress.ts';
import { type ResolvedScenario, resolveDesign, resolveScenario, withConfig } from './resolve.ts';
import { printRun, type RunResult, runWith } from './run.ts';

export interface ReplayOptions extends CommonOptions {
  scenario?: string;
  design?: string;
  config?: string;
}

const HINT = 'copy the whole token printed by vgic-lab check or run';

/**
 * What to replay: a full token (design@scenario@S1.….<hash><check>), checked against the scenario
 * as it is now and against --scenario/--design if given; or a bare schedule (S1.…) with both options,
 * which binds to nothing and is the user's responsibility.
 */
async function target(
  token: string,
  o: ReplayOptions,
): Promise<{ s: ResolvedScenario; design: string; schedule: string }> {
  const t = token.trim();
  if (!t.includes('@')) {
    // Without this, any word would be taken for a bare schedule and asked for --scenario and --design.
    if (!/^S\d+\./.test(t)) throw new UsageError(`"${t}" is not a schedule token`, HINT);
    if (!o.scenario || !o.design)
      throw new UsageError(
        `the token "${t}" carries only a schedule`,
        'give --scenario and --design, or a full token as printed by vgic-lab check or run',
      );
    return { s: withConfig(await resolveScenario(o.scenario), o.config), design: o.design, schedule: t };
  }
  let p: ReturnType<typeof parseToken>;
  try {
    p = parseToken(t);
  } catch (e) {
    if (e instanceof TokenFormatError) throw new UsageError(e.message, HINT);
    throw e;
  }
  const [design, config] = p.design.split(':');
  if (o.config !== undefined && o.config !== config)
    throw new UsageError(
      `the token replays ${config ? `kernel configuration ${config}` : "the scenario's kernel configuration"}, not ${o.config}`,
      'drop --config: a full token carries its configuration',
    );
  if (o.design !== undefined && (await resolveDesign(o.design)).id !== (await resolveDesign(design)).id)
    throw new UsageError(
      `the token replays design ${design}, not ${o.design}`,
      'drop --design, or check the token',
    );
  const s = withConfig(await resolveScenario(p.scenario), config);
  if (o.scenario !== undefined && (await resolveScenario(o.scenario)).tokenRef !== s.tokenRef)
    throw new UsageError(
      `the token replays scenario ${p.scenario}, not ${o.scenario}`,
      'drop --scenario, or check the token',
    );
  if (s.loaded.hash !== p.hash)
    throw new UsageError(
      `the token was made for another content of ${p.scenario} (hash ${p.hash}, now ${s.loaded.hash}): the scenario changed since`,
      'run check again on the scenario as it is now',
    );
  return { s, design, schedule: p.schedule };
}

/**
 * Decodes the schedule part. Deviations must come in increasing order and inside the recorded length:
 * anything else was not written by encodeDeviations and would be silently half-used.
 */
function decodeSchedule(schedule: string): DecodedToken {
  let decoded: DecodedToken;
  try {
    decoded = decodeToken(schedule);
  } catch (e) {
    if (e instanceof TokenError) throw new UsageError(e.message, HINT);
    throw e;
  }
  decoded.deviations.forEach((dv, i) => {
    if (dv.at >= decoded.length || (i > 0 && dv.at <= decoded.deviations[i - 1].at))
      throw new UsageError(
        `schedule token is corrupt: a decision at ${dv.at} in a schedule of ${decoded.length} decisions`,
        HINT,
      );
  });
  return decoded;
}

/** The run a token records, re-run: what `replay` prints, and the schedule it followed. */
export async function replayRun(token: string, o: ReplayOptions, stop: Stop) {
  const { s, design, schedule } = await target(token, o);
  const decoded = decodeSchedule(schedule);
  const d = await resolveDesign(design);
  const notFor = '(was the token made for another scenario or design?)';
  if (o.perfetto) checkWritable(o.perfetto);
  new Progress(o.progress ? 'lines' : 'off', () => 0).begin(`${s.loaded.spec.name} on ${d.id}`, 'replaying');
  let r: RunResult;
  try {
    r = runWith(s.loaded, d, new ReplayScheduler(null, decoded.deviations), stop);
  } catch (e) {
    if (e instanceof TokenError) throw new UsageError(`${e.message} ${notFor}`);
    throw new InternalError(e, schedule, 1);
  }
  // Past its recorded decisions the replay follows the default policy, so a token made for another
  // program runs to some end without complaint; the decision count is what shows it is not this run.
  const made = r.exec.decisions.length;
  if (made !== decoded.length && r.exec.outcome !== 'stopped')
    throw new UsageError(
      `schedule does not fit: the token records ${decoded.length} decisions, the run made ${made} ${notFor}`,
    );
  return { r, s, d, title: `schedule ${schedule}` };
}

/** vgic-lab replay TOKEN: re-runs exactly one recorded schedule and prints it like `run`. */
export async function replay(token: string, o: ReplayOptions, stop: Stop): Promise<number> {
  const { r, s, d, title } = await replayRun(token, o, stop);
  return printRun(r, s, d, o, 'replay', title);
}
