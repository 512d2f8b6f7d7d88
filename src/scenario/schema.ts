import { z } from 'zod';
import { DEFAULT_MAX_STEPS, MAX_STEPS } from '../explore/execution.ts';
import type { GuestStep } from '../gic/guest.ts';
import type { GicRegWrite } from '../gic/regs.ts';
import { KCONFIG_OPTIONS, type KconfigOption } from '../kernel/kconfig.ts';
import type { HostCall } from '../vgic/host.ts';
import type { ItsCommand } from '../vgic/its.ts';

/**
 * The scenario format (docs/scenarios.md), one shape for files and for the catalogue written in
 * TypeScript. Objects are strict, so an unknown key is an error (the loader suggests the closest valid
 * one). Guest actions, host calls, register writes and ITS commands parse to the model's own types
 * (the annotations below make the compiler check that they agree).
 */
/** A whole number in min..max; `range` says the range where it depends on another key. */
const int = (min: number, max: number, what: string, range = `${min}–${max}`) =>
  z
    .number({ error: `expected ${what} (a number)` })
    .int({ error: `${what} must be a whole number` })
    .min(min, { error: (i) => `${i.input} is not ${what} (${range})` })
    .max(max, { error: (i) => `${i.input} is not ${what} (${range})` });

const intid = int(0, 0xffffffff, 'an INTID');
const vcpuId = int(0, 63, 'a vCPU number');
const priority = int(0, 255, 'a priority');
const group = z.union([z.literal(0), z.literal(1)], { error: 'a group is 0 or 1' });
/** A GICv2 SGI's source CPU: the IAR's CPUID field has three bits. */
const sgiSource = int(0, 7, 'a source CPU');

const regWrite: z.ZodType<GicRegWrite, GicRegWrite> = z.discriminatedUnion(
  'reg',
  [
    z.strictObject({
      reg: z.enum(['ISENABLER', 'ICENABLER', 'ISPENDR', 'ICPENDR', 'ISACTIVER', 'ICACTIVER']),
      intid,
    }),
    z.strictObject({ reg: z.literal('IPRIORITYR'), intid, value: priority }),
    z.strictObject({ reg: z.literal('IGROUPR'), intid, value: group }),
    z.strictObject({ reg: z.literal('ICFGR'), intid, level: z.boolean() }),
    z.strictObject({ reg: z.literal('IROUTER'), intid, vcpu: vcpuId.nullable() }),
    z.strictObject({ reg: z.literal('ITARGETSR'), intid, targets: z.array(vcpuId) }),
    z.strictObject({ reg: z.literal('GICD_CTLR'), enabled: z.boolean() }),
    z.strictObject({ reg: z.literal('GICR_CTLR'), vcpu: vcpuId, enableLpis: z.boolean() }),
  ],
  {
    error:
      'unknown register (ISENABLER, ICENABLER, ISPENDR, ICPENDR, ISACTIVER, ICACTIVER, IPRIORITYR, IGROUPR, ICFGR, IROUTER, ITARGETSR, GICD_CTLR, GICR_CTLR)',
  },
);

const itsCommand: z.ZodType<ItsCommand, ItsCommand> = z.discriminatedUnion(
  'cmd',
  [
    z.strictObject({ cmd: z.literal('MAPD'), device: int(0, 65535, 'a device id'), valid: z.boolean() }),
    z.strictObject({
      cmd: z.literal('MAPC'),
      collection: int(0, 63, 'a collection'),
      vcpu: vcpuId.nullable(),
    }),
    z.strictObject({
      cmd: z.literal('MAPTI'),
      device: int(0, 65535, 'a device id'),
      event: int(0, 65535, 'an event id'),
      intid,
      collection: int(0, 63, 'a collection'),
    }),
    z.strictObject({
      cmd: z.enum(['INT', 'DISCARD', 'CLEAR', 'INV']),
      device: int(0, 65535, 'a device id'),
      event: int(0, 65535, 'an event id'),
    }),
    z.strictObject({
      cmd: z.literal('MOVI'),
      device: int(0, 65535, 'a device id'),
      event: int(0, 65535, 'an event id'),
      collection: int(0, 63, 'a collection'),
    }),
    z.strictObject({ cmd: z.literal('MOVALL'), from: vcpuId, to: vcpuId }),
  ],
  { error: 'unknown ITS command (MAPD, MAPC, MAPTI, INT, DISCARD, CLEAR, INV, MOVI, MOVALL)' },
);

