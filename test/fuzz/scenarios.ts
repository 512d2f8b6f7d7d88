import fc from 'fast-check';

/**
 * Schema-valid scenario files for the fuzzer: small VMs, interrupts of every kind, prologues, guest
 * programs and host actions drawn from every action the format has, with the numbers mostly
 * consistent (vCPUs that exist, INTIDs the file defines) so that most files load and run, and
 * sometimes not, so that the checks that refuse them run too. Files are GICv3 (`gic` left out or
 * `v3`) or GICv2 (`gic: v2`: ITARGETSR routing, SGIs with targets and sources, eoi/dir with a source,
 * expect.sgiSources, up to 64 LRs), and now and then a GICv2 file carries a GICv3-only key, which must
 * be refused with exit 2 and its position.
 */
export interface FuzzFile {
  name: string;
  description: string;
  vm: {
    gic?: 'v3' | 'v2';
    vcpus: number;
    nrLr: number;
    spis: number;
    its?: boolean;
    hostTdir?: boolean;
    maxMiDelay: number;
  };
  interrupts: Record<string, unknown>[];
  lpisEnabled?: number[];
  resamplers?: number[];
  prologue?: Record<string, unknown>[];
  actors: Record<string, unknown>[];
  expect: Record<string, unknown>;
  explore: { maxSteps: number };
}

const REGS = ['ISENABLER', 'ICENABLER', 'ISPENDR', 'ICPENDR', 'ISACTIVER', 'ICACTIVER'] as const;

/** What a scenario has mapped: INTIDs it defines, ITS events its LPIs use. */
interface Known {
  intids: number[];
  events: { device: number; event: number }[];
  /** GICv2 files: whether a PPI is mapped to the timer, and whether GICv3-only keys may slip in. */
  v2?: { timer: boolean; leak: boolean };
}

/**
 * A register write on a GICv2 VM: SPIs routed with ITARGETSR (now and then to no vCPU, or one that does
 * not exist), groups and triggers; IROUTER and GICR_CTLR, which it must refuse, only when `leak`.
 */
