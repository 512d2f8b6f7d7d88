import type { GuestStep } from '../../gic/guest.ts';
import type { HostCall } from '../../vgic/host.ts';
import { lowerLine } from '../builder.ts';
import { type HandlerName, type ScenarioInput, type ScenarioSpec, scenario } from '../schema.ts';

/**
 * The conformance suite: the cases INJ, PRE, FAIL and RST of the kernel's vgic_irq selftest
 * (tools/testing/selftests/kvm/arm64/vgic_irq.c) and the IPI tests of kvm-unit-tests (arm/gic.c),
 * ported as behaviour over the scenario builder (docs/model.md, Glossary). Priorities, triggers and
 * enables are the distributor state at VM creation (what the selftest's init writes).
 */
type Trigger = 'edge' | 'level';
export type Method = 'EDGE_IRQ_LINE' | 'IRQFD' | 'ISPENDR' | 'SET_IRQ_LINE_HIGH' | 'SET_LEVEL_INFO_HIGH';

/** The selftest's injection methods per trigger, and which INTID kinds each can inject. */
export const METHODS: Record<Trigger, { method: Method; sgi: boolean; ppi: boolean; spi: boolean }[]> = {
  edge: [
    { method: 'EDGE_IRQ_LINE', sgi: false, ppi: false, spi: true },
    { method: 'IRQFD', sgi: false, ppi: false, spi: true },
    { method: 'ISPENDR', sgi: true, ppi: false, spi: true },
  ],
  level: [
    { method: 'SET_IRQ_LINE_HIGH', sgi: false, ppi: true, spi: true },
    { method: 'SET_LEVEL_INFO_HIGH', sgi: false, ppi: true, spi: true },
    { method: 'IRQFD', sgi: false, ppi: false, spi: true },
    { method: 'ISPENDR', sgi: false, ppi: true, spi: true },
  ],
};

export function methodApplies(trigger: Trigger, method: Method, intid: number): boolean {
  const m = METHODS[trigger].find((x) => x.method === method);
  if (!m) return false;
  return intid < 16 ? m.sgi : intid < 32 ? m.ppi : m.spi;
}

function inject(method: Method, intid: number): HostCall {
  switch (method) {
    case 'EDGE_IRQ_LINE':
      return { call: 'edge', intid };
    case 'IRQFD':
      return { call: 'irqfd', intid };
    case 'ISPENDR':
      return { call: 'uaccess', write: { reg: 'ISPENDR', intid } };
    case 'SET_IRQ_LINE_HIGH':
      return { call: 'irq_line', intid, level: true };
    case 'SET_LEVEL_INFO_HIGH':
      return { call: 'level_info', intid, level: true };
  }
}

export interface Config {
  trigger: Trigger;
  eoimode: 0 | 1;
  nrLr: number;
  /** nr_irqs (N): SPIs 32..N-1. */
  n?: number;
}

function handler(c: Config): HandlerName {
  return c.trigger === 'level' ? 'vgic-level' : 'vgic';
}

/** The selftest's guest setup: group 1 on, PMR 0xF8, EOImode, IRQs masked. */
function init(c: Config): GuestStep[] {
  return [
    { op: 'igrpen', group: 1, enable: true },
    { op: 'eoimode', value: c.eoimode },
    { op: 'pmr', value: 0xf8 },
    { op: 'mask' },
  ];
}

function interrupts(c: Config, prio: Map<number, number>): ScenarioInput['interrupts'] {
  return Array.from({ length: c.n ?? 64 }, (_, i) => ({
    intid: i,
    trigger: i < 16 ? 'edge' : i < 32 ? 'level' : c.trigger,
    enabled: true,
    priority: prio.get(i) ?? 0xf0,
    target: 0,
  }));
}

function name(id: string, c: Config, method?: string): string {
  const how = method ? `-${method.replace(/_/g, '-')}` : '';
  return `${id}-${c.trigger}-eoimode${c.eoimode}${how}-nlr${c.nrLr}`.toLowerCase();
}

