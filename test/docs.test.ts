import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parseDesignFile } from '../src/scenario/design-file.ts';
import { parseScenario } from '../src/scenario/load.ts';

/**
 * Every scenario the documentation shows is a real one: each ```yaml block of README.md and docs/
 * loads (a design file as a design file), and each `$ vgic-lab …` line of the ```console blocks that follow it, up to the next yaml
 * block, prints the summary line written below it ("…" stands for any text). The file name on the
 * command line is where the page says the scenario is saved.
 */
const pages = [
  'README.md',
  ...readdirSync('docs')
    .filter((f) => f.endsWith('.md'))
    .map((f) => join('docs', f)),
];
const tmp = mkdtempSync(join(tmpdir(), 'vgic-lab-docs-'));

interface Block {
  lang: string;
  body: string;
}

function blocks(text: string): Block[] {
  const out: Block[] = [];
  const re = /^```(\w*)\n([\s\S]*?)^```$/gm;
  for (let m = re.exec(text); m; m = re.exec(text)) out.push({ lang: m[1], body: m[2] });
  return out;
}

/** The expected line as a pattern: literal text, "…" for anything. */
function pattern(expected: string): RegExp {
  const esc = expected
    .split('…')
    .map((s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
    .join('.*');
  return new RegExp(`^${esc}$`, 'm');
}

describe('the scenarios shown in the documentation', () => {
  let scenarios = 0;
  let claims = 0;
  for (const page of pages) {
    const list = blocks(readFileSync(page, 'utf8'));
    list.forEach((b, i) => {
      if (b.lang !== 'yaml') return;
      const name = /^name: ([\w-]+)/m.exec(b.body)?.[1] ?? `block ${i}`;
      // A design file (docs/designs.md) has a base design and no VM.
      if (/^base: /m.test(b.body) && !/^vm:/m.test(b.body)) {
        it(`${page}: design file ${name} loads`, () => {
          parseDesignFile(b.body, `${page} (yaml block ${i})`);
        });
        return;
      }
      it(`${page}: ${name} loads and gives the verdicts the page claims`, () => {
        scenarios++;
        parseScenario(b.body, `${page} (yaml block ${i})`);
        for (const c of list.slice(i + 1)) {
          if (c.lang === 'yaml') break;
          if (c.lang !== 'console') continue;
          const lines = c.body.split('\n');
          lines.forEach((line, j) => {
            const cmd = /^\$ vgic-lab (.*)$/.exec(line);
            if (!cmd) return;
            const args = cmd[1].split(/\s+/);
            const file = args.find((a) => a.endsWith('.yaml'));
            assert.ok(file, `${line}: names the scenario file`);
            const path = join(tmp, file);
            writeFileSync(path, b.body);
            const r = spawnSync(
              process.execPath,
              ['--import', 'tsx', 'src/cli/main.ts', ...args.map((a) => (a === file ? path : a))],
              { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } },
            );
            assert.ok(r.status === 0 || r.status === 1, `${line}: ${r.stderr}`);
            assert.match(r.stdout, pattern(lines[j + 1]), `${page}: ${line}`);
            claims++;
          });
        }
      });
    });
  }
  it('found scenarios and claims to check', () => {
    assert.ok(scenarios >= 1 && claims >= 2, `${scenarios} scenarios, ${claims} claims`);
  });
});
