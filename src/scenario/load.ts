import { readFileSync, statSync } from 'node:fs';
import { isAlias, isMap, isScalar, isSeq, LineCounter, type Node, parseDocument, visit } from 'yaml';
import type { z } from 'zod';
import { MIN_LPI } from '../gic/cpuif.ts';
import type { GicRegWrite } from '../gic/regs.ts';
import type { HostCall } from '../vgic/host.ts';
import type { SourceMap } from './builder.ts';
import { closest } from './closest.ts';
import { ScenarioError } from './error.ts';
import { contentHash } from './hash.ts';
import { keysAt, type ScenarioSpec, scenarioSchema } from './schema.ts';

export { ScenarioError };

export interface LoadedScenario {
  spec: ScenarioSpec;
  /** The exploration bounds the file sets (`spec.explore`). */
  explore: ScenarioSpec['explore'];
  /** Where the prologue's steps are in the file. */
  source: SourceMap;
  file: string;
  /** Of the file's text: replay tokens record it (contentHash). */
  hash: string;
}

function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : `${out ? '.' : ''}${String(p)}`;
  return out;
}

/**
 * A YAML file with the positions of its nodes, the schema it is read against and the docs page that
 * describes its format (scenario files, design files): errors point at the file and at the page.
 */
export class Positions {
  private readonly lc = new LineCounter();
  readonly doc;
  constructor(
    readonly file: string,
    readonly text: string,
    readonly schema: z.ZodType = scenarioSchema,
    readonly page = 'docs/scenarios.md',
  ) {
    this.doc = parseDocument(text, { lineCounter: this.lc, prettyErrors: false });
  }

  /**
   * The node at `path`, or the closest existing parent. Keys compare as text: a YAML key `0` is the
   * number 0 while the schema's path holds the string "0".
   */
  private lookup(path: readonly PropertyKey[]): { node: Node | null; found: boolean } {
    let n: unknown = this.doc.contents;
    let last: Node | null = (n as Node) ?? null;
    for (const p of path) {
      let next: unknown;
      let present = false;
      if (isMap(n)) {
        const pair = n.items.find((it) => isScalar(it.key) && String(it.key.value) === String(p));
        if (pair) {
          present = true;
          // `key:` with nothing after it still exists; point at the key then.
          next = pair.value ?? pair.key;
        }
      } else if (isSeq(n) && typeof p === 'number' && p < n.items.length) {
        present = true;
        next = n.items[p];
      }
      if (!present) return { node: last, found: false };
      n = next;
      if (n) last = n as Node;
    }
    return { node: last, found: true };
  }

  /** The node at `path` when the file has one. */
  node(path: readonly PropertyKey[]): Node | null {
    const { node, found } = this.lookup(path);
    return found ? node : null;
  }

  /** Whether the file itself has a value at `path` (the schema fills in defaults, the file may not). */
  has(path: readonly PropertyKey[]): boolean {
    return this.lookup(path).found;
  }

  /** The plain value at `path` if it is a scalar. */
  scalar(path: readonly PropertyKey[]): unknown {
    const { node, found } = this.lookup(path);
    return found && isScalar(node) ? node.value : undefined;
  }

  /** The keys the file writes in the mapping at `path`. */
  keys(path: readonly PropertyKey[]): string[] {
    const { node, found } = this.lookup(path);
    if (!found || !isMap(node)) return [];
    return node.items.flatMap((it) => (isScalar(it.key) ? [String(it.key.value)] : []));
  }

  /** The position of the value at `path` (or of the closest existing parent). */
  at(path: readonly PropertyKey[]): { line: number; col: number } {
    return this.offset(this.lookup(path).node?.range?.[0] ?? 0);
  }

