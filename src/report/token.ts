import { createHash } from 'node:crypto';
import { contentHash } from '../scenario/hash.ts';

/**
 * A replay token names what it replays, so that it cannot silently run something else:
 *
 *   <design>@<scenario>@<schedule>.<hash><check>
 *
 * `scenario` is a catalogue name or an absolute path (the token works from any directory), `hash`
 * eight hex digits of the scenario file's SHA-256 (its content when the token was made), `check` four
 * hex digits over all the rest (a token altered by hand does not pass). `schedule` is the explorer's
 * `S1.…` string, which records the number of decisions.
 */
export interface TokenTarget {
  design: string;
  scenario: string;
  hash: string;
}

export interface ParsedToken extends TokenTarget {
  schedule: string;
}

const HASH = contentHash('').length;
const CHECK = 4;

function checkDigits(t: TokenTarget, schedule: string): string {
  return createHash('sha256')
    .update(`${t.design}\n${t.scenario}\n${t.hash}\n${schedule}`)
    .digest('hex')
    .slice(0, CHECK);
}

export function formatToken(t: TokenTarget, schedule: string): string {
  return `${t.design}@${t.scenario}@${schedule}.${t.hash}${checkDigits(t, schedule)}`;
}

export class TokenFormatError extends Error {}

/** Splits and checks a full token; a bare schedule (no '@') is not one. */
export function parseToken(text: string): ParsedToken {
  const t = text.trim();
  const first = t.indexOf('@');
  const last = t.lastIndexOf('@');
  if (first < 0 || first === last)
    throw new TokenFormatError(`"${t}" is not a replay token (design@scenario@S1.…)`);
  const tail = t.slice(last + 1);
  const m = new RegExp(`^(.*)\\.([0-9a-f]{${HASH}})([0-9a-f]{${CHECK}})$`).exec(tail);
  if (!m) throw new TokenFormatError(`the token "${t}" lacks its scenario hash and check digits`);
  const parsed = {
    design: t.slice(0, first),
    scenario: t.slice(first + 1, last),
    schedule: m[1],
    hash: m[2],
  };
  if (checkDigits(parsed, parsed.schedule) !== m[3])
    throw new TokenFormatError(`the token "${t}" is damaged: its check digits do not match the rest`);
  return parsed;
}

/** `s` as one shell word (POSIX quoting), so that a printed command can be pasted as it is. */
export function shellQuote(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replaceAll("'", `'\\''`)}'`;
}
