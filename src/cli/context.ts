import {
  accessSync,
  closeSync,
  constants,
  existsSync,
  openSync,
  readSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { dirname, resolve as resolvePath } from 'node:path';
import { createColors } from 'picocolors';
import type { Program } from '../explore/execution.ts';
import { HTML_MARK } from '../report/html/page.ts';
import { perfettoTrace, type TraceGroup } from '../report/perfetto.ts';
import { buildProgram, type World } from '../scenario/builder.ts';
import type { LoadedScenario } from '../scenario/load.ts';
import type { Design } from '../vgic/designs.ts';
import { UsageError } from './errors.ts';
import { stderr, stdout } from './output.ts';
import { terminal } from './tty.ts';

/** Options every command takes. */
export interface CommonOptions {
  json?: boolean;
  perfetto?: string;
  quiet?: boolean;
  color?: boolean;
  /** Progress lines on stderr even when it is not a terminal (check, compare). */
  progress?: boolean;
  /** Interleavings show every step, lock and unlock only ones too. */
  verbose?: boolean;
}

export function colors(opts: CommonOptions) {
  const enabled = opts.color !== false && !opts.json && !process.env.NO_COLOR && terminal().stdout;
  return createColors(enabled);
}

/** Prints text unless --quiet or --json. */
export function say(opts: CommonOptions, text: string): void {
  if (!opts.quiet && !opts.json) stdout(`${text}\n`);
}

export function printJson(doc: unknown): void {
  stdout(`${JSON.stringify(doc, null, 2)}\n`);
}

/**
 * Checks, before any work, that `file` can be written (its folder exists and is writable, and it is not
 * a folder): a search must not run for minutes and then lose its findings to a typo in a path.
 */
export function checkWritable(file: string, what = 'the Perfetto trace', option = '--perfetto'): void {
  const abs = resolvePath(file);
  let problem: string | null = null;
  if (existsSync(abs) && statSync(abs).isDirectory()) problem = 'it is a directory';
  else if (!existsSync(dirname(abs))) problem = `its directory ${dirname(abs)} does not exist`;
  else {
    try {
      accessSync(existsSync(abs) ? abs : dirname(abs), constants.W_OK);
    } catch {
      problem = 'it is not writable';
    }
  }
  if (problem)
    throw new UsageError(
      `cannot write ${what} to ${file}: ${problem}`,
      `give a writable file path to ${option}`,
    );
}

/**
 * Checks, before any work, that `--html` may write `file`: it can be written, and it is new or a report
 * vgic-lab wrote before (a scenario or notes given by mistake are never overwritten).
 */
export function checkHtmlTarget(file: string): void {
  checkWritable(file, 'the HTML report', '--html');
  if (!existsSync(file)) return;
  let head = '';
  try {
    const fd = openSync(file, 'r');
    const buf = Buffer.alloc(256);
    head = buf.toString('utf8', 0, readSync(fd, buf, 0, buf.length, 0));
    closeSync(fd);
  } catch (e) {
    throw new UsageError(
      `cannot read ${file}: ${(e as Error).message}`,
      'give a writable file path to --html',
    );
  }
  if (!head.includes(HTML_MARK))
    throw new UsageError(
      `${file} exists and is not an HTML report written by vgic-lab; it was not overwritten`,
      'give --html a new file name, or remove the file first',
    );
}

/** Writes the HTML report `html` to `file` (checked by checkHtmlTarget before the work began). */
export function writeHtml(file: string, html: string): void {
  try {
    writeFileSync(file, html);
  } catch (e) {
    throw new UsageError(
      `cannot write the HTML report to ${file}: ${(e as Error).message}`,
      'give a writable file path to --html',
    );
  }
}

/**
 * Writes the groups as one trace file; with no group that has a step, writes nothing and says so on
 * stderr (a file the user named is never replaced by an empty trace).
 */
export function writePerfetto(file: string, groups: readonly TraceGroup[], title: string): void {
  const traced = groups.filter((g) => g.il.rows.length > 0);
  if (traced.length === 0) {
    stderr(
      `vgic-lab: --perfetto: nothing to trace (${groups.length === 0 ? 'no finding' : 'every finding fired in the prologue'}); ${file} was not written\n`,
    );
    return;
  }
  try {
    writeFileSync(file, `${JSON.stringify(perfettoTrace(traced, title))}\n`);
  } catch (e) {
    throw new UsageError(
      `cannot write the Perfetto trace to ${file}: ${(e as Error).message}`,
      'give a writable file path to --perfetto',
    );
  }
}

/** The program of a scenario on a design; each execution builds its own world. */
export function programOf(s: LoadedScenario, d: Design): Program<World> {
  checkGicOfReplacements(s, d);
  return buildProgram(s.spec, d, s.source);
}

/**
 * A design module's replacement of a GIC-specific function (`vgic_v3_…`, `vgic_v2_…`) is explored
 * only on that GIC: a module that replaces one for the other GIC, without its counterpart for the
 * scenario's, would be checked without its change.
 */
function checkGicOfReplacements(s: LoadedScenario, d: Design): void {
  const mine = s.spec.vm.gic === 'v2' ? '_v2_' : '_v3_';
  const other = s.spec.vm.gic === 'v2' ? '_v3_' : '_v2_';
  const replaced = Object.keys(d.replace ?? {});
  const missing = replaced.filter((n) => n.includes(other) && !replaced.includes(n.replace(other, mine)));
  if (missing.length > 0)
    throw new UsageError(
      `design ${d.id} replaces ${missing.join(', ')}, which a GIC${other.slice(1, 3)} VM runs and scenario ${s.spec.name} (gic: ${s.spec.vm.gic}) never does: its change would not be explored`,
      `replace ${missing.map((n) => n.replace(other, mine)).join(', ')} as well, or check a gic: ${other.slice(1, 3)} scenario`,
    );
}

export function parseIntOption(name: string, v: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (!/^\d+$/.test(v))
    throw new UsageError(
      `--${name} takes a whole number, got "${v}"`,
      `for example --${name} ${Math.max(min, 1)}`,
    );
  const n = Number(v);
  if (n < min || n > max) throw new UsageError(`--${name} must be between ${min} and ${max}, got ${n}`);
  return n;
}