  /** The position of key `key` in the mapping at `path`. */
  keyAt(path: readonly PropertyKey[], key: string): { line: number; col: number } {
    const { node, found } = this.lookup(path);
    if (found && isMap(node)) {
      for (const item of node.items) {
        const k = item.key;
        if (isScalar(k) && String(k.value) === key && k.range) return this.offset(k.range[0]);
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

type Issue = z.core.$ZodIssue;

/**
 * The issues that say what is wrong with a value: a union reports only that no branch matched, so this
 * picks the branch that came closest (its issues reach deepest, then the fewest of them) and goes on
 * inside it. When no branch got past the value itself (a group of 2 matches neither 0 nor 1), the
 * union's own message is the one written for people.
 */
function explain(issue: Issue): Issue[] {
  if (issue.code !== 'invalid_union' || issue.errors.length === 0) return [issue];
  const branches = issue.errors.map((branch) =>
    branch.flatMap((inner) => explain({ ...inner, path: [...issue.path, ...inner.path] } as Issue)),
  );
  const depth = (b: Issue[]) => Math.max(...b.map((i) => i.path.length));
  const weight = (b: Issue[]) =>
    b.reduce((n, i) => n + (i.code === 'unrecognized_keys' ? i.keys.length : 1), 0);
  let best = branches[0];
  for (const b of branches.slice(1)) {
    if (depth(b) > depth(best) || (depth(b) === depth(best) && weight(b) < weight(best))) best = b;
  }
  if (depth(best) > issue.path.length) return best;
  return [issue.message === 'Invalid input' ? { ...issue, message: best[0].message } : issue];
}

/** zod's own messages, in the words of a YAML file. */
function plain(message: string): string {
  return message
    .replace(/^Invalid input: /, '')
    .replace(/\bexpected object\b/, 'expected a mapping (key: value)')
    .replace(/\bexpected array\b/, 'expected a list')
    .replace(/\bexpected boolean\b/, 'expected a boolean (true or false)')
    .replace(/\bexpected string\b/, 'expected text')
    .replace(/, received \w+$/, '');
}

/** How the file wrote a scalar value, for "got …" (quoted when it was quoted). */
function shown(node: unknown): string | null {
  if (!isScalar(node) || node.value === null) return null;
  const src = node.source ?? String(node.value);
  const quoted = node.type === 'QUOTE_DOUBLE' || node.type === 'QUOTE_SINGLE';
  return quoted ? JSON.stringify(src) : `\`${src}\``;
}

/** A hint for a value of the wrong type, when the likely cause is visible. */
function typeHint(value: unknown, page: string): string {
  if (typeof value === 'string' && /^(0x[0-9a-f]+|\d+)$/i.test(value))
    return `write ${value} without quotes: quoted, it is text, not a number`;
  if (value === 'true' || value === 'false') return `write ${value} without quotes: quoted, it is text`;
  if (value === null) return `the value is empty; write one after the colon (see ${page})`;
  return `see ${page} for the format of this field`;
}

/** The values a message lists in its closing parentheses ("unknown guest action (ack, eoi, …)"). */
function listed(message: string): string[] | null {
  const m = /\(([^)]+)\)$/.exec(message);
  return m ? m[1].split(', ') : null;
}

function unknownKey(pos: Positions, path: PropertyKey[], key: string, data: unknown): ScenarioError {
  const valid = keysAt(pos.schema, path as (string | number)[], data);
  const near = closest(
    key,
    valid.filter((k) => !pos.keys(path).includes(k)),
  );
  return pos.error(
    path,
    `unknown key "${key}"`,
    near
      ? `did you mean "${near}"? valid keys here: ${valid.join(', ')}`
      : `valid keys here: ${valid.join(', ')}`,
    key,
  );
}

/** The first problem zod found, in the words of a YAML file and at its position. */
export function fromZod(pos: Positions, raw: readonly Issue[], data: unknown): ScenarioError {
  const issues = raw
    .flatMap(explain)
    .map((issue) => {
      const path = issue.path as PropertyKey[];
      return {
        issue,
        at: issue.code === 'unrecognized_keys' ? pos.keyAt(path, issue.keys[0]) : pos.at(path),
      };
    })
    .sort((a, b) => a.at.line - b.at.line || a.at.col - b.at.col)
    .map((x) => x.issue);
  const issue = issues[0];
  const path = issue.path as PropertyKey[];
  if (issue.code === 'unrecognized_keys') return unknownKey(pos, path, issue.keys[0], data);
  const last = path[path.length - 1];
  if (typeof last === 'string' && !pos.has(path)) {
    const parent = path.slice(0, -1);
    // A misspelt key and the key it should have been: the typo is the thing to fix.
    const typo = pos
      .keys(parent)
      .find(
        (k) =>
          !keysAt(pos.schema, parent as (string | number)[], data).includes(k) && closest(k, [last]) !== null,
      );
    if (typo) return unknownKey(pos, parent, typo, data);
    const values = listed(issue.message);
    return pos.error(
      parent,
      `missing required key "${last}"`,
      values && issue.code === 'invalid_union'
        ? `add "${last}:" here, one of: ${values.join(', ')}`
        : `add "${last}:" here (see ${pos.page})`,
    );
  }
  const value = pos.scalar(path);
  // A discriminator with a typo ("hnadle"): suggest the closest of the listed values.
  const values = listed(issue.message);
  if (values && typeof value === 'string') {
    const near = closest(value, values);
    if (near)
      return pos.error(
        path,
        `${issue.message.replace(/ \(.*$/, '')} "${value}"`,
        `did you mean "${near}"? valid values: ${values.join(', ')}`,
      );
  }
  const got = shown(pos.node(path));
  const message = plain(issue.message);
  // A range message already starts with the value ("300 is not a priority").
  const say = got && !message.startsWith(String(value)) ? `${message}, got ${got}` : message;
  return pos.error(path, say, typeHint(value, pos.page));
}

type Path = PropertyKey[];

/** Every host call of the file, wherever it stands (prologue, host actors, a guest's hvc), batches opened. */
function hostCalls(f: ScenarioSpec): { call: HostCall; path: Path }[] {
  const out: { call: HostCall; path: Path }[] = [];
  const add = (call: HostCall, path: Path) => {
    out.push({ call, path });
    if (call.call === 'batch') for (const [j, c] of call.calls.entries()) add(c, [...path, 'calls', j]);
  };
  const guest = (steps: readonly Record<string, unknown>[], path: Path) =>
    steps.forEach((s, i) => {
      if (s.op === 'hvc') add(s.call as HostCall, [...path, i, 'call']);
      if (s.op === 'repeat') guest(s.body as Record<string, unknown>[], [...path, i, 'body']);
    });
  f.prologue.forEach((p, i) => {
    if ('vcpu' in p) guest(p.guest, ['prologue', i, 'guest']);
    else add(p.host, ['prologue', i, 'host']);
  });
  f.actors.forEach((a, i) => {
    if ('vcpu' in a) guest(a.guest, ['actors', i, 'guest']);
    else for (const [j, c] of a.actions.entries()) add(c, ['actors', i, 'actions', j]);
  });
  return out;
}

const eventKey = (device: number, event: number) => `${device}/${event}`;

/** Every INTID the file configures or that some action raises, sends or writes. */
function mentionedIntids(f: ScenarioSpec, calls: readonly { call: HostCall }[]): Set<number> {
  const out = new Set<number>(f.interrupts.map((i) => i.intid));
  for (const id of f.resamplers) out.add(id);
  for (const { call } of calls) {
    if ('intid' in call) out.add(call.intid);
    if (call.call === 'uaccess' && 'intid' in call.write) out.add(call.write.intid);
    if (call.call === 'its') for (const c of call.cmds) if (c.cmd === 'MAPTI') out.add(c.intid);
  }
  const guest = (steps: readonly Record<string, unknown>[]) => {
    for (const s of steps) {
      if (s.op === 'sgi') out.add(s.intid as number);
      const w = s.write as { intid?: number } | undefined;
      if (s.op === 'mmio' && w && typeof w.intid === 'number') out.add(w.intid);
      if (s.op === 'repeat') guest(s.body as Record<string, unknown>[]);
    }
  };
  for (const p of f.prologue) if ('vcpu' in p) guest(p.guest);
  for (const a of f.actors) if ('vcpu' in a) guest(a.guest);
  return out;
}

/** What the file ever maps on the ITS: its lpi: entries and its MAPD, MAPC and MAPTI commands. */
interface ItsMappings {
  devices: Set<number>;
  events: Set<string>;
  collections: Set<number>;
}

function itsMappings(f: ScenarioSpec, calls: readonly { call: HostCall }[]): ItsMappings {
  const m: ItsMappings = { devices: new Set(), events: new Set(), collections: new Set() };
  for (const irq of f.interrupts) {
    if (!irq.lpi) continue;
    m.devices.add(irq.lpi.device);
    m.events.add(eventKey(irq.lpi.device, irq.lpi.event));
    m.collections.add(irq.lpi.collection);
  }
  for (const { call } of calls) {
    if (call.call !== 'its') continue;
    for (const c of call.cmds) {
      if (c.cmd === 'MAPD' && c.valid) m.devices.add(c.device);
      if (c.cmd === 'MAPC' && c.vcpu !== null) m.collections.add(c.collection);
      if (c.cmd === 'MAPTI') m.events.add(eventKey(c.device, c.event));
    }
  }
  return m;
}

/**
 * An ITS command that no mapping of the file can ever make take effect is a mistake in the scenario
 * (KVM would answer it with a command error and do nothing): refuse it rather than explore a no-op.
 */
type ItsCommandIn = Extract<HostCall, { call: 'its' }>['cmds'][number];

function checkItsCommand(pos: Positions, m: ItsMappings, c: ItsCommandIn, path: Path): void {
  switch (c.cmd) {
    case 'MAPTI':
      if (!m.devices.has(c.device))
        throw pos.error(
          [...path, 'device'],
          `MAPTI on device ${c.device}, which nothing maps`,
          `add a MAPD of device ${c.device} before it, or an interrupt with lpi: {device: ${c.device}, …}`,
        );
      return;
    case 'MAPD':
      if (!c.valid && !m.devices.has(c.device))
        throw pos.error(
          [...path, 'device'],
          `MAPD unmaps device ${c.device}, which nothing maps`,
          'remove it',
        );
      return;
    case 'INT':
    case 'DISCARD':
    case 'CLEAR':
    case 'INV':
    case 'MOVI':
      if (!m.events.has(eventKey(c.device, c.event)))
        throw pos.error(
          path,
          `${c.cmd} names device ${c.device} event ${c.event}, which nothing maps`,
          `map it with an interrupt's lpi: {device: ${c.device}, event: ${c.event}, collection: …} or a MAPTI command`,
        );
      if (c.cmd === 'MOVI' && !m.collections.has(c.collection))
        throw pos.error(
          [...path, 'collection'],
          `MOVI to collection ${c.collection}, which nothing maps`,
          `name it in an interrupt's lpi: {…, collection: ${c.collection}} or map it with MAPC`,
        );
      return;
    default:
      return;
  }
}

/** Checks that need the whole file: INTID kinds and ranges, vCPUs that exist, ITS presence. */
const V3_ONLY = 'LPIs, the ITS and the redistributors (GICR_*) are GICv3: use gic: v3, or leave them out';

/** What the VM's GIC allows: a GICv3 host has at most 16 LRs; a GICv2 VM has no ITS and no TDIR. */
function gicVersion(pos: Positions, f: ScenarioSpec): void {
  if (f.vm.gic === 'v3' && f.vm.nrLr > 16)
    throw pos.error(
      ['vm', 'nrLr'],
      `a GICv3 host has at most 16 list registers, got ${f.vm.nrLr}`,
      'use 1–16, or gic: v2 (a GICv2 host has up to 64)',
    );
  if (f.vm.gic !== 'v2') return;
  if (f.vm.its) throw pos.error(['vm', 'its'], 'a GICv2 VM has no ITS', V3_ONLY);
  if (!f.vm.hostTdir)
    throw pos.error(
      ['vm', 'hostTdir'],
      'a GICv2 host has no TDIR: KVM always traps the GICV_DIR page',
      'remove hostTdir: it only applies to gic: v3',
    );
}

function semantic(pos: Positions, f: ScenarioSpec): void {
  const nSpis = f.vm.spis;
  const lastSpi = 31 + nSpis;
  const seen = new Map<number, number>();
  const vcpu = (v: number | null | undefined, path: PropertyKey[]) => {
    if (typeof v === 'number' && v >= f.vm.vcpus)
      throw pos.error(
        path,
        `vCPU ${v} does not exist`,
        `the VM has vCPUs 0–${f.vm.vcpus - 1} (vm.vcpus: ${f.vm.vcpus})`,
      );
  };
  gicVersion(pos, f);
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
      if (f.vm.gic === 'v2') throw pos.error(['interrupts', i, 'lpi'], 'a GICv2 VM has no LPIs', V3_ONLY);
      if (id < MIN_LPI || id > 65535)
        throw pos.error(
          p,
          `${id} is not an LPI INTID (${MIN_LPI}–65535)`,
          `LPIs take INTIDs from ${MIN_LPI} (KVM limits them to 16 bits)`,
        );
      if (!f.vm.its) throw pos.error(['interrupts', i, 'lpi'], 'an LPI needs an ITS', 'set vm.its: true');
      vcpu(irq.lpi.collection, ['interrupts', i, 'lpi', 'collection']);
    } else if (id >= MIN_LPI) {
      throw pos.error(
        p,
        `INTID ${id} is an LPI but has no "lpi:" mapping`,
        'add lpi: {device, event, collection}',
      );
    } else if (id > lastSpi) {
      throw pos.error(
        p,
        `${id} is not an INTID of this VM`,
        `SGIs are 0–15, PPIs 16–31, SPIs 32–${lastSpi} (vm.spis: ${nSpis}), LPIs from ${MIN_LPI}`,
      );
    }
    if (id < 16 && irq.trigger === 'level')
      throw pos.error(
        ['interrupts', i, 'trigger'],
        'SGIs are always edge-triggered',
        'remove trigger or use edge',
      );
    if (irq.target !== undefined) vcpu(irq.target, ['interrupts', i, 'target']);
    if (irq.timer) {
      if (id < 16 || id > 31)
        throw pos.error(
          ['interrupts', i, 'timer'],
          `INTID ${id} is not a PPI: the timer is mapped to a PPI`,
          'the virtual timer is PPI 27',
        );
      if (irq.trigger === 'edge')
        throw pos.error(['interrupts', i, 'trigger'], 'the timer PPI is level-triggered', 'remove trigger');
      const other = f.interrupts.findIndex((x) => x.timer);
      if (other !== i)
        throw pos.error(
          ['interrupts', i, 'timer'],
          'a VM maps one PPI to the timer',
          `interrupts[${other}] already does`,
        );
    }
  });
  if (f.vm.gic === 'v2' && f.lpisEnabled.length > 0)
    throw pos.error(['lpisEnabled'], 'a GICv2 VM has no LPIs (GICR_CTLR.EnableLPIs is GICv3)', V3_ONLY);
  for (const [i, v] of f.lpisEnabled.entries()) vcpu(v, ['lpisEnabled', i]);
  if (f.lpisEnabled.length > 0 && !f.vm.its)
    throw pos.error(['lpisEnabled'], 'LPIs need an ITS', 'set vm.its: true');
  for (const [i, id] of f.resamplers.entries()) {
    if (id < 32 || id > lastSpi)
      throw pos.error(
        ['resamplers', i],
        `${id} is not an SPI of this VM`,
        `a resampling irqfd drives an SPI: 32–${lastSpi} (vm.spis: ${nSpis})`,
      );
  }
  // IROUTER and GICR_CTLR writes name a vCPU, ITARGETSR vCPUs; the other registers do not.
  const checkWrite = (w: GicRegWrite, path: PropertyKey[]) => {
    const reg = [...path, 'reg'];
    if (f.vm.gic === 'v2' && (w.reg === 'IROUTER' || w.reg === 'GICR_CTLR'))
      throw pos.error(
        reg,
        `${w.reg} is a GICv3 register`,
        w.reg === 'IROUTER'
          ? 'a GICv2 VM routes an SPI with ITARGETSR: {reg: ITARGETSR, intid, targets: [vCPUs]}'
          : V3_ONLY,
      );
    if (f.vm.gic === 'v3' && w.reg === 'ITARGETSR')
      throw pos.error(
        reg,
        'ITARGETSR is a GICv2 register',
        'a GICv3 VM routes an SPI with IROUTER: {reg: IROUTER, intid, vcpu}',
      );
    if ('vcpu' in w) vcpu(w.vcpu, [...path, 'vcpu']);
    if (w.reg === 'ITARGETSR') for (const [j, c] of w.targets.entries()) vcpu(c, [...path, 'targets', j]);
  };
  const calls = hostCalls(f);
  const its = itsMappings(f, calls);
  const checkCall = (c: HostCall, path: PropertyKey[]): void => {
    if ((c.call === 'its' || c.call === 'msi') && !f.vm.its)
      throw pos.error(
        path,
        `${c.call === 'its' ? 'an ITS command' : 'an MSI'} needs an ITS`,
        'set vm.its: true',
      );
    if (c.call === 'timer') {
      vcpu(c.vcpu, [...path, 'vcpu']);
      if (!f.interrupts.some((x) => x.timer))
        throw pos.error(
          path,
          'no PPI is mapped to the timer',
          'add timer: true to the PPI (27) in interrupts',
        );
    } else if (c.call === 'uaccess') {
      vcpu(c.vcpu, [...path, 'vcpu']);
      checkWrite(c.write, [...path, 'write']);
    } else if (c.call === 'its') {
      c.cmds.forEach((cmd, j) => {
        const p = [...path, 'cmds', j];
        if (cmd.cmd === 'MAPC') vcpu(cmd.vcpu, [...p, 'vcpu']);
        if (cmd.cmd === 'MOVALL') {
          vcpu(cmd.from, [...p, 'from']);
          vcpu(cmd.to, [...p, 'to']);
        }
        checkItsCommand(pos, its, cmd, p);
      });
    } else if (c.call === 'msi' && !its.events.has(eventKey(c.device, c.event)))
      throw pos.error(
        path,
        `this MSI can never be delivered: nothing maps device ${c.device} event ${c.event}`,
        `map it with an interrupt's lpi: {device: ${c.device}, event: ${c.event}, collection: …} or a MAPTI command`,
      );
  };
  for (const { call, path } of calls) checkCall(call, path);
  const checkGuest = (steps: readonly Record<string, unknown>[], path: PropertyKey[], prologue: boolean) => {
    steps.forEach((s, i) => {
      if (s.op === 'sgi' && Array.isArray(s.targets)) {
        for (const [j, v] of (s.targets as number[]).entries()) vcpu(v, [...path, i, 'targets', j]);
      }
      if (s.op === 'mmio') checkWrite(s.write as GicRegWrite, [...path, i, 'write']);
      if ((s.op === 'eoi' || s.op === 'dir') && s.source !== undefined && f.vm.gic !== 'v2')
        throw pos.error(
          [...path, i, 'source'],
          "an SGI's source is part of the EOI and DIR values on GICv2 only",
          'remove source: a GICv3 VM names an SGI by its INTID alone',
        );
      if (s.op === 'repeat') checkGuest(s.body as Record<string, unknown>[], [...path, i, 'body'], prologue);
      if (s.op === 'idle' && prologue)
        throw pos.error(
          [...path, i, 'op'],
          'idle never ends, so a prologue step cannot use it',
          "the prologue runs each step to its end before exploring; put idle in the vCPU's actor",
        );
    });
  };
  f.prologue.forEach((p, i) => {
    if ('vcpu' in p) {
      vcpu(p.vcpu, ['prologue', i, 'vcpu']);
      checkGuest(p.guest, ['prologue', i, 'guest'], true);
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
      checkGuest(a.guest, ['actors', i, 'guest'], false);
    }
  });
  // Keys of expect.acks and expect.sgiSources are vCPU numbers.
  const vcpuKey = (field: 'acks' | 'sgiSources', key: string) => {
    if (!/^\d+$/.test(key))
      throw pos.error(
        ['expect', field],
        `"${key}" is not a vCPU number`,
        `keys of expect.${field} are vCPU numbers`,
        key,
      );
    vcpu(Number(key), ['expect', field, key]);
  };
  for (const key of Object.keys(f.expect.acks ?? {})) vcpuKey('acks', key);
  for (const [i, v] of (f.expect.ackPriorityOrder ?? []).entries())
    vcpu(v, ['expect', 'ackPriorityOrder', i]);
  for (const key of Object.keys(f.expect.sgiSources ?? {})) {
    if (f.vm.gic !== 'v2')
      throw pos.error(
        ['expect', 'sgiSources'],
        "sgiSources checks the source CPU in a GICv2 IAR; a GICv3 VM's IAR has none",
        'remove sgiSources, or use gic: v2',
        key,
      );
    vcpuKey('sgiSources', key);
    for (const [j, c] of (f.expect.sgiSources?.[key] ?? []).entries())
      vcpu(c, ['expect', 'sgiSources', key, j]);
  }

