import { scenario } from '../schema.ts';
import { GUEST_SETUP } from './common.ts';

/**
 * A level SPI behind a resampling irqfd: the guest acknowledges and EOIs it; the fold of its
 * EOI-maintenance LR notifies the resampler, which lowers the line (re-entering the injection path)
 * and signals the resample eventfd (a spinlock_t). That must never happen under ap_list_lock or
 * irq_lock: V1–V3 call it with only IRQs off, V4b defers it past the unlock.
 */
export const levelResample = scenario({
  name: 'level-spi-irqfd-resample',
  description: 'a level SPI with a resampling irqfd is acknowledged and EOId; the resampler runs at fold',
  vm: { vcpus: 2, nrLr: 4 },
  interrupts: [{ intid: 40, trigger: 'level', priority: 0x40, enabled: true, target: 0 }],
  resamplers: [40],
  prologue: [{ vcpu: 0, guest: [...GUEST_SETUP] }, { host: { call: 'irqfd', intid: 40 } }],
  actors: [
    {
      vcpu: 0,
      // The trapped read makes the fold record SPI 40 active, so the later fold sees it deactivated.
      guest: [
        { op: 'ack', expect: 40 },
        { op: 'read', read: { reg: 'ISACTIVER', intid: 40 }, expect: true },
        { op: 'eoi' },
      ],
    },
    { host: 'vfio-device', actions: [{ call: 'irq_line', intid: 40, level: true }] },
  ],
  expect: { acks: { 0: [40] } },
});
