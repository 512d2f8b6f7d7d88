import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type Interleaving, renderInterleaving } from '../../src/report/interleaving.ts';
import { runCli } from '../fuzz/run.ts';

/** The seed race's oops as check reports it: its interleaving and the step that fired. */
async function seedRace(): Promise<{ il: Interleaving; step: number; title: string }> {
  const r = await runCli(['check', 'lpi-disable-vs-eoicount-replay', '--design', 'V3', '--json']);
  const f = JSON.parse(r.out).findings[0];
  return { il: f.interleaving, step: f.step, title: f.title };
}

/** The text of the table without its layout (wrapping may split a long word), for searching. */
const bare = (text: string) => text.replace(/\s+/g, '');

describe('interleaving tables', () => {
  it('fit the width they are given, 80 columns when the terminal is unknown, down to one step per line', async () => {
    const { il, step } = await seedRace();
    for (const width of [120, 80, 60, 40, 30]) {
      const lines = renderInterleaving(il, { width, firing: step });
      for (const l of lines) assert.ok(l.length <= width, `${width}: ${l.length} > ${width}: ${l}`);
    }
    assert.ok(renderInterleaving(il, { firing: step }).every((l) => l.length <= 80));
    // Too narrow for two columns: one line per step, each naming its CPU.
    const narrow = renderInterleaving(il, { width: 30, firing: step });
    assert.ok(narrow.some((l) => /^ {2}CPU 1\/KVM: \d+:/.test(l)));
  });

  it('a terminal narrower than a thread name, or of no width, still gets the whole table', async () => {
    const { il, step } = await seedRace();
    const named = { ...il, threads: il.threads.map((t) => ({ ...t, name: `${t.name}-with-a-long-name` })) };
    for (const width of [0, 1, 16, 20]) {
      const lines = renderInterleaving(named, { width, firing: step });
      assert.equal(lines.filter((l) => l.startsWith('>>')).length, 1, `${width}`);
    }
  });

  it('mark exactly the step that fired, and never cut what fired or the value a choice took', async () => {
    const { il, step, title } = await seedRace();
    for (const width of [120, 80, 40, 30]) {
      const lines = renderInterleaving(il, { width, firing: step });
      const marked = lines.filter((l) => l.startsWith('>>'));
      assert.equal(marked.length, 1, `${width}`);
      assert.match(marked[0], new RegExp(`>>\\s*(CPU \\d/KVM: )?${step}: `));
      assert.ok(bare(lines.join('')).includes(bare(`<-- ${title}`)), `${width}: the firing note whole`);
      assert.ok(
        bare(lines.join('')).includes(bare('[choose guest runs on before the MI exit = 0]')),
        `${width}`,
      );
    }
  });

  it('fold steps that only take and release locks, unless verbose', async () => {
    const { il, step } = await seedRace();
    const short = renderInterleaving(il, { firing: step });
    const all = renderInterleaving(il, { firing: step, verbose: true });
    assert.ok(short.some((l) => /\(steps \d+-\d+: locks only\)/.test(l)));
    assert.ok(!all.some((l) => /locks only/.test(l)));
    assert.ok(short.length < all.length / 2, `${short.length} lines against ${all.length}`);
    // Verbose shows every step that is not a run of guest instructions.
    const guest = new Set(il.rows.filter((r) => r.op === 'guest' && r.notes.length === 0).map((r) => r.step));
    for (const r of il.rows)
      if (!guest.has(r.step))
        assert.ok(
          all.some((l) => new RegExp(`(^|\\s|>)${r.step}: `).test(l)),
          `step ${r.step}`,
        );
  });
});