  for (const [i, e] of (f.expect.final ?? []).entries()) {
    const p = ['expect', 'final', i];
    if (e.intid >= MIN_LPI)
      throw pos.error(
        [...p, 'intid'],
        `the final state of LPI ${e.intid} cannot be checked`,
        'expect.final covers SGIs, PPIs and SPIs; check what happened to an LPI with expect.acks',
      );
    if (e.intid > lastSpi)
      throw pos.error(
        [...p, 'intid'],
        `${e.intid} is not an INTID of this VM`,
        `SGIs are 0–15, PPIs 16–31, SPIs 32–${lastSpi} (vm.spis: ${nSpis})`,
      );
    if (e.vcpu !== undefined && e.intid >= 32)
      throw pos.error(
        [...p, 'vcpu'],
        `SPI ${e.intid} belongs to no vCPU`,
        'remove vcpu: it chooses whose SGI or PPI is checked',
      );
    vcpu(e.vcpu, [...p, 'vcpu']);
  }
  // An expectation about an interrupt nothing defines or raises could only pass vacuously or fail
  // for a typo.
  const known = mentionedIntids(f, calls);
  const mentioned = (id: number, path: PropertyKey[]) => {
    if (!known.has(id))
      throw pos.error(
        path,
        `INTID ${id} is never defined (interrupts:) nor raised by any action of the scenario`,
        'expect only interrupts the scenario configures or sends',
      );
  };
  for (const [key, list] of Object.entries(f.expect.acks ?? {})) {
    const intids = Array.isArray(list) ? list : list.intids;
    const path = Array.isArray(list) ? ['expect', 'acks', key] : ['expect', 'acks', key, 'intids'];
    for (const [j, id] of intids.entries()) mentioned(id, [...path, j]);
  }
  for (const [i, e] of (f.expect.final ?? []).entries()) mentioned(e.intid, ['expect', 'final', i, 'intid']);
}