/** The shape every selftest case shares: one vCPU with the H-VGIC handler, no LPIs, no prologue. */
function oneVcpu(
  name: string,
  description: string,
  c: Config,
  prio: Map<number, number>,
  guest: GuestStep[],
  expect: ScenarioInput['expect'],
): ScenarioSpec {
  return scenario({
    name,
    description,
    vm: { vcpus: 1, nrLr: c.nrLr, spis: (c.n ?? 64) - 32 },
    interrupts: interrupts(c, prio),
    actors: [{ vcpu: 0, handler: handler(c), guest }],
    expect,
  });
}

/** The closing assertions of PRE and RST: none still active, AP1R0 == 0, IAR empty. */
function allDeactivated(intids: number[]): GuestStep[] {
  return [
    ...intids.map((intid): GuestStep => ({ op: 'read', read: { reg: 'ISACTIVER', intid }, expect: false })),
    { op: 'expect', apr: 0, iarEmpty: true },
  ];
}

/** INJ-* (the selftest's guest_inject): inject a set in one exit, handle them all, each exactly once. */
export function inj(id: string, set: number[], method: Method, c: Config): ScenarioSpec {
  const prio = new Map(set.map((i) => [i, (i % 31) * 8]));
  const guest: GuestStep[] = [
    ...init(c),
    { op: 'hvc', call: { call: 'batch', calls: set.map((i) => inject(method, i)) }, expectError: false },
    { op: 'handle', count: set.length },
    { op: 'unmask' },
    { op: 'mask' },
    {
      op: 'expect',
      handled: set.length,
      received: Object.fromEntries(set.map((i) => [i, 1])),
      iarEmpty: true,
    },
  ];
  return oneVcpu(
    name(id, c, method),
    `${id}: ${set.length} interrupt(s) injected with ${method}, each handled exactly once`,
    c,
    prio,
    guest,
    {
      acks: { 0: set },
      ackPriorityOrder: [0],
      final: set.map((intid) => ({ intid, active: false, pending: false })),
    },
  );
}

/**
 * PRE-* (the selftest's test_inject_preemption): each newly injected, more urgent interrupt is
 * acknowledged over the active ones.
 */
export function pre(
  id: string,
  first: number,
  num: number,
  exclude: number[],
  method: Method,
  c: Config,
): ScenarioSpec {
  const ks = [...Array(num).keys()].filter((k) => !exclude.includes(first + k));
  const prio = new Map(ks.map((k) => [first + k, (num - 1 - k) * 8]));
  const guest: GuestStep[] = [...init(c)];
  for (const k of ks) {
    guest.push(
      { op: 'hvc', call: inject(method, first + k), expectError: false },
      { op: 'poll', expect: first + k },
    );
    if (c.trigger === 'level') guest.push({ op: 'hvc', call: lowerLine(first + k) });
  }
  for (const k of [...ks].reverse()) guest.push({ op: 'eoi', intid: first + k });
  if (c.eoimode === 1) for (const k of ks) guest.push({ op: 'dir', intid: first + k });
  guest.push({ op: 'unmask' }, ...allDeactivated(ks.map((k) => first + k)));
  return oneVcpu(
    name(id, c, method),
    `${id}: ${ks.length} interrupts each preempting the previous one, injected with ${method}`,
    c,
    prio,
    guest,
    {
      acks: { 0: { intids: ks.map((k) => first + k), ordered: true } },
      final: ks.map((k) => ({ intid: first + k, active: false, pending: false })),
    },
  );
}

const BAD_INTIDS = (n: number) => [n, 1020, 1024, 1120, 5120, 0xffffffff];

/**
 * Whether the request must fail, as KVM answers it: KVM_IRQ_LINE fails for every bad INTID it can
 * encode (16 bits), LEVEL_INFO above 1023, the irqfd routing for pins from KVM_IRQCHIP_NUM_PINS (988)
 * on; an ISPENDR write never fails.
 */
