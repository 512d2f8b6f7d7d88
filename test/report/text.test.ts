import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { grouped } from '../../src/report/text.ts';

describe('numbers in summaries', () => {
  it('group thousands with commas, as en-US does, without starting ICU', () => {
    for (const n of [0, 7, 999, 1000, 12345, 1234567, -1234, 100000])
      assert.equal(grouped(n), n.toLocaleString('en-US'), String(n));
    assert.equal(grouped(2.6), '3');
  });
});
