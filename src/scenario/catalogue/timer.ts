import { scenario } from '../schema.ts';
import { GUEST_SETUP } from './common.ts';

/**
 * The virtual timer as a HW-mapped PPI (27), handled in EOImode 1 on a host without ICH_HCR_EL2.TDIR,
 * so every DIR traps to vgic_v3_deactivate: the guest's DIR must deactivate the physical PPI too, or
 * the timer never fires again and the second acknowledge never comes (the selftests' arch-timer case
 * with split priority drop and deactivation).
 */
export const timerHwEoimode1 = scenario({
  name: 'timer-hw-ppi-eoimode1-trapped-dir',
  description:
    'the virtual timer (HW-mapped PPI 27) in EOImode 1 with every DIR trapped: each deactivation reaches the physical PPI, so the timer fires again',
  vm: { vcpus: 1, nrLr: 4, hostTdir: false },
  interrupts: [{ intid: 27, priority: 0xa0, enabled: true, timer: true }],
  prologue: [{ vcpu: 0, guest: [...GUEST_SETUP, { op: 'eoimode', value: 1 }] }],
  actors: [
    {
      vcpu: 0,
      guest: [
        { op: 'poll', expect: 27 },
        { op: 'eoi', intid: 27 },
        { op: 'dir', intid: 27 },
        { op: 'poll', expect: 27 },
        { op: 'eoi', intid: 27 },
        { op: 'dir', intid: 27 },
      ],
    },
    {
      host: 'timer',
      actions: [
        { call: 'timer', vcpu: 0 },
        { call: 'timer', vcpu: 0 },
      ],
    },
  ],
  expect: { acks: { 0: [27, 27] }, final: [{ intid: 27, vcpu: 0, active: false, pending: false }] },
});
