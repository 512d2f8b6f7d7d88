import type { GuestStep } from '../../gic/guest.ts';
import type { GicRegWrite } from '../../gic/regs.ts';
import type { HostCall } from '../../vgic/host.ts';
import { type ScenarioSpec, scenario } from '../schema.ts';
import { kutIpi } from './conformance.ts';

/**
 * The GICv2 scenarios: a GICv2 VM on a GICv2 host (docs/model.md, "GICv2"). Most are GICv3 scenarios
 * moved over by `onGicv2`; the kvm-unit-tests IPI and active-state cases and the tail-walk race are
 * GICv2's own.
 */

/** A register write as a GICv2 VM makes it: an SPI routed with ITARGETSR instead of IROUTER. */
function v2Write(w: GicRegWrite): GicRegWrite {
  if (w.reg !== 'IROUTER') return w;
  return { reg: 'ITARGETSR', intid: w.intid, targets: w.vcpu === null ? [] : [w.vcpu] };
}

function v2Call(c: HostCall): HostCall {
  return c.call === 'uaccess' ? { ...c, write: v2Write(c.write) } : c;
}

/** A guest program as it runs on a GICv2 VM: KVM puts every interrupt in group 0. */
function v2Steps(steps: readonly GuestStep[]): GuestStep[] {
  return steps.map((s): GuestStep => {
    switch (s.op) {
      case 'igrpen':
        return { ...s, group: 0 };
      case 'ack':
      case 'poll':
      case 'eoi':
      case 'apr':
        return s.group === undefined ? s : { ...s, group: 0 };
      case 'mmio':
        return { ...s, write: v2Write(s.write) };
      case 'hvc':
        return { ...s, call: v2Call(s.call as HostCall) };
      case 'repeat':
        return { ...s, body: v2Steps(s.body) };
      default:
        return s;
    }
  });
}

/** The GICv3 scenario `s` on a GICv2 VM and host: named `<name>-gicv2`, everything in group 0. */
export function onGicv2(s: ScenarioSpec): ScenarioSpec {
  return scenario({
    ...s,
    name: `${s.name}-gicv2`,
    description: `${s.description} (GICv2)`,
    vm: { ...s.vm, gic: 'v2' },
    interrupts: s.interrupts.map((i) => ({ ...i, group: i.group === undefined ? undefined : 0 })),
    prologue: s.prologue.map((p) =>
      'host' in p ? { host: v2Call(p.host) } : { ...p, guest: v2Steps(p.guest) },
    ),
    actors: s.actors.map((a) =>
      'vcpu' in a ? { ...a, guest: v2Steps(a.guest) } : { ...a, actions: a.actions.map(v2Call) },
    ),
  });
}

/**
 * kvm-unit-tests' gicv2-ipi: as on GICv3 (conformance.ts), with GICD_SGIR's TargetListFilter (the
 * self case is "this CPU only") and the sender checked from the IAR's CPUID field on every acknowledge.
 */
export function kutIpiGicv2(
  kind: 'self' | 'target-list' | 'broadcast',
  vcpus: number,
  nrLr: number,
): ScenarioSpec {
  const v3 = kutIpi(kind, vcpus, nrLr);
  const s = onGicv2(v3);
  const acks = s.expect.acks ?? {};
  return scenario({
    ...s,
    name: `kut-gicv2-ipi-${kind}-${vcpus}cpus-nlr${nrLr}`,
    actors: s.actors.map((a) =>
      'vcpu' in a && kind === 'self'
        ? { ...a, guest: a.guest.map((g) => (g.op === 'sgi' ? { ...g, targets: 'self' as const } : g)) }
        : a,
    ),
    expect: {
      ...s.expect,
      sgiSources: Object.fromEntries(
        Object.entries(acks).map(([cpu, list]) => [
          cpu,
          (Array.isArray(list) ? list : list.intids).map(() => 1),
        ]),
      ),
    },
  });
}

/**
 * kvm-unit-tests' gicv2-active: CPU 1 sends SGI 1 to itself; its handler acknowledges it and, instead
 * of an EOI, clears its active state through GICD_ICACTIVER, then checks the sender. The SGI must be
 * acknowledged once and end inactive.
 */
export function kutActiveGicv2(nrLr: number): ScenarioSpec {
  return scenario({
    name: `kut-gicv2-active-nlr${nrLr}`,
    description: 'kvm-unit-tests gicv2-active: an SGI to self, deactivated through GICD_ICACTIVER (GICv2)',
    vm: { gic: 'v2', vcpus: 2, nrLr, spis: 32 },
    interrupts: [{ intid: 1, priority: 0xa0, enabled: true }],
    prologue: [0, 1].map((v) => ({
      vcpu: v,
      guest: [
        { op: 'igrpen', group: 0, enable: true },
        { op: 'pmr', value: 0xf0 },
      ],
    })),
    actors: [
      { vcpu: 0, guest: [{ op: 'idle' }] },
      {
        vcpu: 1,
        guest: [
          { op: 'sgi', intid: 1, targets: 'self' },
          { op: 'poll', expect: 1 },
          { op: 'mmio', write: { reg: 'ICACTIVER', intid: 1 } },
          { op: 'read', read: { reg: 'ISACTIVER', intid: 1 }, expect: false },
        ],
      },
    ],
    expect: {
      acks: { 0: [], 1: [1] },
      sgiSources: { 1: [1] },
      final: [{ intid: 1, vcpu: 1, active: false }],
    },
  });
}

/**
 * The GICv2 tail walk against an injection: vCPU 0 has three active SPIs and two LRs, so SPI 32 (the
 * lowest priority) stays outside them; the guest EOIs all three (32's counted by EOIcount) while a
 * device raises SPI 35, which
 * vgic_queue_irq_unlock appends to vCPU 0's AP list — after last_lr_irq, where the replay walks
 * without ap_list_lock (V3) or under it (V4b). docs/model.md ("GICv2") records what each design gives.
 */
export const tailWalkVsQueueGicv2 = scenario({
  name: 'gicv2-tail-walk-vs-queue',
  description: 'GICv2 EOIcount tail walk while a device queues an SPI to the same vCPU (GICv2)',
  vm: { gic: 'v2', vcpus: 1, nrLr: 2, maxMiDelay: 2 },
  interrupts: [
    { intid: 32, priority: 0x10, enabled: true, target: 0 },
    { intid: 33, priority: 0x08, enabled: true, target: 0 },
    { intid: 34, priority: 0x00, enabled: true, target: 0 },
    { intid: 35, priority: 0x80, enabled: true, target: 0 },
  ],
  prologue: [
    {
      vcpu: 0,
      guest: [
        { op: 'igrpen', group: 0, enable: true },
        { op: 'pmr', value: 0xf8 },
        ...[32, 33, 34].flatMap((intid, k): GuestStep[] => [
          { op: 'hvc', call: { call: 'uaccess', write: { reg: 'ISACTIVER', intid } } },
          { op: 'apr', value: 1 << (2 - k), or: true },
        ]),
      ],
    },
  ],
  actors: [
    {
      vcpu: 0,
      handler: 'simple',
      guest: [
        { op: 'eoi', intid: 34 },
        { op: 'eoi', intid: 33 },
        { op: 'eoi', intid: 32 },
        { op: 'handle', count: 1 },
      ],
    },
    { host: 'device', actions: [{ call: 'edge', intid: 35 }] },
  ],
  expect: {
    acks: { 0: [35] },
    final: [32, 33, 34, 35].map((intid) => ({ intid, active: false })),
  },
});
