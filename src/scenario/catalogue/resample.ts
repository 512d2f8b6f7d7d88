import type { ScenarioSpec } from '../builder.ts';
import { DEFAULT_VM, GUEST_SETUP } from './common.ts';

/**
 * A level SPI behind a resampling irqfd (vgic-host.md §3.17): the guest acknowledges and EOIs it; the
 * fold of its EOI-maintenance LR notifies the resampler, which lowers the line (re-entering the
 * injection path) and signals the resample eventfd (a spinlock_t). That must never happen under
 * ap_list_lock or irq_lock: V1–V3 call it with only IRQs off, V4b defers it past the unlock.
 */
export const levelResample: ScenarioSpec = {
  name: 'level-spi-irqfd-resample',
  description: 'a level SPI with a resampling irqfd is acknowledged and EOId; the resampler runs at fold',
  vm: { ...DEFAULT_VM, vcpus: 2 },
  irqs: [{ intid: 40, trigger: 'level', priority: 0x40, enabled: true, vcpu: 0 }],
  lpis: [],
  lpisEnabledOn: [],
  resamplers: [40],
  prologue: [
    {
      vcpu: 0,
      guest: [...GUEST_SETUP],
    },
    { host: { call: 'irqfd', intid: 40 } },
  ],
  actors: [
    {
      kind: 'vcpu',
      vcpu: 0,
      // The trapped read makes the fold record SPI 40 active, so the later fold sees it deactivated.
      guest: [
        { op: 'ack', expect: 40 },
        { op: 'read', read: { reg: 'ISACTIVER', intid: 40 }, expect: true },
        { op: 'eoi' },
      ],
    },
    { kind: 'host', name: 'vfio-device', host: [{ call: 'irq_line', intid: 40, level: true }] },
  ],
  expect: { acks: { 0: { intids: [40] } } },
};
