/**
 * Design expressions (docs/designs.md): a design of the table with fields and fix switches turned on
 * (`+NAME`) or off (`-NAME`), e.g. `V3-PRUNE_CHECK_STILL_OURS` or `V4b-deferNotify`. The result is a
 * design like any other: the model reads only its fields, never its id.
 */
import {
  type DesignChange as BaseChange,
  DESIGNS,
  type Design,
  type DesignFields,
  designProblems,
  type FixSwitches,
} from './designs.ts';

/** The fields of a design that an expression may turn on or off. */
export const DESIGN_TOGGLES = [
  'lrOverflow',
  'lastLrIrq',
  'lastLrOnOverflowOnly',
  'foldLocked',
  'pinLastLr',
  'flushLpisDelRcu',
  'deferNotify',
  'rcuFreedLpis',
] as const;
export type DesignToggle = (typeof DESIGN_TOGGLES)[number];

/** The fix switches, in the order docs/model.md lists them. */
export const FIX_SWITCHES: readonly (keyof FixSwitches)[] = [
  'PRUNE_REF_ACROSS_MIGRATION',
  'PRUNE_CHECK_STILL_OURS',
  'FLUSH_LPIS_CLEARS_PENDING',
  'CACHE_INVALIDATE_PUTS_ERASED_ONLY',
  'LPI_RELEASE_UNDER_XA_LOCK',
  'MOVALL_FILTER_SOURCE',
  'HALT_ON_LPI_DISABLE',
  'OUTSIDE_GUEST_MODE_AFTER_SYNC',
  'PAUSE_IS_COUNTER',
];

export type ChangeName = DesignToggle | keyof FixSwitches;

/** One field or switch set to `on`. */
export interface DesignChange extends BaseChange {
  readonly name: ChangeName;
}

const ALL_NAMES: readonly ChangeName[] = [...DESIGN_TOGGLES, ...FIX_SWITCHES];

/** A design expression's problem: what is wrong and what would be valid. */
export class DesignExpressionError extends Error {
  constructor(
    message: string,
    readonly hint: string,
  ) {
    super(message);
  }
}

function isSwitch(n: ChangeName): n is keyof FixSwitches {
  return (FIX_SWITCHES as readonly string[]).includes(n);
}

/** The current value of a field or switch. */
export function settingOf(d: DesignFields, n: ChangeName): boolean {
  return isSwitch(n) ? d.fixes[n] : d[n];
}

/** A field or switch by name, whatever its case. */
export function changeName(text: string): ChangeName | undefined {
  const k = text.toLowerCase();
  return ALL_NAMES.find((n) => n.toLowerCase() === k);
}

/** The expression that names `changes` on `base`, each change with its canonical spelling. */
export function expressionOf(base: string, changes: readonly DesignChange[]): string {
  return base + changes.map((c) => `${c.on ? '+' : '-'}${c.name}`).join('');
}

/**
 * `base` with `changes` applied, named by `id` (the expression by default). A change that sets what
 * the base already has, or one that leaves the design inconsistent (designProblems), is an error: the
 * first would test nothing, the second a kernel that cannot exist.
 */
export function applyChanges(base: Design, changes: readonly DesignChange[], id?: string): Design {
  let fixes = { ...base.fixes };
  let fields: Partial<Record<DesignToggle, boolean>> = {};
  const seen = new Set<ChangeName>();
  for (const c of changes) {
    if (seen.has(c.name)) throw new DesignExpressionError(`${c.name} is changed twice`, 'name each once');
    seen.add(c.name);
    if (settingOf(base, c.name) === c.on) {
      throw new DesignExpressionError(
        `${base.id} already has ${c.name} ${c.on ? 'on' : 'off'}`,
        `write ${c.on ? '-' : '+'}${c.name} to turn it ${c.on ? 'off' : 'on'}, or leave it out`,
      );
    }
    if (isSwitch(c.name)) fixes = { ...fixes, [c.name]: c.on };
    else fields = { ...fields, [c.name]: c.on };
  }
  const name = id ?? expressionOf(base.id, changes);
  const d: Design = {
    ...base,
    ...fields,
    id: name,
    name,
    aliases: [],
    base: base.base,
    changes: [...base.changes, ...changes],
    file: undefined,
    description:
      changes.length === 0
        ? base.description
        : `${base.id} with ${changes.map((c) => `${c.name} ${c.on ? 'on' : 'off'}`).join(', ')}`,
    fixes,
  };
  const problems = designProblems(d);
  if (problems.length > 0)
    throw new DesignExpressionError(`${name} is not a consistent design: ${problems.join('; ')}`, fixHint());
  return d;
}

function fixHint(): string {
  return 'docs/designs.md says which fields need which (a tail walk needs lastLrIrq, deferNotify needs foldLocked, …)';
}

function namesHint(): string {
  return `designs: ${DESIGNS.map((d) => d.id).join(', ')}; fields: ${DESIGN_TOGGLES.join(', ')}; switches: ${FIX_SWITCHES.join(', ')}`;
}

/**
 * Parses `BASE(+NAME|-NAME)*`. BASE is a design id or alias (aliases may contain '-': the longest
 * one that the text starts with wins); NAME a field or switch, in any case.
 */
export function parseDesignExpression(text: string): Design {
  const lower = text.toLowerCase();
  let base: Design | undefined;
  let rest = '';
  for (const d of DESIGNS) {
    for (const n of [d.id, ...d.aliases]) {
      const k = n.toLowerCase();
      if (!lower.startsWith(k) || !/^$|^[+-]/.test(lower.slice(k.length))) continue;
      if (base && k.length <= text.length - rest.length) continue;
      base = d;
      rest = text.slice(k.length);
    }
  }
  if (!base) throw new DesignExpressionError(`unknown design "${text}"`, namesHint());
  if (rest === '') return base;
  const changes: DesignChange[] = [];
  for (const m of rest.matchAll(/([+-])([^+-]*)/g)) {
    const name = changeName(m[2]);
    if (!name)
      throw new DesignExpressionError(
        `"${m[2]}" in the design "${text}" is neither a design field nor a fix switch`,
        namesHint(),
      );
    changes.push({ name, on: m[1] === '+' });
  }
  return applyChanges(base, changes);
}

/**
 * The changes a design file or module writes as `fields:` and `switches:` settings, in table order.
 * A setting equal to the base's documents the design and changes nothing, so it is left out.
 */
export function changesFrom(
  base: DesignFields,
  fields: Readonly<Record<string, boolean | undefined>>,
  switches: Readonly<Record<string, boolean | undefined>>,
): DesignChange[] {
  const out: DesignChange[] = [];
  for (const name of DESIGN_TOGGLES) {
    const on = fields[name];
    if (on !== undefined && settingOf(base, name) !== on) out.push({ name, on });
  }
  for (const name of FIX_SWITCHES) {
    const on = switches[name];
    if (on !== undefined && settingOf(base, name) !== on) out.push({ name, on });
  }
  return out;
}
