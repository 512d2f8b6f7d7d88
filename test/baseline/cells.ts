import { createHash } from 'node:crypto';
import { catalogue } from '../../src/scenario/catalogue/index.ts';
import { DESIGNS } from '../../src/vgic/designs.ts';
import { runCli } from '../fuzz/run.ts';

/**
 * What a catalogue cell (scenario × design) produces: `check --json` with compare's execution budget
 * and `run --json`. Function offsets (`+0x8/0x11`) are derived from the model's step names and may
 * change when a function's steps do; everything else must not, so they are blanked before hashing.
 */
export interface Cell {
  scenario: string;
  design: string;
  check: {
    code: number;
    verdict: string;
    executions: number;
    steps: number;
    exhaustive: boolean;
    findings: { title: string; token: string; step: number; execution: number }[];
    digest: string;
  };
  run: { code: number; digest: string };
}

const OFFSET = /\+0x[0-9a-f]+\/0x[0-9a-f]+/g;

function normalised(text: string): string {
  return text.replace(OFFSET, '+0x?/0x?');
}

function digest(text: string): string {
  return createHash('sha256').update(normalised(text)).digest('hex').slice(0, 16);
}

export function cellNames(): { scenario: string; design: string }[] {
  return catalogue().flatMap((s) => DESIGNS.map((d) => ({ scenario: s.name, design: d.id })));
}

export async function cell(scenario: string, design: string): Promise<Cell> {
  const c = await runCli(['check', scenario, '--design', design, '--max-executions', '300', '--json']);
  const r = await runCli(['run', scenario, '--design', design, '--json']);
  const j = JSON.parse(c.out);
  return {
    scenario,
    design,
    check: {
      code: c.code,
      verdict: normalised(j.verdict),
      executions: j.stats.executions,
      steps: j.stats.steps,
      exhaustive: j.exhaustive,
      findings: j.findings.map((f: { title: string; token: string; step: number; execution: number }) => ({
        title: normalised(f.title),
        token: f.token,
        step: f.step,
        execution: f.execution,
      })),
      digest: digest(c.out),
    },
    run: { code: r.code, digest: digest(r.out) },
  };
}
