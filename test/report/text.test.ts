import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { grouped, plural } from '../../src/report/text.ts';
import { runCli } from '../fuzz/run.ts';

describe('numbers in summaries', () => {
  it('group thousands with commas, as en-US does, without starting ICU', () => {
    for (const n of [0, 7, 999, 1000, 12345, 1234567, -1234, 100000])
      assert.equal(grouped(n), n.toLocaleString('en-US'), String(n));
    assert.equal(grouped(2.6), '3');
  });

  it('count words agree with their number: 1 preemption, 2 preemptions, 1,000 executions', async () => {
    assert.equal(plural(1, 'preemption'), '1 preemption');
    assert.equal(plural(0, 'preemption'), '0 preemptions');
    assert.equal(plural(1000, 'execution'), '1,000 executions');
    // The seed race's KCSAN report is minimised to one preemption.
    const r = await runCli([
      'check',
      'lpi-disable-vs-eoicount-replay',
      '--design',
      'V3',
      '--stop-on',
      'kernel',
    ]);
    assert.match(r.out, /Interleaving \(minimised\): \d+ steps, 1 preemption,/);
    assert.doesNotMatch(r.out, /\b1 (preemptions|executions|steps|findings)\b/);
  });
});
