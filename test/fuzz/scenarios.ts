import fc from 'fast-check';

/**
 * Schema-valid scenario files for the fuzzer: small VMs, interrupts of every kind, prologues, guest
 * programs and host actions drawn from every action the format has, with the numbers mostly
 * consistent (vCPUs that exist, INTIDs the file defines) so that most files load and run, and
 * sometimes not, so that the checks that refuse them run too.
 */
export interface FuzzFile {
  name: string;
  description: string;
  vm: { vcpus: number; nrLr: number; spis: number; its: boolean; maxMiDelay: number };
  interrupts: Record<string, unknown>[];
  lpisEnabled: number[];
  resamplers: number[];
  prologue: Record<string, unknown>[];
  actors: Record<string, unknown>[];
  expect: Record<string, unknown>;
  explore: { maxSteps: number };
}

const REGS = ['ISENABLER', 'ICENABLER', 'ISPENDR', 'ICPENDR', 'ISACTIVER', 'ICACTIVER'] as const;

/** What a scenario has mapped: INTIDs it defines, ITS events its LPIs use. */
interface Known {
  intids: number[];
  events: { device: number; event: number }[];
}

function hostCall(vcpus: number, known: Known, depth = 0): fc.Arbitrary<Record<string, unknown>> {
  const { intids, events } = known;
  // Now and then a vCPU or an INTID the VM does not have, so that the checks that refuse them run.
  const vcpu = fc.oneof(
    { weight: 9, arbitrary: fc.nat(vcpus - 1) },
    { weight: 1, arbitrary: fc.constant(vcpus) },
  );
  const intid =
    intids.length > 0
      ? fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...intids) }, { weight: 1, arbitrary: fc.nat(40) })
      : fc.nat(40);
  const any = fc.record({ device: fc.nat(2), event: fc.nat(3) });
  // Mostly an event the scenario maps, so that the ITS paths run, now and then any.
  const event =
    events.length > 0
      ? fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...events) }, { weight: 1, arbitrary: any })
      : any;
  const cmd = fc.oneof(
    fc.record({ cmd: fc.constant('MAPD'), device: fc.nat(2), valid: fc.boolean() }),
    fc.record({ cmd: fc.constant('MAPC'), collection: fc.nat(2), vcpu: fc.option(vcpu, { nil: null }) }),
    fc.record({
      cmd: fc.constant('MAPTI'),
      device: fc.nat(2),
      event: fc.nat(3),
      intid: fc.integer({ min: 8192, max: 8196 }),
      collection: fc.nat(2),
    }),
    fc.tuple(fc.constantFrom('INT', 'DISCARD', 'CLEAR', 'INV'), event).map(([c, e]) => ({ cmd: c, ...e })),
    fc.tuple(event, fc.nat(2)).map(([e, collection]) => ({ cmd: 'MOVI', ...e, collection })),
    fc.record({ cmd: fc.constant('MOVALL'), from: vcpu, to: vcpu }),
  );
  const write = fc.oneof(
    fc.record({ reg: fc.constantFrom(...REGS), intid }),
    fc.record({ reg: fc.constant('IPRIORITYR'), intid, value: fc.nat(255) }),
    fc.record({ reg: fc.constant('IROUTER'), intid, vcpu: fc.option(vcpu, { nil: null }) }),
    fc.record({ reg: fc.constant('GICR_CTLR'), vcpu, enableLpis: fc.boolean() }),
    fc.record({ reg: fc.constant('GICD_CTLR'), enabled: fc.boolean() }),
  );
  // With LPIs mapped, the ITS and MSI paths are the ones most worth running.
  const itsWeight = events.length > 0 ? 4 : 1;
  const calls: fc.WeightedArbitrary<Record<string, unknown>>[] = [
    { weight: 1, arbitrary: fc.record({ call: fc.constant('irq_line'), intid, level: fc.boolean() }) },
    { weight: 1, arbitrary: fc.record({ call: fc.constantFrom('edge', 'irqfd'), intid }) },
    { weight: 1, arbitrary: fc.record({ call: fc.constant('level_info'), intid, level: fc.boolean() }) },
    {
      weight: 1,
      arbitrary: fc.record(
        { call: fc.constant('uaccess'), write, vcpu },
        { requiredKeys: ['call', 'write'] },
      ),
    },
    {
      weight: itsWeight,
      arbitrary: fc.record({ call: fc.constant('its'), cmds: fc.array(cmd, { maxLength: 3 }) }),
    },
    { weight: itsWeight, arbitrary: event.map((e) => ({ call: 'msi', ...e })) },
  ];
  if (depth === 0)
    calls.push({
      weight: 1,
      arbitrary: fc.record({
        call: fc.constant('batch'),
        calls: fc.array(hostCall(vcpus, known, 1), { maxLength: 2 }),
      }),
    });
  return fc.oneof(...calls);
}

