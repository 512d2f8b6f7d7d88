import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ReplayStrategy } from '../../src/explore/strategies/replay.ts';
import { pre } from '../../src/scenario/catalogue/conformance.ts';
import { conformanceSuite } from '../../src/scenario/catalogue/suite.ts';
import { caseIt } from './conformance.ts';
import { check } from './util.ts';

// V0 (before LR overflow handling) passes the legacy-4 variants when nLR >= 4
// and cannot present a newer pending interrupt while nLR active ones fill the LRs. Asking the suite for
// the legacy-4 sizes alone leaves out the full-size PRE and RST cases, which V0 fails by design.
for (const nrLr of [4, 16]) {
  describe(`V0, nLR ${nrLr}, legacy-4 variants`, () => {
    for (const s of conformanceSuite([nrLr], ['legacy-4'])) caseIt(s, 'V0', 'default');
  });
}

describe('V0 fails PRE with more interrupts than LRs: a liveness failure', () => {
  it('PRE-SPI with 8 interrupts on 4 LRs never acknowledges the fifth: the poll loop reaches the step bound', () => {
    const s = pre('PRE-SPI', 32, 8, [], 'EDGE_IRQ_LINE', { trigger: 'edge', eoimode: 0, nrLr: 4 });
    const r = check(s, 'V0', new ReplayStrategy({ decisions: [] }), { maxSteps: 20_000 });
    assert.equal(r.result.stats.boundHits, 1);
    const v3 = check(s, 'V3', new ReplayStrategy({ decisions: [] }), { maxSteps: 20_000 });
    assert.equal(v3.result.stats.boundHits, 0);
  });
});
