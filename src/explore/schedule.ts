import type { Execution, Scheduler } from './execution.ts';

/**
 * A schedule is the list of decisions of one execution: at every thread choice the thread id, at
 * every value choice the value. Replaying it on the same program reproduces the execution exactly.
 *
 * Beyond the recorded decisions the default policy applies: keep running the previous thread while it
 * is enabled, else the lowest-numbered enabled thread; value choices take 0. Tokens store only the
 * decisions that differ from that policy, so a schedule with few preemptions has a short token.
 */
export function defaultThread(prev: number, enabled: readonly number[]): number {
  return enabled.includes(prev) ? prev : enabled[0];
}

const TOKEN_PREFIX = 'S1.';

export class TokenError extends Error {}

function pushVarint(out: number[], n: number): void {
  while (n >= 0x80) {
    out.push((n & 0x7f) | 0x80);
    n >>>= 7;
  }
  out.push(n);
}

/** Deviations from the default policy, as (decision index, value) pairs; computed while replaying. */
export interface Deviation {
  at: number;
  value: number;
}

export function encodeDeviations(devs: readonly Deviation[], length: number): string {
  const bytes: number[] = [];
  pushVarint(bytes, length);
  let last = 0;
  for (const d of devs) {
    pushVarint(bytes, d.at - last);
    pushVarint(bytes, d.value);
    last = d.at;
  }
  return TOKEN_PREFIX + Buffer.from(bytes).toString('base64url');
}

export interface DecodedToken {
  length: number;
  deviations: Deviation[];
}

export function decodeToken(token: string): DecodedToken {
  const t = token.trim();
  if (!t.startsWith(TOKEN_PREFIX)) {
    const m = /^S(\d+)\./.exec(t);
    if (m)
      throw new TokenError(`schedule token version S${m[1]} is not supported by this vgic-lab (it reads S1)`);
    throw new TokenError(`not a schedule token: expected it to start with "${TOKEN_PREFIX}"`);
  }
  const body = t.slice(TOKEN_PREFIX.length);
  if (!/^[A-Za-z0-9_-]*$/.test(body))
    throw new TokenError('schedule token contains characters outside base64url');
  const bytes = Buffer.from(body, 'base64url');
  let i = 0;
  const read = (): number => {
    let n = 0;
    let shift = 0;
    for (;;) {
      if (i >= bytes.length) throw new TokenError('schedule token is truncated');
      const b = bytes[i++];
      n += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) return n;
      shift += 7;
      if (shift > 35) throw new TokenError('schedule token is corrupt');
    }
  };
  const length = read();
  const deviations: Deviation[] = [];
  let at = 0;
  while (i < bytes.length) {
    at += read();
    deviations.push({ at, value: read() });
  }
  return { length, deviations };
}

/**
 * Replays a decision list. Decisions beyond the list follow the default policy. A recorded thread that
 * is not enabled means the schedule does not fit the program: replay stops with an error.
 */
export class ReplayScheduler implements Scheduler {
  private readonly devs: Map<number, number> | null;
  constructor(
    private readonly decisions: readonly number[] | null,
    deviations: readonly Deviation[] | null = null,
    /** Minimisation edits schedules: a decision that no longer fits falls back to the default policy. */
    private readonly lenient = false,
  ) {
    this.devs = deviations ? new Map(deviations.map((d) => [d.at, d.value])) : null;
  }

  private recorded(i: number): number | undefined {
    if (this.decisions) return i < this.decisions.length ? this.decisions[i] : undefined;
    return this.devs!.get(i);
  }

  pickThread(exec: Execution, enabled: readonly number[]): number {
    const want = this.recorded(exec.decisions.length);
    if (want === undefined) return defaultThread(exec.prev, enabled);
    if (!enabled.includes(want)) {
      if (this.lenient) return defaultThread(exec.prev, enabled);
      throw new TokenError(
        `schedule does not fit: decision ${exec.decisions.length} runs thread ${want}, which is not enabled there`,
      );
    }
    return want;
  }

  pickValue(exec: Execution, _tid: number, n: number): number {
    const want = this.recorded(exec.decisions.length) ?? 0;
    if (want >= n && this.lenient) return 0;
    if (want >= n) throw new TokenError(`schedule does not fit: value ${want} at a choice of ${n}`);
    return want;
  }
}
