import { readFileSync } from 'node:fs';
import { isMap, isSeq, LineCounter, type Node, parseDocument } from 'yaml';
import type { z } from 'zod';
import type { GuestStep, Handler } from '../gic/guest.ts';
import type { HostCall } from '../vgic/host.ts';
import type { ActorSpec, PrologueStep, ScenarioSpec } from './builder.ts';
import { keysAt, type ScenarioFile, scenarioSchema } from './schema.ts';

/** A problem in a scenario file, with where it is and how to fix it. Exit code 2 territory. */
export class ScenarioError extends Error {
  constructor(
    readonly file: string,
    readonly line: number,
    readonly col: number,
    readonly path: string,
    readonly problem: string,
    readonly hint = '',
  ) {
    super(`${file}:${line}:${col}: ${path ? `${path}: ` : ''}${problem}${hint ? `\n  hint: ${hint}` : ''}`);
  }
}

/** Default exploration bounds a file may set. */
export interface ExploreDefaults {
  strategy?: 'dpor' | 'bounded' | 'pct' | 'random';
  preemptions?: number;
  maxExecutions?: number;
  maxSteps?: number;
  seed?: number;
}

export interface LoadedScenario {
  spec: ScenarioSpec;
  explore: ExploreDefaults;
  file: string;
}

function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : `${out ? '.' : ''}${String(p)}`;
  return out;
}

/** Levenshtein distance, for "did you mean". */
function distance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
  }
  return d[a.length][b.length];
}

export function closest(word: string, options: readonly string[]): string | null {
  let best: string | null = null;
  let bestD = Number.POSITIVE_INFINITY;
  for (const o of options) {
    const dd = distance(word.toLowerCase(), o.toLowerCase());
    if (dd < bestD) {
      bestD = dd;
      best = o;
    }
  }
  return best !== null && bestD <= Math.max(2, Math.floor(word.length / 3)) ? best : null;
}

class Positions {
  private readonly lc = new LineCounter();
  readonly doc;
  constructor(
    readonly file: string,
    readonly text: string,
  ) {
    this.doc = parseDocument(text, { lineCounter: this.lc, prettyErrors: false });
  }

  private node(path: readonly PropertyKey[]): Node | null {
    let n: unknown = this.doc.contents;
    let last: Node | null = (n as Node) ?? null;
    for (const p of path) {
      if (isMap(n)) n = n.get(p as string, true);
      else if (isSeq(n)) n = n.get(p as number, true);
      else break;
      if (n) last = n as Node;
      else break;
    }
    return last;
  }

  /** The position of the value at `path` (or of the closest existing parent). */
  at(path: readonly PropertyKey[]): { line: number; col: number } {
    return this.offset(this.node(path)?.range?.[0] ?? 0);
  }

  /** The position of key `key` in the mapping at `path`. */
  keyAt(path: readonly PropertyKey[], key: string): { line: number; col: number } {
    const m = this.node(path);
    if (isMap(m)) {
      for (const item of m.items) {
        const k = item.key as Node | null;
        if (k && (k as unknown as { value: unknown }).value === key && k.range)
          return this.offset(k.range[0]);
      }
    }
    return this.at(path);
  }

  offset(o: number): { line: number; col: number } {
    const p = this.lc.linePos(o);
    return { line: p.line, col: p.col };
  }

  error(path: readonly PropertyKey[], problem: string, hint = '', key?: string): ScenarioError {
    const pos = key ? this.keyAt(path, key) : this.at(path);
    return new ScenarioError(
      this.file,
      pos.line,
      pos.col,
      formatPath(key ? [...path, key] : path),
      problem,
      hint,
    );
  }
}

/**
 * A union reports only "Invalid input"; the branch that got furthest (the longest path of its first
 * issue) says what is really wrong.
 */
function deepest(issue: z.core.$ZodIssue): z.core.$ZodIssue {
  if (issue.code !== 'invalid_union' || !('errors' in issue) || issue.errors.length === 0) return issue;
  let best: z.core.$ZodIssue | null = null;
  for (const branch of issue.errors as z.core.$ZodIssue[][]) {
    for (const inner of branch) {
      const full = deepest({ ...inner, path: [...issue.path, ...inner.path] } as z.core.$ZodIssue);
      if (!best || full.path.length > best.path.length) best = full;
    }
  }
  return best ?? issue;
}

