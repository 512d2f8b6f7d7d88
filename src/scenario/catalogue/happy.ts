import type { ScenarioSpec } from '../builder.ts';
import { DEFAULT_VM } from './common.ts';

const setup = [
  { op: 'igrpen' as const, group: 1 as const, enable: true },
  { op: 'pmr' as const, value: 0xf8 },
];

const base = { lpis: [], lpisEnabledOn: [], prologue: [] as ScenarioSpec['prologue'] };

/** One interrupt of each kind delivered end to end: the simplest scenarios to start from. */
export const happySgi: ScenarioSpec = {
  ...base,
  name: 'happy-sgi',
  description: 'vCPU 1 sends SGI 3 to vCPU 0, which takes it in its handler',
  vm: { ...DEFAULT_VM, nrVcpus: 2 },
  irqs: [{ intid: 3, priority: 0x80, enabled: true }],
  actors: [
    { kind: 'vcpu', vcpu: 0, handler: { kind: 'simple' }, guest: [...setup, { op: 'handle', count: 1 }] },
    { kind: 'vcpu', vcpu: 1, guest: [{ op: 'sgi', intid: 3, targets: [0] }] },
  ],
  expect: {
    acks: { 0: { intids: [3] } },
    finalState: [{ intid: 3, vcpu: 0, active: false, pending: false }],
  },
};

export const happyPpi: ScenarioSpec = {
  ...base,
  name: 'happy-ppi',
  description: 'the VMM raises level PPI 23 of vCPU 0; the handler lowers the line and EOIs',
  vm: { ...DEFAULT_VM },
  irqs: [{ intid: 23, trigger: 'level', priority: 0x80, enabled: true }],
  actors: [
    {
      kind: 'vcpu',
      vcpu: 0,
      handler: {
        kind: 'vgic',
        level: true,
        lowerLine: (intid) => ({ call: 'irq_line', intid, level: false }),
      },
      guest: [...setup, { op: 'handle', count: 1 }],
    },
    { kind: 'host', name: 'qemu-system-aar', host: [{ call: 'irq_line', intid: 23, level: true }] },
  ],
  expect: { acks: { 0: { intids: [23] } }, finalState: [{ intid: 23, active: false, pending: false }] },
};

export const happySpiEdge: ScenarioSpec = {
  ...base,
  name: 'happy-spi-edge',
  description: 'a device thread pulses edge SPI 40 routed to vCPU 0',
  vm: { ...DEFAULT_VM },
  irqs: [{ intid: 40, priority: 0x80, enabled: true, vcpu: 0 }],
  actors: [
    { kind: 'vcpu', vcpu: 0, handler: { kind: 'simple' }, guest: [...setup, { op: 'handle', count: 1 }] },
    { kind: 'host', name: 'device', host: [{ call: 'edge', intid: 40 }] },
  ],
  expect: { acks: { 0: { intids: [40] } }, finalState: [{ intid: 40, active: false, pending: false }] },
};

export const happySpiLevel: ScenarioSpec = {
  ...base,
  name: 'happy-spi-level',
  description: 'the VMM raises level SPI 41; the handler lowers it and EOIs',
  vm: { ...DEFAULT_VM },
  irqs: [{ intid: 41, trigger: 'level', priority: 0x80, enabled: true, vcpu: 0 }],
  actors: [
    {
      kind: 'vcpu',
      vcpu: 0,
      handler: {
        kind: 'vgic',
        level: true,
        lowerLine: (intid) => ({ call: 'irq_line', intid, level: false }),
      },
      guest: [...setup, { op: 'handle', count: 1 }],
    },
    { kind: 'host', name: 'qemu-system-aar', host: [{ call: 'irq_line', intid: 41, level: true }] },
  ],
  expect: { acks: { 0: { intids: [41] } }, finalState: [{ intid: 41, active: false, pending: false }] },
};

export const happyLpi: ScenarioSpec = {
  ...base,
  name: 'happy-lpi',
  description: 'the VMM issues an ITS INT for LPI 8200 mapped to vCPU 0; the guest EOIs it (no DIR needed)',
  vm: { ...DEFAULT_VM, its: true },
  irqs: [],
  lpis: [{ intid: 8200, device: 1, event: 0, collection: 0, priority: 0x80 }],
  lpisEnabledOn: [0],
  actors: [
    { kind: 'vcpu', vcpu: 0, handler: { kind: 'simple' }, guest: [...setup, { op: 'handle', count: 1 }] },
    {
      kind: 'host',
      name: 'qemu-system-aar',
      host: [{ call: 'its', cmds: [{ cmd: 'INT', device: 1, event: 0 }] }],
    },
  ],
  expect: { acks: { 0: { intids: [8200] } } },
};