/**
 * Aliases are refused before the document becomes plain data: an undefined one throws there, and a
 * few nested ones expand into an enormous value. The format does not need them.
 */
function rejectAliases(pos: Positions, what: string): void {
  let alias: Node | null = null;
  visit(pos.doc, {
    Pair(_, pair) {
      // Read into a JavaScript object, this key would replace the object's prototype and vanish.
      if (isScalar(pair.key) && pair.key.value === '__proto__') {
        const p = pos.offset(pair.key.range?.[0] ?? 0);
        throw new ScenarioError(
          pos.file,
          p.line,
          p.col,
          '',
          `"__proto__" is not a key of any ${what.replace(/ file$/, '')} field`,
        );
      }
    },
    Alias(_, node) {
      alias = node;
      return visit.BREAK;
    },
  });
  const found = alias as Node | null;
  if (found && isAlias(found)) {
    const p = pos.offset(found.range?.[0] ?? 0);
    throw new ScenarioError(
      pos.file,
      p.line,
      p.col,
      '',
      `YAML aliases (*${found.source}) are not supported in ${what}s`,
      'write the value out in full where the alias stands, and drop its anchor (&)',
    );
  }
}

/**
 * The plain data of a YAML file that must be one mapping: syntax errors, aliases and `__proto__` keys
 * are refused with their position. `what` names the kind of file in messages.
 */