const hostCall: z.ZodType<HostCall, HostCall> = z
  .lazy(() =>
    z.discriminatedUnion(
      'call',
      [
        z.strictObject({ call: z.literal('irq_line'), intid, level: z.boolean() }),
        z.strictObject({ call: z.enum(['edge', 'irqfd']), intid }),
        z.strictObject({ call: z.literal('level_info'), intid, level: z.boolean() }),
        z.strictObject({ call: z.literal('uaccess'), write: regWrite, vcpu: vcpuId.optional() }),
        z.strictObject({ call: z.literal('its'), cmds: z.array(itsCommand) }),
        z.strictObject({
          call: z.literal('msi'),
          device: int(0, 65535, 'a device id'),
          event: int(0, 65535, 'an event id'),
        }),
        z.strictObject({ call: z.literal('timer'), vcpu: vcpuId }),
        z.strictObject({ call: z.literal('batch'), calls: z.array(hostCall) }),
      ],
      { error: 'unknown host call (irq_line, edge, irqfd, level_info, uaccess, its, msi, timer, batch)' },
    ),
  )
  .meta({
    id: 'HostCall',
    description: 'what the VMM or the host kernel does (a KVM ioctl, an ITS command, …)',
  });

/**
 * The largest repeat and handler counts: with nesting, programs can still ask for more steps than an
 * execution may take (MAX_STEPS), and then the execution is cut at its step bound and says so.
 */
const MAX_COUNT = 10_000;

const guestStep: z.ZodType<GuestStep, GuestStep> = z
  .lazy(() =>
    z.discriminatedUnion(
      'op',
      [
        z.strictObject({ op: z.literal('ack'), group: group.optional(), expect: intid.optional() }),
        z.strictObject({
          op: z.literal('eoi'),
          intid: intid.optional(),
          group: group.optional(),
          source: sgiSource.optional(),
        }),
        z.strictObject({ op: z.literal('dir'), intid: intid.optional(), source: sgiSource.optional() }),
        z.strictObject({ op: z.literal('pmr'), value: priority }),
        z.strictObject({
          op: z.literal('eoimode'),
          value: z.union([z.literal(0), z.literal(1)], { error: 'EOImode is 0 or 1' }),
        }),
        z.strictObject({ op: z.literal('igrpen'), group, enable: z.boolean() }),
        z.strictObject({
          op: z.literal('apr'),
          group: group.optional(),
          value: int(0, 0xffffffff, 'an APR value'),
          or: z.boolean().optional(),
        }),
        z.strictObject({ op: z.enum(['mask', 'unmask', 'wfi', 'idle']) }),
        z.strictObject({ op: z.literal('mmio'), write: regWrite }),
        z.strictObject({
          op: z.literal('read'),
          read: z.strictObject({ reg: z.enum(['ISACTIVER', 'ISPENDR']), intid }),
          expect: z.boolean(),
        }),
        z.strictObject({
          op: z.literal('sgi'),
          intid: int(0, 15, 'an SGI'),
          targets: z.union([z.array(vcpuId), z.literal('others'), z.literal('self')], {
            error: 'targets is a list of vCPU numbers, "others" or "self"',
          }),
        }),
        z.strictObject({ op: z.literal('hvc'), call: hostCall, expectError: z.boolean().optional() }),
        z.strictObject({ op: z.literal('handle'), count: int(0, MAX_COUNT, 'a count') }),
        z.strictObject({ op: z.literal('poll'), group: group.optional(), expect: intid.optional() }),
        z.strictObject({
          op: z.literal('expect'),
          apr: int(0, 0xffffffff, 'an APR value').optional(),
          handled: int(0, MAX_COUNT, 'a count').optional(),
          received: z.record(z.string(), int(0, MAX_COUNT, 'a count')).optional(),
          iarEmpty: z.boolean().optional(),
        }),
        z.strictObject({
          op: z.literal('repeat'),
          times: int(0, MAX_COUNT, 'a count'),
          body: z.array(guestStep),
        }),
      ],
      {
        error:
          'unknown guest action (ack, eoi, dir, pmr, eoimode, igrpen, apr, mask, unmask, wfi, idle, mmio, read, sgi, hvc, handle, poll, expect, repeat)',
      },
    ),
  )
  .meta({
    id: 'GuestStep',
    description: 'what a vCPU\'s guest does next (docs/scenarios.md, "Guest programs")',
  });

