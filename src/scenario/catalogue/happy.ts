import { scenario } from '../schema.ts';
import { GUEST_SETUP } from './common.ts';

/** One interrupt of each kind delivered end to end: the simplest scenarios to start from. */
export const happySgi = scenario({
  name: 'happy-sgi',
  description: 'vCPU 1 sends SGI 3 to vCPU 0, which takes it in its handler',
  vm: { vcpus: 2, nrLr: 4 },
  interrupts: [{ intid: 3, priority: 0x80, enabled: true }],
  actors: [
    { vcpu: 0, handler: 'simple', guest: [...GUEST_SETUP, { op: 'handle', count: 1 }] },
    { vcpu: 1, guest: [{ op: 'sgi', intid: 3, targets: [0] }] },
  ],
  expect: {
    acks: { 0: [3] },
    final: [{ intid: 3, vcpu: 0, active: false, pending: false }],
  },
});

/** A level interrupt raised by the VMM; the H-VGIC handler lowers the line and EOIs it. */
function happyLevel(name: string, description: string, intid: number, target?: number) {
  return scenario({
    name,
    description,
    vm: { vcpus: 1, nrLr: 4 },
    interrupts: [{ intid, trigger: 'level', priority: 0x80, enabled: true, target }],
    actors: [
      { vcpu: 0, handler: 'vgic-level', guest: [...GUEST_SETUP, { op: 'handle', count: 1 }] },
      { host: 'qemu-system-aar', actions: [{ call: 'irq_line', intid, level: true }] },
    ],
    expect: { acks: { 0: [intid] }, final: [{ intid, active: false, pending: false }] },
  });
}

export const happyPpi = happyLevel(
  'happy-ppi',
  'the VMM raises level PPI 23 of vCPU 0; the handler lowers the line and EOIs',
  23,
);

export const happySpiEdge = scenario({
  name: 'happy-spi-edge',
  description: 'a device thread pulses edge SPI 40 routed to vCPU 0',
  vm: { vcpus: 1, nrLr: 4 },
  interrupts: [{ intid: 40, priority: 0x80, enabled: true, target: 0 }],
  actors: [
    { vcpu: 0, handler: 'simple', guest: [...GUEST_SETUP, { op: 'handle', count: 1 }] },
    { host: 'device', actions: [{ call: 'edge', intid: 40 }] },
  ],
  expect: { acks: { 0: [40] }, final: [{ intid: 40, active: false, pending: false }] },
});

export const happySpiLevel = happyLevel(
  'happy-spi-level',
  'the VMM raises level SPI 41; the handler lowers it and EOIs',
  41,
  0,
);

export const happyLpi = scenario({
  name: 'happy-lpi',
  description: 'the VMM issues an ITS INT for LPI 8200 mapped to vCPU 0; the guest EOIs it (no DIR needed)',
  vm: { vcpus: 1, nrLr: 4, its: true },
  interrupts: [{ intid: 8200, priority: 0x80, lpi: { device: 1, event: 0, collection: 0 } }],
  lpisEnabled: [0],
  actors: [
    { vcpu: 0, handler: 'simple', guest: [...GUEST_SETUP, { op: 'handle', count: 1 }] },
    { host: 'qemu-system-aar', actions: [{ call: 'its', cmds: [{ cmd: 'INT', device: 1, event: 0 }] }] },
  ],
  expect: { acks: { 0: [8200] } },
});