function guestStep(vcpus: number, known: Known, depth = 0): fc.Arbitrary<Record<string, unknown>> {
  const { intids } = known;
  const intid = intids.length > 0 ? fc.constantFrom(...intids) : fc.nat(40);
  const steps: fc.Arbitrary<Record<string, unknown>>[] = [
    fc.record({ op: fc.constant('ack'), expect: intid }, { requiredKeys: ['op'] }),
    fc.record({ op: fc.constant('eoi'), intid }, { requiredKeys: ['op'] }),
    fc.record({ op: fc.constant('dir'), intid }, { requiredKeys: ['op'] }),
    fc.record({ op: fc.constant('pmr'), value: fc.constantFrom(0, 0x80, 0xf8, 0xff) }),
    fc.record({ op: fc.constant('eoimode'), value: fc.constantFrom(0, 1) }),
    fc.record({ op: fc.constant('igrpen'), group: fc.constantFrom(0, 1), enable: fc.boolean() }),
    fc.record({ op: fc.constant('apr'), value: fc.nat(3) }),
    fc.record({ op: fc.constantFrom('mask', 'unmask', 'wfi') }),
    fc.record({
      op: fc.constant('sgi'),
      intid: fc.nat(15),
      targets: fc.oneof(fc.constant('others'), fc.array(fc.nat(vcpus - 1), { maxLength: 2 })),
    }),
    fc.record({ op: fc.constant('handle'), count: fc.nat(2) }),
    fc.record({ op: fc.constant('poll'), expect: intid }, { requiredKeys: ['op'] }),
    fc.record({ op: fc.constant('hvc'), call: hostCall(vcpus, known) }),
    fc.record({
      op: fc.constant('mmio'),
      write: fc.oneof(
        fc.record({ reg: fc.constantFrom(...REGS), intid }),
        fc.record({ reg: fc.constant('GICR_CTLR'), vcpu: fc.nat(vcpus - 1), enableLpis: fc.boolean() }),
      ),
    }),
    fc.record({
      op: fc.constant('read'),
      read: fc.record({ reg: fc.constantFrom('ISACTIVER', 'ISPENDR'), intid }),
      expect: fc.boolean(),
    }),
    fc.record({ op: fc.constant('expect'), iarEmpty: fc.boolean() }, { requiredKeys: ['op'] }),
  ];
  if (depth === 0)
    steps.push(
      fc.record({
        op: fc.constant('repeat'),
        times: fc.nat(3),
        body: fc.array(guestStep(vcpus, known, 1), { maxLength: 2 }),
      }),
    );
  return fc.oneof(...steps);
}