function mustFail(method: Method, intid: number): boolean {
  switch (method) {
    case 'EDGE_IRQ_LINE':
    case 'SET_IRQ_LINE_HIGH':
      return intid <= 0xffff;
    case 'SET_LEVEL_INFO_HIGH':
      return intid > 1023;
    case 'IRQFD':
      return (intid - 32) >>> 0 >= 988;
    case 'ISPENDR':
      return false;
  }
}

/**
 * FAIL (the selftest's test_inject_fail): bad INTIDs fail (or are ignored) exactly as mustFail says;
 * nothing is delivered.
 */
export function fail(method: Method, c: Config): ScenarioSpec {
  const n = c.n ?? 64;
  const guest: GuestStep[] = [...init(c)];
  for (const intid of BAD_INTIDS(n)) {
    guest.push({ op: 'hvc', call: inject(method, intid), expectError: mustFail(method, intid) });
    guest.push({ op: 'expect', handled: 0, iarEmpty: true });
  }
  return oneVcpu(name('FAIL', c, method), `FAIL: bad INTIDs with ${method}`, c, new Map(), guest, {
    acks: { 0: [] },
  });
}

/**
 * RST-* (the selftest's guest_restore_active): interrupts restored active by userspace, their
 * priorities OR'd into AP1R0, then EOId.
 */
export function rst(id: string, first: number, num: number, c: Config): ScenarioSpec {
  const ks = [...Array(num).keys()];
  const prio = new Map(ks.map((k) => [first + k, (num - 1 - k) * 8]));
  const guest: GuestStep[] = [...init(c)];
  for (const k of ks) {
    guest.push({ op: 'hvc', call: { call: 'uaccess', write: { reg: 'ISACTIVER', intid: first + k } } });
    guest.push({ op: 'apr', value: 1 << k, or: true });
  }
  for (const k of [...ks].reverse()) {
    guest.push({ op: 'eoi', intid: first + k });
    if (c.eoimode === 1) guest.push({ op: 'dir', intid: first + k });
  }
  guest.push(...allDeactivated(ks.map((k) => first + k)));
  return oneVcpu(
    name(id, c),
    `${id}: ${num} interrupts restored active, then EOId${c.eoimode ? ' and DIRd' : ''}`,
    c,
    prio,
    guest,
    {
      acks: { 0: [] },
      final: ks.map((k) => ({ intid: first + k, active: false })),
    },
  );
}

type IpiKind = 'self' | 'target-list' | 'broadcast';

/** kvm-unit-tests `ipi` (arm/gic.c): CPU 1 sends SGI 1; exactly the targets take it once. */
export function kutIpi(kind: IpiKind, vcpus: number, nrLr: number): ScenarioSpec {
  const sender = 1;
  const all = [...Array(vcpus).keys()];
  const targets =
    kind === 'self'
      ? [sender]
      : kind === 'target-list'
        ? all.filter((c) => c % 2 !== sender % 2)
        : all.filter((c) => c !== sender);
  const setup: GuestStep[] = [
    { op: 'igrpen', group: 1, enable: true },
    { op: 'pmr', value: 0xf0 },
  ];
  const idle: GuestStep = { op: 'idle' };
  return scenario({
    name: `kut-ipi-${kind}-${vcpus}cpus-nlr${nrLr}`,
    description: `kvm-unit-tests ipi ${kind}: CPU 1 sends SGI 1 to ${targets.join(',')}`,
    vm: { vcpus, nrLr, spis: 32 },
    interrupts: [{ intid: 1, priority: 0xa0, enabled: true }],
    prologue: all.map((v) => ({ vcpu: v, guest: setup })),
    actors: all.map((v) => ({
      vcpu: v,
      handler: 'kut' as const,
      guest:
        v === sender
          ? [{ op: 'sgi', intid: 1, targets: kind === 'broadcast' ? 'others' : targets }, idle]
          : [idle],
    })),
    expect: { acks: Object.fromEntries(all.map((v) => [v, targets.includes(v) ? [1] : []])) },
  });
}

/** PPIs the selftest cannot inject from userspace (timers). */
export const TIMER_PPIS = [26, 27, 28, 30];