function fromZod(pos: Positions, raw: z.core.$ZodIssue): ScenarioError {
  const issue = deepest(raw);
  const path = issue.path as PropertyKey[];
  if (issue.code === 'unrecognized_keys') {
    const key = issue.keys[0];
    const valid = keysAt(scenarioSchema, path as (string | number)[]);
    const near = closest(key, valid);
    return pos.error(
      path,
      `unknown key "${key}"`,
      near
        ? `did you mean "${near}"? valid keys here: ${valid.join(', ')}`
        : `valid keys here: ${valid.join(', ')}`,
      key,
    );
  }
  if (issue.code === 'invalid_type' && issue.input === undefined) {
    const key = String(path[path.length - 1]);
    return pos.error(
      path.slice(0, -1),
      `missing required key "${key}"`,
      `add "${key}:" here (see docs/scenarios.md)`,
    );
  }
  // A discriminator with a typo ("hnadle"): suggest the closest of the listed values.
  const listed = /\(([^)]+)\)$/.exec(issue.message);
  const value = pos.doc.getIn(path as (string | number)[]);
  if (listed && typeof value === 'string') {
    const near = closest(value, listed[1].split(', '));
    if (near)
      return pos.error(
        path,
        `${issue.message.replace(/ \(.*$/, '')} "${value}"`,
        `did you mean "${near}"? valid values: ${listed[1]}`,
      );
  }
  return pos.error(path, issue.message, 'see docs/scenarios.md for the format of this field');
}

/** Checks that need the whole file: INTID kinds and ranges, vCPUs that exist, ITS presence. */
function semantic(pos: Positions, f: ScenarioFile): void {
  const nSpis = f.vm.spis;
  const seen = new Map<number, number>();
  const vcpu = (v: number, path: PropertyKey[]) => {
    if (v >= f.vm.vcpus)
      throw pos.error(
        path,
        `vCPU ${v} does not exist`,
        `the VM has vCPUs 0–${f.vm.vcpus - 1} (vm.vcpus: ${f.vm.vcpus})`,
      );
  };
  f.interrupts.forEach((irq, i) => {
    const p = ['interrupts', i, 'intid'];
    if (seen.has(irq.intid))
      throw pos.error(
        p,
        `INTID ${irq.intid} is configured twice`,
        `interrupts[${seen.get(irq.intid)}] already configures it; merge the two entries`,
      );
    seen.set(irq.intid, i);
    const id = irq.intid;
    if (irq.lpi) {
      if (id < 8192 || id > 65535)
        throw pos.error(
          p,
          `${id} is not an LPI INTID (8192–65535)`,
          'LPIs take INTIDs from 8192 (KVM limits them to 16 bits)',
        );
      if (!f.vm.its) throw pos.error(['interrupts', i, 'lpi'], 'an LPI needs an ITS', 'set vm.its: true');
      vcpu(irq.lpi.collection, ['interrupts', i, 'lpi', 'collection']);
    } else if (id >= 8192) {
      throw pos.error(
        p,
        `INTID ${id} is an LPI but has no "lpi:" mapping`,
        'add lpi: {device, event, collection}',
      );
    } else if (id >= 32 + nSpis) {
      throw pos.error(
        p,
        `${id} is not an INTID of this VM`,
        `SGIs are 0–15, PPIs 16–31, SPIs 32–${31 + nSpis} (vm.spis: ${nSpis}), LPIs from 8192`,
      );
    }
    if (id < 16 && irq.trigger === 'level')
      throw pos.error(
        ['interrupts', i, 'trigger'],
        'SGIs are always edge-triggered',
        'remove trigger or use edge',
      );
    if (irq.target !== undefined) vcpu(irq.target, ['interrupts', i, 'target']);
  });
  for (const [i, v] of f.lpisEnabled.entries()) vcpu(v, ['lpisEnabled', i]);
  if (f.lpisEnabled.length > 0 && !f.vm.its)
    throw pos.error(['lpisEnabled'], 'LPIs need an ITS', 'set vm.its: true');
  const checkGuest = (steps: readonly Record<string, unknown>[], path: PropertyKey[]) => {
    steps.forEach((s, i) => {
      if (s.op === 'sgi' && Array.isArray(s.targets)) {
        for (const [j, v] of (s.targets as number[]).entries()) vcpu(v, [...path, i, 'targets', j]);
      }
      const w = s.write as { reg?: string; vcpu?: number } | undefined;
      if (s.op === 'mmio' && w?.reg === 'GICR_CTLR' && w.vcpu !== undefined)
        vcpu(w.vcpu, [...path, i, 'write', 'vcpu']);
      if (s.op === 'repeat') checkGuest(s.body as Record<string, unknown>[], [...path, i, 'body']);
    });
  };
  f.prologue.forEach((p, i) => {
    if ('vcpu' in p) {
      vcpu(p.vcpu, ['prologue', i, 'vcpu']);
      checkGuest(p.guest, ['prologue', i, 'guest']);
    }
  });
  const actorVcpus = new Map<number, number>();
  f.actors.forEach((a, i) => {
    if ('vcpu' in a) {
      vcpu(a.vcpu, ['actors', i, 'vcpu']);
      if (actorVcpus.has(a.vcpu))
        throw pos.error(
          ['actors', i, 'vcpu'],
          `vCPU ${a.vcpu} already has an actor`,
          `actors[${actorVcpus.get(a.vcpu)}] runs it; one guest program per vCPU`,
        );
      actorVcpus.set(a.vcpu, i);
      checkGuest(a.guest, ['actors', i, 'guest']);
    }
  });
  for (const key of Object.keys(f.expect.acks ?? {})) {
    if (!/^\d+$/.test(key))
      throw pos.error(
        ['expect', 'acks'],
        `"${key}" is not a vCPU number`,
        'keys of expect.acks are vCPU numbers',
        key,
      );
    vcpu(Number(key), ['expect', 'acks', key]);
  }
}

