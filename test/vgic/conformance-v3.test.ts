import { describe } from 'node:test';
import { fail, inj, kutIpi, pre, rst } from '../../src/scenario/catalogue/conformance.ts';
import { conformanceSuite } from '../../src/scenario/catalogue/suite.ts';
import { caseIt } from './conformance.ts';

// conformance.md on design V3: every case for nLR 1, 2, 4 and 16 under the default schedule, and
// the small ones (one interrupt, four interrupts, FAIL, the IPI tests) under exhaustive DPOR.
for (const nLr of [1, 2, 4, 16]) {
  describe(`V3, nLR ${nLr}, default schedule`, () => {
    for (const s of conformanceSuite([nLr], ['full', 'legacy-4'])) caseIt(s, 'V3', 'default');
  });
}

describe('V3, DPOR', () => {
  for (const trigger of ['edge', 'level'] as const) {
    for (const eoimode of [0, 1] as const) {
      for (const nLr of [1, 4]) {
        const c = { trigger, eoimode, nLr };
        const m = trigger === 'edge' ? 'EDGE_IRQ_LINE' : 'SET_IRQ_LINE_HIGH';
        caseIt(inj('INJ-SPI-1', [32], m, c), 'V3', 'dpor');
        caseIt(pre('PRE-SPI-4', 32, 4, [], m, c), 'V3', 'dpor');
        caseIt(rst('RST-SPI-4', 32, 4, c), 'V3', 'dpor');
        caseIt(fail(m, c), 'V3', 'dpor');
      }
    }
  }
  for (const kind of ['self', 'target-list', 'broadcast'] as const) caseIt(kutIpi(kind, 4, 4), 'V3', 'dpor');
});
