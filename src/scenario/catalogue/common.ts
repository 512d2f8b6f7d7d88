import type { GuestStep } from '../../gic/guest.ts';

/** What every guest does first: enable group 1 and open the priority mask (VMCR resets to 0). */
export const GUEST_SETUP: GuestStep[] = [
  { op: 'igrpen', group: 1, enable: true },
  { op: 'pmr', value: 0xf8 },
];