function handlerOf(h: string | undefined): Handler | undefined {
  const lowerLine = (intid: number): HostCall => ({ call: 'irq_line', intid, level: false });
  switch (h) {
    case 'vgic':
      return { kind: 'vgic', level: false, lowerLine };
    case 'vgic-level':
      return { kind: 'vgic', level: true, lowerLine };
    case 'kut':
      return { kind: 'kut' };
    case 'simple':
      return { kind: 'simple' };
    default:
      return undefined;
  }
}

/** Converts a validated file into the builder's ScenarioSpec. */
export function toSpec(f: ScenarioFile): ScenarioSpec {
  const prologue: PrologueStep[] = f.prologue.map((p) =>
    'vcpu' in p
      ? { vcpu: p.vcpu, guest: p.guest as unknown as GuestStep[], handler: handlerOf(p.handler) }
      : { host: p.host as HostCall },
  );
  const actors: ActorSpec[] = f.actors.map((a) =>
    'vcpu' in a
      ? {
          kind: 'vcpu',
          vcpu: a.vcpu,
          guest: a.guest as unknown as GuestStep[],
          handler: handlerOf(a.handler),
        }
      : { kind: 'host', name: a.host, host: a.actions as HostCall[] },
  );
  const acks: Record<number, { intids: number[]; ordered?: boolean }> = {};
  for (const [k, v] of Object.entries(f.expect.acks ?? {}))
    acks[Number(k)] = Array.isArray(v) ? { intids: v } : v;
  return {
    name: f.name,
    description: f.description,
    vm: {
      nrVcpus: f.vm.vcpus,
      nLr: f.vm.nrLr,
      nrSpis: f.vm.spis,
      its: f.vm.its,
      hostTdir: f.vm.hostTdir,
      maxMiDelay: f.vm.maxMiDelay,
    },
    irqs: f.interrupts
      .filter((i) => !i.lpi)
      .map((i) => ({
        intid: i.intid,
        trigger: i.trigger,
        priority: i.priority,
        group: i.group,
        enabled: i.enabled,
        vcpu: i.target,
      })),
    lpis: f.interrupts
      .filter((i) => i.lpi)
      .map((i) => ({
        intid: i.intid,
        device: i.lpi!.device,
        event: i.lpi!.event,
        collection: i.lpi!.collection,
        priority: i.priority,
      })),
    lpisEnabledOn: f.lpisEnabled,
    resamplers: f.resamplers,
    prologue,
    actors,
    expect: { acks, ackPriorityOrder: f.expect.ackPriorityOrder, finalState: f.expect.final },
  };
}

/** Parses and validates scenario text; throws ScenarioError with file:line:column. */
export function parseScenario(text: string, file: string): LoadedScenario {
  const pos = new Positions(file, text);
  if (pos.doc.errors.length > 0) {
    const e = pos.doc.errors[0];
    const p = pos.offset(e.pos[0]);
    throw new ScenarioError(
      file,
      p.line,
      p.col,
      '',
      `invalid YAML: ${e.message.split('\n')[0]}`,
      'check indentation and quoting at this position',
    );
  }
  const data = pos.doc.toJS();
  if (data === null || typeof data !== 'object' || Array.isArray(data)) {
    throw new ScenarioError(
      file,
      1,
      1,
      '',
      'a scenario file is a YAML mapping',
      'start with "name:", "description:", "vm:" and "actors:"',
    );
  }
  const r = scenarioSchema.safeParse(data);
  if (!r.success) {
    const issues = [...r.error.issues].sort((a, b) => {
      const pa = pos.at(a.path as PropertyKey[]);
      const pb = pos.at(b.path as PropertyKey[]);
      return pa.line - pb.line || pa.col - pb.col;
    });
    throw fromZod(pos, issues[0]);
  }
  semantic(pos, r.data);
  return { spec: toSpec(r.data), explore: r.data.explore, file };
}

/** Reads and parses a scenario file. */
export function loadScenarioFile(path: string): LoadedScenario {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const what =
      code === 'ENOENT'
        ? 'no such file'
        : code === 'EISDIR'
          ? 'is a directory, not a scenario file'
          : `cannot be read (${code})`;
    throw new ScenarioError(
      path,
      1,
      1,
      '',
      what,
      'give the path of a .yaml scenario file, or a catalogue name (vgic-lab list scenarios)',
    );
  }
  return parseScenario(text, path);
}