const handler = z.enum(['vgic', 'vgic-level', 'kut', 'simple'], {
  error: 'a handler is vgic, vgic-level, kut or simple',
});
export type HandlerName = z.infer<typeof handler>;

const vcpuActor = z.strictObject({ vcpu: vcpuId, handler: handler.optional(), guest: z.array(guestStep) });
const hostActor = z.strictObject({ host: z.string().min(1).max(15), actions: z.array(hostCall) });

export const scenarioSchema = z.strictObject({
  name: z
    .string()
    .regex(/^[a-z0-9][a-z0-9-]*$/, { error: 'a name is lower-case letters, digits and dashes' }),
  description: z.string(),
  vm: z.strictObject({
    gic: z.enum(['v3', 'v2'], { error: 'a GIC is v3 or v2' }).default('v3'),
    vcpus: int(1, 8, 'a vCPU count'),
    // Up to 64 on a GICv2 host; the loader holds a GICv3 VM to 16.
    nrLr: int(1, 64, 'a number of list registers', '1–16; on GICv2 1–64'),
    spis: int(0, 988, 'a number of SPIs').default(32),
    its: z.boolean().default(false),
    hostTdir: z.boolean().default(true),
    maxMiDelay: int(0, 8, 'a maintenance-interrupt delay').default(1),
  }),
  interrupts: z
    .array(
      z.strictObject({
        intid,
        trigger: z.enum(['edge', 'level']).optional(),
        priority: priority.optional(),
        group: group.optional(),
        enabled: z.boolean().optional(),
        target: vcpuId.optional(),
        timer: z.boolean().optional(),
        lpi: z
          .strictObject({
            device: int(0, 65535, 'a device id'),
            event: int(0, 65535, 'an event id'),
            collection: int(0, 63, 'a collection'),
          })
          .optional(),
      }),
    )
    .default([]),
  lpisEnabled: z.array(vcpuId).default([]),
  resamplers: z.array(intid).default([]),
  prologue: z
    .array(
      z.union([vcpuActor, z.strictObject({ host: hostCall })], {
        error: 'a prologue step is {vcpu, guest} or {host: <call>}',
      }),
    )
    .default([]),
  actors: z
    .array(z.union([vcpuActor, hostActor], { error: 'an actor is {vcpu, guest} or {host, actions}' }))
    .min(1, { error: 'a scenario needs at least one actor' }),
  expect: z
    .strictObject({
      acks: z
        .record(
          z.string(),
          z.union(
            [z.array(intid), z.strictObject({ intids: z.array(intid), ordered: z.boolean().optional() })],
            { error: 'expected acks are a list of INTIDs or {intids, ordered}' },
          ),
        )
        .optional(),
      ackPriorityOrder: z.array(vcpuId).optional(),
      sgiSources: z
        .record(z.string(), z.array(sgiSource), { error: 'sgiSources maps vCPU numbers to source CPUs' })
        .optional(),
      final: z
        .array(
          z.strictObject({
            intid,
            vcpu: vcpuId.optional(),
            active: z.boolean().optional(),
            pending: z.boolean().optional(),
          }),
        )
        .optional(),
    })
    .default({}),
  kernel: z
    .strictObject({
      config: z.enum(['debug', 'production'], { error: 'a kernel configuration is debug or production' }),
      ...Object.fromEntries(KCONFIG_OPTIONS.map((o) => [o, z.boolean().optional()])),
    } as { config: z.ZodEnum<{ debug: 'debug'; production: 'production' }> } & Record<
      KconfigOption,
      z.ZodOptional<z.ZodBoolean>
    >)
    .optional(),
  explore: z
    .strictObject({
      strategy: z.enum(['dpor', 'optimal', 'bounded', 'pct', 'random']).optional(),
      preemptions: int(0, 1000, 'a preemption bound').optional(),
      maxExecutions: int(1, 1e9, 'an execution count').optional(),
      maxSteps: int(1, MAX_STEPS, 'a step bound').default(DEFAULT_MAX_STEPS),
      seed: int(0, 0xffffffff, 'a seed').optional(),
    })
    .default({ maxSteps: DEFAULT_MAX_STEPS }),
});

