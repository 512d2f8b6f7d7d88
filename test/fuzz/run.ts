import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { runCommand } from '../../src/cli/command.ts';
import { capturing } from '../../src/cli/output.ts';
import { NEVER } from '../../src/explore/stop.ts';
import type { FuzzFile } from './scenarios.ts';

/** Runs a vgic-lab command line in this process, as the worker thread would, and captures its output. */
export async function runCli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await capturing(
    (fd, text) => (fd === 1 ? out : err).push(text),
    () => runCommand(['node', 'vgic-lab', ...args], NEVER),
  );
  return { code, out: out.join(''), err: err.join('') };
}

/** What went wrong with one command on one file, or null: a crash, a stack trace, an exit 2 without a position. */
export function problem(args: string[], r: { code: number; err: string }): string | null {
  if (r.code === 3) return `exit 3 (internal error) for ${args.join(' ')}:\n${r.err}`;
  if (/\n\s+at .+:\d+:\d+\)?\n/.test(r.err)) return `a stack trace for ${args.join(' ')}:\n${r.err}`;
  if (r.code === 2 && !/^vgic-lab: .+:\d+:\d+: /m.test(r.err))
    return `exit 2 without file:line:column for ${args.join(' ')}:\n${r.err}`;
  if (![0, 1, 2].includes(r.code)) return `exit ${r.code} for ${args.join(' ')}:\n${r.err}`;
  return null;
}

/** `run` on V3 and V4b and a short `check` on each: the first problem, or null. */
export async function fuzzScenario(text: string, dir: string): Promise<string | null> {
  const file = join(dir, 'fuzz.yaml');
  writeFileSync(file, text);
  for (const design of ['V3', 'V4b']) {
    for (const args of [
      ['run', file, '--design', design],
      ['check', file, '--design', design, '--max-executions', '12', '--json'],
    ]) {
      const r = await runCli(args);
      const p = problem(args, r);
      if (p) return `${p}\n--- ${file}:\n${text}`;
      // A file that does not load is refused by the first command already.
      if (r.code === 2) return null;
    }
  }
  return null;
}

export function yamlOf(f: FuzzFile): string {
  return stringify(f);
}