export function readYaml(pos: Positions, what: string, firstKeys: string): unknown {
  const file = pos.file;
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
  rejectAliases(pos, what);
  let data: unknown;
  try {
    data = pos.doc.toJS();
  } catch (e) {
    throw new ScenarioError(
      file,
      1,
      1,
      '',
      `cannot read the YAML: ${(e as Error).message}`,
      `${what}s use plain mappings, lists and scalars (see ${pos.page})`,
    );
  }
  if (data === null || typeof data !== 'object' || Array.isArray(data)) {
    throw new ScenarioError(file, 1, 1, '', `a ${what} is a YAML mapping`, `start with ${firstKeys}`);
  }
  return data;
}

/** Parses and validates scenario text; throws ScenarioError with file:line:column. */
export function parseScenario(text: string, file: string): LoadedScenario {
  const pos = new Positions(file, text);
  const data = readYaml(pos, 'scenario file', '"name:", "description:", "vm:" and "actors:"');
  const r = scenarioSchema.safeParse(data);
  if (!r.success) throw fromZod(pos, r.error.issues, data);
  semantic(pos, r.data);
  const source = { file, prologue: r.data.prologue.map((_, i) => pos.at(['prologue', i])) };
  return { spec: r.data, explore: r.data.explore, source, file, hash: contentHash(text) };
}

