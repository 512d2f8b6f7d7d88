import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { type Cell, cell } from './baseline/cells.ts';
import { FULL } from './tier.ts';

/**
 * Every catalogue cell still gives the verdict, execution and step counts, findings, replay tokens
 * and report text (function offsets aside) recorded in test/baseline/catalogue.json (`npm run
 * baseline`). The quick tier checks the merged head walk, mainline and the locked fold (V2, V3, V4b)
 * and leaves out the scenarios that take seconds each; the full tier checks every cell.
 */
const recorded: Cell[] = JSON.parse(readFileSync('test/baseline/catalogue.json', 'utf8'));
const SLOW = new Set(['inj-sgi-all-edge-eoimode0-ispendr-nlr4']);
const QUICK_DESIGNS = new Set(['V2', 'V3', 'V4b']);

describe('the catalogue gives what was recorded', () => {
  for (const design of [...new Set(recorded.map((c) => c.design))].filter(
    (d) => FULL || QUICK_DESIGNS.has(d),
  )) {
    it(design, async () => {
      for (const want of recorded.filter((c) => c.design === design && (FULL || !SLOW.has(c.scenario)))) {
        assert.deepEqual(await cell(want.scenario, want.design), want, `${want.scenario} on ${design}`);
      }
    });
  }
});