/** A scenario as the model takes it: every default filled in. */
export type ScenarioSpec = z.output<typeof scenarioSchema>;
/** A scenario as written, in a file or in the catalogue: defaults may be left out. */
export type ScenarioInput = z.input<typeof scenarioSchema>;

/**
 * A scenario written in TypeScript (the catalogue, tests), checked against the format as a file is. A
 * mistake is a bug of the code that wrote it, so it throws.
 */
export function scenario(input: ScenarioInput): ScenarioSpec {
  const r = scenarioSchema.safeParse(input);
  if (!r.success) {
    const i = r.error.issues[0];
    throw new Error(`scenario ${input.name}: ${i.path.join('.')}: ${i.message}`);
  }
  return r.data;
}

/**
 * Keys valid in the mapping at `path` (derived from the schema), for "did you mean" hints. `data` is the
 * parsed file: where a discriminated union stands, its discriminator picks the branch, so a guest
 * action is offered its own fields rather than those of every action.
 */
export function keysAt(schema: z.ZodType, path: readonly (string | number)[], data?: unknown): string[] {
  let s: z.ZodType | undefined = schema;
  let value = data;
  for (const p of path) {
    s = unwrap(s);
    if (!s) return [];
    s = typeof p === 'number' ? elementOf(s) : fieldOf(branchOf(s, value), p);
    value = value !== null && typeof value === 'object' ? (value as Record<string, unknown>)[p] : undefined;
  }
  s = unwrap(s);
  return s ? objectKeys(branchOf(s, value)) : [];
}

type Def = Record<string, unknown>;
const defOf = (s: z.ZodType) => (s as unknown as { def: Def }).def;

function unwrap(s: z.ZodType | undefined): z.ZodType | undefined {
  let cur = s as unknown as { def?: Def } | undefined;
  for (let i = 0; i < 10 && cur?.def; i++) {
    const d = cur.def;
    if (d.type === 'optional' || d.type === 'default' || d.type === 'nullable')
      cur = d.innerType as typeof cur;
    else if (d.type === 'lazy') cur = (d.getter as () => typeof cur)();
    else break;
  }
  return cur as unknown as z.ZodType | undefined;
}

/** The values a discriminator field of a union branch accepts (a literal or an enum). */
function tagValues(s: z.ZodType | undefined): unknown[] {
  const d = s ? defOf(s) : undefined;
  if (d?.type === 'literal') return d.values as unknown[];
  if (d?.type === 'enum') return Object.values(d.entries as object);
  return [];
}

/** The branch of a discriminated union that `value` selects; anything else unchanged. */
function branchOf(s: z.ZodType, value: unknown): z.ZodType {
  const d = defOf(s);
  if (
    d.type !== 'union' ||
    typeof d.discriminator !== 'string' ||
    value === null ||
    typeof value !== 'object'
  )
    return s;
  const tag = (value as Record<string, unknown>)[d.discriminator];
  const hit = (d.options as z.ZodType[]).find((o) => {
    const od = defOf(unwrap(o)!);
    return (
      od.type === 'object' &&
      tagValues((od.shape as Record<string, z.ZodType>)[d.discriminator as string]).includes(tag)
    );
  });
  return hit ? unwrap(hit)! : s;
}

function elementOf(s: z.ZodType): z.ZodType | undefined {
  const d = defOf(s);
  return d.type === 'array' ? (d.element as z.ZodType) : undefined;
}

function fieldOf(s: z.ZodType, key: string): z.ZodType | undefined {
  const d = defOf(s);
  if (d.type === 'object') return (d.shape as Record<string, z.ZodType>)[key];
  // Without a discriminator to go by, the first branch that has the field.
  if (d.type === 'union')
    for (const o of d.options as z.ZodType[]) {
      const f = fieldOf(unwrap(o)!, key);
      if (f) return f;
    }
  return undefined;
}

function objectKeys(s: z.ZodType): string[] {
  const d = defOf(s);
  if (d.type === 'object') return Object.keys(d.shape as object);
  if (d.type === 'union')
    return [...new Set((d.options as z.ZodType[]).flatMap((o) => objectKeys(unwrap(o)!)))];
  return [];
}