/** Reads and parses a scenario file. */
/** The largest scenario file vgic-lab reads: real scenarios are a few kilobytes. */
export const MAX_FILE_BYTES = 1 << 20;

export function loadScenarioFile(path: string): LoadedScenario {
  const refuse = (
    what: string,
    hint = 'give the path of a .yaml scenario file, or a catalogue name (vgic-lab list scenarios)',
  ) => new ScenarioError(path, 1, 1, '', what, hint);
  let text: string;
  try {
    // Only a regular file is read: a FIFO or a device would block or never end.
    const st = statSync(path);
    if (st.isDirectory()) throw refuse('is a directory, not a scenario file');
    if (!st.isFile()) throw refuse('is not a regular file (a FIFO, a device or a socket), so it is not read');
    if (st.size > MAX_FILE_BYTES)
      throw refuse(
        `is ${st.size.toLocaleString('en-US')} bytes; a scenario file may have at most ${MAX_FILE_BYTES.toLocaleString('en-US')} (1 MiB)`,
        'a scenario is a small VM and a few programs; generate large ones with repeat',
      );
    text = readFileSync(path, 'utf8');
  } catch (e) {
    if (e instanceof ScenarioError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    throw refuse(code === 'ENOENT' ? 'no such file' : `cannot be read (${code})`);
  }
  return parseScenario(text, path);
}