function v2Write(
  vcpus: number,
  intid: fc.Arbitrary<number>,
  leak: boolean,
): fc.Arbitrary<Record<string, unknown>> {
  const vcpu = fc.oneof(
    { weight: 9, arbitrary: fc.nat(vcpus - 1) },
    { weight: 1, arbitrary: fc.constant(vcpus) },
  );
  const writes: fc.WeightedArbitrary<Record<string, unknown>>[] = [
    { weight: 3, arbitrary: fc.record({ reg: fc.constantFrom(...REGS), intid }) },
    { weight: 1, arbitrary: fc.record({ reg: fc.constant('IPRIORITYR'), intid, value: fc.nat(255) }) },
    { weight: 1, arbitrary: fc.record({ reg: fc.constant('IGROUPR'), intid, value: fc.constantFrom(0, 1) }) },
    { weight: 1, arbitrary: fc.record({ reg: fc.constant('ICFGR'), intid, level: fc.boolean() }) },
    {
      weight: 3,
      arbitrary: fc.record({
        reg: fc.constant('ITARGETSR'),
        intid,
        targets: fc.oneof(
          { weight: 9, arbitrary: fc.uniqueArray(fc.nat(vcpus - 1), { maxLength: 3 }) },
          { weight: 1, arbitrary: fc.array(vcpu, { maxLength: 2 }) },
        ),
      }),
    },
    { weight: 1, arbitrary: fc.record({ reg: fc.constant('GICD_CTLR'), enabled: fc.boolean() }) },
  ];
  if (leak)
    writes.push(
      {
        weight: 1,
        arbitrary: fc.record({ reg: fc.constant('IROUTER'), intid, vcpu: fc.option(vcpu, { nil: null }) }),
      },
      { weight: 1, arbitrary: fc.record({ reg: fc.constant('GICR_CTLR'), vcpu, enableLpis: fc.boolean() }) },
    );
  return fc.oneof(...writes);
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
  const write = known.v2
    ? v2Write(vcpus, intid, known.v2.leak)
    : fc.oneof(
        fc.record({ reg: fc.constantFrom(...REGS), intid }),
        fc.record({ reg: fc.constant('IPRIORITYR'), intid, value: fc.nat(255) }),
        fc.record({ reg: fc.constant('IROUTER'), intid, vcpu: fc.option(vcpu, { nil: null }) }),
        fc.record({ reg: fc.constant('GICR_CTLR'), vcpu, enableLpis: fc.boolean() }),
        fc.record({ reg: fc.constant('GICD_CTLR'), enabled: fc.boolean() }),
      );
  // With LPIs mapped, the ITS and MSI paths are the ones most worth running; a GICv2 VM has neither,
  // so its files ask for them only when GICv3-only keys may slip in.
  const itsWeight = known.v2 ? (known.v2.leak ? 1 : 0) : events.length > 0 ? 4 : 1;
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
  if (known.v2?.timer) calls.push({ weight: 1, arbitrary: fc.record({ call: fc.constant('timer'), vcpu }) });
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

/**
 * A guest action on a GICv2 VM: group 0 mostly, SGIs to a list, to the others or to itself, EOIs and
 * DIRs naming an SGI's source (now and then a source CPU the VM does not have), idle now and then.
 */
function v2GuestStep(vcpus: number, known: Known, depth = 0): fc.Arbitrary<Record<string, unknown>> {
  const { intids } = known;
  const leak = known.v2?.leak ?? false;
  const intid = intids.length > 0 ? fc.constantFrom(...intids) : fc.nat(40);
  const group = fc.oneof({ weight: 3, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.constant(1) });
  const source = fc.oneof({ weight: 9, arbitrary: fc.nat(vcpus - 1) }, { weight: 1, arbitrary: fc.nat(7) });
  const steps: fc.WeightedArbitrary<Record<string, unknown>>[] = [
    {
      weight: 3,
      arbitrary: fc.record({ op: fc.constant('ack'), group, expect: intid }, { requiredKeys: ['op'] }),
    },
    {
      weight: 3,
      arbitrary: fc.record({ op: fc.constant('eoi'), intid, group, source }, { requiredKeys: ['op'] }),
    },
    { weight: 2, arbitrary: fc.record({ op: fc.constant('dir'), intid, source }, { requiredKeys: ['op'] }) },
    {
      weight: 1,
      arbitrary: fc.record({ op: fc.constant('pmr'), value: fc.constantFrom(0, 0x80, 0xf0, 0xf8, 0xff) }),
    },
    { weight: 1, arbitrary: fc.record({ op: fc.constant('eoimode'), value: fc.constantFrom(0, 1) }) },
    { weight: 2, arbitrary: fc.record({ op: fc.constant('igrpen'), group, enable: fc.boolean() }) },
    {
      weight: 1,
      arbitrary: fc.record(
        { op: fc.constant('apr'), group, value: fc.nat(3), or: fc.boolean() },
        { requiredKeys: ['op', 'value'] },
      ),
    },
    { weight: 2, arbitrary: fc.record({ op: fc.constantFrom('mask', 'unmask', 'wfi') }) },
    {
      weight: 4,
      arbitrary: fc.record({
        op: fc.constant('sgi'),
        intid: fc.nat(15),
        targets: fc.oneof(
          fc.constant('others'),
          fc.constant('self'),
          fc.uniqueArray(fc.nat(vcpus - 1), { maxLength: 3 }),
        ),
      }),
    },
    { weight: 1, arbitrary: fc.record({ op: fc.constant('handle'), count: fc.nat(2) }) },
    {
      weight: 2,
      arbitrary: fc.record({ op: fc.constant('poll'), group, expect: intid }, { requiredKeys: ['op'] }),
    },
    { weight: 2, arbitrary: fc.record({ op: fc.constant('hvc'), call: hostCall(vcpus, known) }) },
    { weight: 3, arbitrary: fc.record({ op: fc.constant('mmio'), write: v2Write(vcpus, intid, leak) }) },
    {
      weight: 1,
      arbitrary: fc.record({
        op: fc.constant('read'),
        read: fc.record({ reg: fc.constantFrom('ISACTIVER', 'ISPENDR'), intid }),
        expect: fc.boolean(),
      }),
    },
    {
      weight: 1,
      arbitrary: fc.record(
        { op: fc.constant('expect'), iarEmpty: fc.boolean(), apr: fc.nat(3) },
        { requiredKeys: ['op'] },
      ),
    },
  ];
  if (depth === 0)
    steps.push({
      weight: 1,
      arbitrary: fc.record({
        op: fc.constant('repeat'),
        times: fc.nat(3),
        body: fc.array(v2GuestStep(vcpus, known, 1), { maxLength: 2 }),
      }),
    });
  return fc.oneof(...steps);
}

function guestStep(vcpus: number, known: Known, depth = 0): fc.Arbitrary<Record<string, unknown>> {
  if (known.v2) return v2GuestStep(vcpus, known, depth);
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

/** A file's actors: a guest on some of its vCPUs (at least one), and maybe a device thread. */
function actorsOf(
  vcpus: number,
  known: Known,
  vcpuActor: (v: number) => fc.Arbitrary<Record<string, unknown>>,
): fc.Arbitrary<Record<string, unknown>[]> {
  return fc
    .tuple(
      fc
        .subarray(
          Array.from({ length: vcpus }, (_, i) => i),
          { minLength: 1 },
        )
        .chain((vs) => fc.tuple(...vs.map(vcpuActor))),
      fc.option(
        fc.record({
          host: fc.constant('device'),
          actions: fc.array(hostCall(vcpus, known), { maxLength: 2 }),
        }),
        { nil: undefined },
      ),
    )
    .map(([vcpuActors, host]) => (host ? [...vcpuActors, host] : vcpuActors));
}

const v3File: fc.Arbitrary<FuzzFile> = fc
  .record(
    {
      gic: fc.constant('v3' as const),
      vcpus: fc.integer({ min: 1, max: 3 }),
      nrLr: fc.integer({ min: 1, max: 4 }),
      spis: fc.integer({ min: 0, max: 4 }),
      its: fc.boolean(),
      maxMiDelay: fc.nat(2),
    },
    // `gic: v3` is the default: said or left out.
    { requiredKeys: ['vcpus', 'nrLr', 'spis', 'its', 'maxMiDelay'] },
  )
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
        actors: actorsOf(vm.vcpus, known, vcpuActor),
        expect: fc.oneof(
          fc.constant({}),
          intids.length > 0 ? fc.record({ acks: fc.record({ 0: fc.subarray(intids) }) }) : fc.constant({}),
        ),
        explore: fc.constant({ maxSteps: 3000 }),
      });
    });
  });

