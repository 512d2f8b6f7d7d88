import { lowerLine, type ScenarioSpec } from '../builder.ts';
import { DEFAULT_VM, GUEST_SETUP } from './common.ts';

const base = { lpis: [], lpisEnabledOn: [], prologue: [] as ScenarioSpec['prologue'] };

/** One interrupt of each kind delivered end to end: the simplest scenarios to start from. */
export const happySgi: ScenarioSpec = {
  ...base,
  name: 'happy-sgi',
  description: 'vCPU 1 sends SGI 3 to vCPU 0, which takes it in its handler',
  vm: { ...DEFAULT_VM, vcpus: 2 },
  irqs: [{ intid: 3, priority: 0x80, enabled: true }],
  actors: [
    {
      kind: 'vcpu',
      vcpu: 0,
      handler: { kind: 'simple' },
      guest: [...GUEST_SETUP, { op: 'handle', count: 1 }],
    },
    { kind: 'vcpu', vcpu: 1, guest: [{ op: 'sgi', intid: 3, targets: [0] }] },
  ],
  expect: {
    acks: { 0: { intids: [3] } },
    finalState: [{ intid: 3, vcpu: 0, active: false, pending: false }],
  },
};

/** A level interrupt raised by the VMM; the H-VGIC handler lowers the line and EOIs it. */
function happyLevel(name: string, description: string, intid: number, target?: number): ScenarioSpec {
  return {
    ...base,
    name,
    description,
    vm: { ...DEFAULT_VM },
    irqs: [{ intid, trigger: 'level', priority: 0x80, enabled: true, vcpu: target }],
    actors: [
      {
        kind: 'vcpu',
        vcpu: 0,
        handler: { kind: 'vgic', level: true, lowerLine },
        guest: [...GUEST_SETUP, { op: 'handle', count: 1 }],
      },
      { kind: 'host', name: 'qemu-system-aar', host: [{ call: 'irq_line', intid, level: true }] },
    ],
    expect: { acks: { 0: { intids: [intid] } }, finalState: [{ intid, active: false, pending: false }] },
  };
}

export const happyPpi = happyLevel(
  'happy-ppi',
  'the VMM raises level PPI 23 of vCPU 0; the handler lowers the line and EOIs',
  23,
);

export const happySpiEdge: ScenarioSpec = {
  ...base,
  name: 'happy-spi-edge',
  description: 'a device thread pulses edge SPI 40 routed to vCPU 0',
  vm: { ...DEFAULT_VM },
  irqs: [{ intid: 40, priority: 0x80, enabled: true, vcpu: 0 }],
  actors: [
    {
      kind: 'vcpu',
      vcpu: 0,
      handler: { kind: 'simple' },
      guest: [...GUEST_SETUP, { op: 'handle', count: 1 }],
    },
    { kind: 'host', name: 'device', host: [{ call: 'edge', intid: 40 }] },
  ],
  expect: { acks: { 0: { intids: [40] } }, finalState: [{ intid: 40, active: false, pending: false }] },
};

export const happySpiLevel = happyLevel(
  'happy-spi-level',
  'the VMM raises level SPI 41; the handler lowers it and EOIs',
  41,
  0,
);

export const happyLpi: ScenarioSpec = {
  ...base,
  name: 'happy-lpi',
  description: 'the VMM issues an ITS INT for LPI 8200 mapped to vCPU 0; the guest EOIs it (no DIR needed)',
  vm: { ...DEFAULT_VM, its: true },
  irqs: [],
  lpis: [{ intid: 8200, device: 1, event: 0, collection: 0, priority: 0x80 }],
  lpisEnabledOn: [0],
  actors: [
    {
      kind: 'vcpu',
      vcpu: 0,
      handler: { kind: 'simple' },
      guest: [...GUEST_SETUP, { op: 'handle', count: 1 }],
    },
    {
      kind: 'host',
      name: 'qemu-system-aar',
      host: [{ call: 'its', cmds: [{ cmd: 'INT', device: 1, event: 0 }] }],
    },
  ],
  expect: { acks: { 0: { intids: [8200] } } },
};