export const fuzzFile: fc.Arbitrary<FuzzFile> = fc
  .record({
    vcpus: fc.integer({ min: 1, max: 3 }),
    nrLr: fc.integer({ min: 1, max: 4 }),
    spis: fc.integer({ min: 0, max: 4 }),
    its: fc.boolean(),
    maxMiDelay: fc.nat(2),
  })
  .chain((vm) => {
    const spis = Array.from({ length: vm.spis }, (_, i) => 32 + i);
    const pool = [1, 2, 20, ...spis, ...(vm.its ? [8192, 8193] : [])];
    const common = (intid: number) => ({
      intid: fc.constant(intid),
      priority: fc.constantFrom(0x10, 0x80, 0xa0),
      enabled: fc.boolean(),
      target: fc.nat(vm.vcpus - 1),
    });
    const irq = fc.constantFrom(...pool).chain(
      (intid): fc.Arbitrary<Record<string, unknown>> =>
        intid >= 8192
          ? fc.record(
              {
                ...common(intid),
                lpi: fc.record({
                  device: fc.nat(1),
                  event: fc.constant(intid - 8192),
                  collection: fc.nat(vm.vcpus - 1),
                }),
              },
              { requiredKeys: ['intid', 'lpi'] },
            )
          : fc.record(
              { ...common(intid), trigger: fc.constantFrom('edge', intid < 16 ? 'edge' : 'level') },
              { requiredKeys: ['intid'] },
            ),
    );
    return fc.uniqueArray(irq, { maxLength: 4, selector: (i) => i.intid }).chain((interrupts) => {
      const intids = interrupts.map((i) => i.intid as number);
      const known: Known = {
        intids,
        events: interrupts
          .flatMap((i) => (i.lpi ? [i.lpi as { device: number; event: number }] : []))
          .map(({ device, event }) => ({ device, event })),
      };
      const vcpuActor = (v: number) =>
        fc.record({ vcpu: fc.constant(v), guest: fc.array(guestStep(vm.vcpus, known), { maxLength: 4 }) });
      return fc.record({
        name: fc.constant('fuzz'),
        description: fc.constant('a generated scenario'),
        vm: fc.constant(vm),
        interrupts: fc.constant(interrupts),
        lpisEnabled: vm.its ? fc.subarray(Array.from({ length: vm.vcpus }, (_, i) => i)) : fc.constant([]),
        resamplers: fc.subarray(spis, { maxLength: Math.min(1, spis.length) }),
        prologue: fc.array(
          fc.oneof(
            fc.record({ host: hostCall(vm.vcpus, known) }),
            fc.record({
              vcpu: fc.nat(vm.vcpus - 1),
              guest: fc.array(guestStep(vm.vcpus, known), { maxLength: 2 }),
            }),
          ),
          { maxLength: 2 },
        ),
        actors: fc
          .tuple(
            fc
              .subarray(
                Array.from({ length: vm.vcpus }, (_, i) => i),
                { minLength: 1 },
              )
              .chain((vs) => fc.tuple(...vs.map(vcpuActor))),
            fc.option(
              fc.record({
                host: fc.constant('device'),
                actions: fc.array(hostCall(vm.vcpus, known), { maxLength: 2 }),
              }),
              { nil: undefined },
            ),
          )
          .map(([vcpuActors, host]) => (host ? [...vcpuActors, host] : vcpuActors)),
        expect: fc.oneof(
          fc.constant({}),
          intids.length > 0 ? fc.record({ acks: fc.record({ 0: fc.subarray(intids) }) }) : fc.constant({}),
        ),
        explore: fc.constant({ maxSteps: 3000 }),
      });
    });
  });

/** Edits that break a file in the ways people and tools do: a character, a line, a number, a key. */
export const mutation: fc.Arbitrary<(text: string) => string> = fc.oneof(
  fc.tuple(fc.nat(), fc.nat(3)).map(
    ([at, n]) =>
      (t: string) =>
        t.slice(0, at % (t.length + 1)) + t.slice((at % (t.length + 1)) + n),
  ),
  fc.tuple(fc.nat(), fc.constantFrom(':', '-', '{', '[', '"', ' ', '\n', '\t', '&a', '*a', 'x', '9')).map(
    ([at, s]) =>
      (t: string) =>
        t.slice(0, at % (t.length + 1)) + s + t.slice(at % (t.length + 1)),
  ),
  fc.nat().map((at) => (t: string) => {
    const lines = t.split('\n');
    lines.splice(at % lines.length, 1);
    return lines.join('\n');
  }),
  fc
    .tuple(fc.nat(), fc.constantFrom('-1', '1e9', '0.5', 'yes', 'null', '""', '[]', '{}', '99999999999'))
    .map(([at, v]) => (t: string) => {
      const nums = [...t.matchAll(/\b\d+\b/g)];
      if (nums.length === 0) return t;
      const m = nums[at % nums.length];
      return t.slice(0, m.index) + v + t.slice((m.index ?? 0) + m[0].length);
    }),
);