/**
 * A GICv2 file: group 0 by default, SPIs routed by `target` or ITARGETSR, up to 6 LRs (now and then
 * more than a GICv3 host has), the timer PPI now and then, handlers, expect.sgiSources. With `leak`,
 * the ITS, MSIs, IROUTER and GICR_CTLR may show up in its host calls and guest programs.
 */
function v2File(leak: boolean): fc.Arbitrary<FuzzFile> {
  return fc
    .record({
      vcpus: fc.integer({ min: 1, max: 3 }),
      nrLr: fc.oneof(
        { weight: 9, arbitrary: fc.integer({ min: 1, max: 6 }) },
        { weight: 1, arbitrary: fc.constantFrom(16, 17, 64) },
      ),
      spis: fc.integer({ min: 0, max: 4 }),
      maxMiDelay: fc.nat(2),
      timer: fc.boolean(),
    })
    .chain(({ timer, ...v }) => {
      const vm = { gic: 'v2' as const, ...v };
      const spis = Array.from({ length: vm.spis }, (_, i) => 32 + i);
      const pool = [1, 2, 20, 27, ...spis];
      const common = (intid: number) => ({
        intid: fc.constant(intid),
        priority: fc.constantFrom(0x10, 0x80, 0xa0),
        group: fc.oneof({ weight: 3, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.constant(1) }),
        enabled: fc.boolean(),
        target: fc.nat(vm.vcpus - 1),
      });
      const irq = fc
        .constantFrom(...pool)
        .chain(
          (intid): fc.Arbitrary<Record<string, unknown>> =>
            intid === 27 && timer
              ? fc.record(
                  { ...common(intid), timer: fc.constant(true) },
                  { requiredKeys: ['intid', 'timer'] },
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
          events: [],
          v2: { timer: interrupts.some((i) => i.timer), leak },
        };
        const handler = fc.option(fc.constantFrom('simple', 'vgic', 'vgic-level', 'kut'), {
          nil: undefined,
          freq: 4,
        });
        const program = (max: number) => fc.array(guestStep(vm.vcpus, known), { maxLength: max });
        // An actor may end in idle (a CPU that only runs its handler), as kvm-unit-tests' do.
        const vcpuActor = (v: number) =>
          fc
            .record(
              { vcpu: fc.constant(v), handler, guest: program(4), idle: fc.boolean() },
              { requiredKeys: ['vcpu', 'guest', 'idle'] },
            )
            .map(({ idle, ...a }) => (idle && a.handler ? { ...a, guest: [...a.guest, { op: 'idle' }] } : a));
        const vcpuList = fc.nat(vm.vcpus - 1);
        const sgiSources = fc
          .array(fc.tuple(vcpuList, fc.array(fc.nat(vm.vcpus - 1), { maxLength: 3 })), { maxLength: 2 })
          .map((kv) => Object.fromEntries(kv.map(([k, v]) => [String(k), v])));
        const final =
          intids.length > 0
            ? fc.array(
                fc.constantFrom(...intids).chain((intid) =>
                  fc.record(
                    {
                      intid: fc.constant(intid),
                      vcpu: intid < 32 ? fc.nat(vm.vcpus - 1) : fc.constant(undefined),
                      active: fc.boolean(),
                      pending: fc.boolean(),
                    },
                    { requiredKeys: ['intid'] },
                  ),
                ),
                { maxLength: 2 },
              )
            : fc.constant([]);
        return fc.record(
          {
            name: fc.constant('fuzz'),
            description: fc.constant('a generated GICv2 scenario'),
            vm: fc.constant(vm),
            interrupts: fc.constant(interrupts),
            resamplers: fc.subarray(spis, { maxLength: Math.min(1, spis.length) }),
            prologue: fc.array(
              fc.oneof(
                fc.record({ host: hostCall(vm.vcpus, known) }),
                fc.record({ vcpu: vcpuList, guest: program(2) }),
              ),
              { maxLength: 2 },
            ),
            actors: actorsOf(vm.vcpus, known, vcpuActor),
            expect: fc.oneof(
              fc.constant({}),
              fc.record(
                {
                  acks: intids.length > 0 ? fc.record({ 0: fc.subarray(intids) }) : fc.constant({}),
                  sgiSources,
                  final,
                },
                { requiredKeys: [] },
              ),
            ),
            explore: fc.constant({ maxSteps: 3000 }),
          },
          { requiredKeys: ['name', 'description', 'vm', 'interrupts', 'actors', 'expect', 'explore'] },
        ) as fc.Arbitrary<FuzzFile>;
      });
    });
}

