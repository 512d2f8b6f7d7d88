import { scenario } from '../schema.ts';
import { GUEST_SETUP } from './common.ts';

/**
 * The head walk's wrong deactivation: the LRs hold SPI 32 (pending) and SPI 33 (active), SPI 34 is
 * active beyond them. The guest EOIs 33 (in an LR) and 34 (counted by EOIcount), then acknowledges 32
 * before the LRENP exit lands. A replay from the list head (V2) deactivates 32 instead of 34; the
 * tail walk (V3) starts after 33 and gets it right.
 */
export const headWalk = scenario({
  name: 'head-walk-wrong-deactivation',
  description: 'EOIcount replay from the AP-list head deactivates an interrupt that was in an LR (V2)',
  vm: { vcpus: 1, nrLr: 2, maxMiDelay: 2 },
  interrupts: [
    { intid: 32, priority: 0x10, enabled: true, target: 0 },
    { intid: 33, priority: 0x20, enabled: true, target: 0 },
    { intid: 34, priority: 0x40, enabled: true, target: 0 },
  ],
  prologue: [
    {
      vcpu: 0,
      guest: [
        ...GUEST_SETUP,
        { op: 'hvc', call: { call: 'edge', intid: 34 } },
        { op: 'poll', expect: 34 },
        { op: 'hvc', call: { call: 'edge', intid: 33 } },
        { op: 'poll', expect: 33 },
        { op: 'hvc', call: { call: 'edge', intid: 32 } },
      ],
    },
  ],
  actors: [
    {
      vcpu: 0,
      guest: [{ op: 'eoi', intid: 33 }, { op: 'eoi', intid: 34 }, { op: 'ack', group: 1 }, { op: 'eoi' }],
    },
  ],
  expect: {
    final: [
      { intid: 32, active: false },
      { intid: 33, active: false },
      { intid: 34, active: false },
    ],
  },
});
