import { scenario } from '../schema.ts';
import { GUEST_SETUP } from './common.ts';

/**
 * The race reported in June 2026 against the tail walk (V3): vCPU 0 has more interrupts than LRs, LPI
 * 8195 in its last LR and an active SPI beyond the LRs; its guest EOIs that SPI (EOImode 0, so
 * EOIcount counts it) while vCPU 1's guest clears vCPU 0's GICR_CTLR.EnableLPIs.
 */
export const seedRace = scenario({
  name: 'lpi-disable-vs-eoicount-replay',
  description:
    'EOIcount replay after last_lr_irq races vgic_flush_pending_lpis from another vCPU (the June 2026 race)',
  vm: { vcpus: 2, nrLr: 4, its: true },
  interrupts: [
    { intid: 32, priority: 0x10, enabled: true, target: 0 },
    { intid: 33, priority: 0x20, enabled: true, target: 0 },
    { intid: 34, priority: 0x30, enabled: true, target: 0 },
    { intid: 35, priority: 0x50, enabled: true, target: 0 },
    { intid: 36, priority: 0xb0, enabled: true, target: 0 },
    { intid: 8195, priority: 0xa0, lpi: { device: 0, event: 3, collection: 0 } },
  ],
  lpisEnabled: [0],
  prologue: [
    // vCPU 0 acknowledges SPI 35 in an earlier run and keeps it active.
    {
      vcpu: 0,
      guest: [...GUEST_SETUP, { op: 'hvc', call: { call: 'edge', intid: 35 } }, { op: 'poll', expect: 35 }],
    },
    { vcpu: 1, guest: [...GUEST_SETUP] },
    // Then A, B, C, the LPI and a further SPI become pending for vCPU 0.
    { host: { call: 'edge', intid: 32 } },
    { host: { call: 'edge', intid: 33 } },
    { host: { call: 'edge', intid: 34 } },
    { host: { call: 'its', cmds: [{ cmd: 'INT', device: 0, event: 3 }] } },
    { host: { call: 'edge', intid: 36 } },
  ],
  actors: [
    { vcpu: 0, guest: [{ op: 'eoi', intid: 35 }] },
    { vcpu: 1, guest: [{ op: 'mmio', write: { reg: 'GICR_CTLR', vcpu: 0, enableLpis: false } }] },
  ],
});

/**
 * The seed race after a DISCARD: the LPI's ITE was discarded before, so the AP list holds its
 * last reference and vgic_flush_pending_lpis frees it (kfree_rcu) while vCPU 0 is in guest mode.
 */
export const seedRaceDiscarded = scenario({
  ...seedRace,
  name: 'lpi-disable-vs-eoicount-replay-discarded',
  description: 'the seed race after a DISCARD: the LPI is freed while vCPU 0 runs the guest (use-after-free)',
  prologue: [
    ...seedRace.prologue,
    { host: { call: 'its', cmds: [{ cmd: 'DISCARD', device: 0, event: 3 }] } },
  ],
});

/**
 * The DISCARD variant with a guest that exits without any EOI (EOIcount 0): nothing is replayed, but
 * the tail walk's loop header still loads `last_lr_irq->ap_list.next` before the body tests EOIcount.
 * On V3 that load reads the LPI freed by vgic_flush_pending_lpis (use-after-free); V4b's pinned
 * `last_lr_irq` and locked fold keep it alive.
 */
export const seedRaceDiscardedNoEoi = scenario({
  ...seedRaceDiscarded,
  name: 'lpi-disable-vs-fold-without-eoi-discarded',
  description:
    'the DISCARD variant where vCPU 0 exits without an EOI: the fold still loads the freed last_lr_irq (use-after-free)',
  actors: [{ vcpu: 0, guest: [{ op: 'pmr', value: 0xf8 }] }, seedRace.actors[1]],
});