/** Puts one GICv3-only key into a GICv2 file, which must then be refused (exit 2, with its position). */
export const v3OnlyKey: fc.Arbitrary<(f: FuzzFile) => FuzzFile> = fc
  .tuple(
    fc.constantFrom(
      'its',
      'hostTdir',
      'lpisEnabled',
      'lpi',
      'IROUTER-host',
      'GICR_CTLR-host',
      'IROUTER-guest',
      'GICR_CTLR-guest',
      'GICR_CTLR-hvc',
    ),
    fc.nat(),
  )
  .map(([what, at]) => (f: FuzzFile): FuzzFile => {
    const vcpu = at % f.vm.vcpus;
    const spi = f.vm.spis > 0 ? 32 : 1;
    const irouter = { reg: 'IROUTER', intid: spi, vcpu };
    const gicrCtlr = { reg: 'GICR_CTLR', vcpu, enableLpis: true };
    const inGuest = (step: Record<string, unknown>) => {
      const actors = f.actors.map((a, i) =>
        i === at % f.actors.length && 'guest' in a ? { ...a, guest: [step, ...(a.guest as unknown[])] } : a,
      );
      // An actor that is a host thread takes the step into the prologue instead.
      return actors.some((a, i) => a !== f.actors[i])
        ? { ...f, actors }
        : { ...f, prologue: [...(f.prologue ?? []), { vcpu, guest: [step] }] };
    };
    switch (what) {
      case 'its':
        return { ...f, vm: { ...f.vm, its: true } };
      case 'hostTdir':
        return { ...f, vm: { ...f.vm, hostTdir: false } };
      case 'lpisEnabled':
        return { ...f, lpisEnabled: [vcpu] };
      case 'lpi':
        return {
          ...f,
          interrupts: [...f.interrupts, { intid: 8192, lpi: { device: 0, event: 0, collection: vcpu } }],
        };
      case 'IROUTER-host':
        return { ...f, prologue: [...(f.prologue ?? []), { host: { call: 'uaccess', write: irouter } }] };
      case 'GICR_CTLR-host':
        return {
          ...f,
          prologue: [{ host: { call: 'uaccess', write: gicrCtlr, vcpu } }, ...(f.prologue ?? [])],
        };
      case 'IROUTER-guest':
        return inGuest({ op: 'mmio', write: irouter });
      case 'GICR_CTLR-guest':
        return inGuest({ op: 'mmio', write: gicrCtlr });
      default:
        return inGuest({ op: 'hvc', call: { call: 'uaccess', write: gicrCtlr } });
    }
  });

/** GICv2 files that use only what a GICv2 VM has (most of them load and run). */
export const gicv2File: fc.Arbitrary<FuzzFile> = v2File(false);

/**
 * Every generated file: GICv3 (as before) or GICv2; of the GICv2 ones, one in eight may use the ITS,
 * MSIs, IROUTER or GICR_CTLR anywhere and one in eight has one GICv3-only key put in.
 */
export const fuzzFile: fc.Arbitrary<FuzzFile> = fc.oneof(
  { weight: 3, arbitrary: v3File },
  {
    weight: 2,
    arbitrary: fc.oneof(
      { weight: 6, arbitrary: gicv2File },
      { weight: 1, arbitrary: v2File(true) },
      { weight: 1, arbitrary: fc.tuple(gicv2File, v3OnlyKey).map(([f, put]) => put(f)) },
    ),
  },
);

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
