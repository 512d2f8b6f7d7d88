import { scenario } from '../schema.ts';
import { GUEST_SETUP } from './common.ts';

/**
 * vgic-host.md §6.2: LRs hold {P1, A3}, A2 is active beyond them. The guest EOIs A3 (in an LR) and A2
 * (counted by EOIcount), then acknowledges P1 before the LRENP exit lands. A replay from the list head
 * (V2) deactivates P1 instead of A2.
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
