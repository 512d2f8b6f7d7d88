import { peek, poke, rd, readOnce, wr, writeOnce } from './access.ts';
import { bug, warn } from './bug.ts';
import {
  BadPtr,
  type Field,
  type FieldSpec,
  hex,
  type KObj,
  LIST_POISON1,
  LIST_POISON2,
  NULL_PTR,
  type StructType,
} from './mem.ts';
import { defineFn, type Fn, type Frame, type StepOf, withFrame } from './stack.ts';
import type { Task } from './task.ts';

/** An embedded `struct list_head`: the fields `<name>.next` and `<name>.prev` of its object. */
export class ListHead {
  constructor(
    readonly obj: KObj,
    readonly name: string,
    readonly next: Field<ListPtr>,
    readonly prev: Field<ListPtr>,
  ) {}

  get addr(): bigint {
    return this.obj.addr + BigInt(this.next.off);
  }
}

/** A list pointer as read from memory: a list head, or a poison/NULL value. */
export type ListPtr = ListHead | BadPtr;

/** Field specs of an embedded list_head (16 bytes). */
export function listFields(name: string, off?: number): FieldSpec[] {
  return [
    { name: `${name}.next`, off },
    { name: `${name}.prev`, off: off === undefined ? undefined : off + 8 },
  ];
}

const headsOf = new WeakMap<KObj, Map<string, ListHead>>();

/** The list_head `name` embedded in `obj`. */
export function head(obj: KObj, name: string): ListHead {
  let m = headsOf.get(obj);
  if (!m) headsOf.set(obj, (m = new Map()));
  let h = m.get(name);
  if (!h) {
    h = new ListHead(
      obj,
      name,
      obj.type.field<ListPtr>(`${name}.next`),
      obj.type.field<ListPtr>(`${name}.prev`),
    );
    m.set(name, h);
  }
  return h;
}

/** INIT_LIST_HEAD at build time (no instrumentation: the object is not yet shared). */
export function initListHead(h: ListHead): void {
  poke(h.obj, h.next, h);
  poke(h.obj, h.prev, h);
}

/** Longer than any list a scenario builds: a chain this long has a cycle that misses its head. */
const PEEK_LIMIT = 1000;

/**
 * The objects on list `h` whose embedded head is `member`, following the stored `next` links without
 * instrumentation (for oracles and state dumps, which must not add footprint). `broken` says where the
 * chain left the list instead of returning to `h`: a poisoned or NULL link, a head of another member,
 * or no end at all.
 */
export function peekEntries(h: ListHead, member: string): { entries: KObj[]; broken: string | null } {
  const entries: KObj[] = [];
  let pos = peek(h.obj, h.next);
  while (pos !== h) {
    if (pos instanceof BadPtr) return { entries, broken: `next link is ${hex(pos.addr)}` };
    if (pos.name !== member) return { entries, broken: `next link reaches ${pos.obj.label}.${pos.name}` };
    if (entries.length === PEEK_LIMIT) return { entries, broken: 'the list does not close' };
    entries.push(pos.obj);
    pos = peek(pos.obj, pos.next);
  }
  return { entries, broken: null };
}

/** container_of(ptr, type, member): the object, or the bad address that container_of arithmetic yields
 * from a poison or NULL value (`ptr - offsetof(type, member)`). */
export function listEntry(p: ListPtr, type: StructType, member: string): KObj | BadPtr {
  if (p instanceof BadPtr) return p.offset(-type.field(`${member}.next`).off);
  if (p.name !== member) throw new Error(`list_entry: head ${p.name} is not member ${member}`);
  return p.obj;
}

function nextOf(t: Task, h: ListPtr): ListPtr {
  if (h instanceof BadPtr) return rd(t, h, NEXT_AT0);
  return rd(t, h.obj, h.next);
}

function prevOf(t: Task, h: ListPtr): ListPtr {
  if (h instanceof BadPtr) return rd(t, h, PREV_AT8);
  return rd(t, h.obj, h.prev);
}

function setNext(t: Task, h: ListPtr, v: ListPtr, once = false): void {
  if (h instanceof BadPtr) wr(t, h, NEXT_AT0, v);
  else if (once) writeOnce(t, h.obj, h.next, v);
  else wr(t, h.obj, h.next, v);
}

function setPrev(t: Task, h: ListPtr, v: ListPtr): void {
  if (h instanceof BadPtr) wr(t, h, PREV_AT8, v);
  else wr(t, h.obj, h.prev, v);
}

// Offsets used when a list pointer is itself bad: next at +0, prev at +8 of the list_head.
const NEXT_AT0: Field<ListPtr> = { name: 'next', off: 0, size: 8, index: 0, racy: false };
const PREV_AT8: Field<ListPtr> = { name: 'prev', off: 8, size: 8, index: 1, racy: false };

function addr(p: ListPtr): bigint {
  return p.addr;
}

const DEL_CHECK = defineFn({
  name: '__list_del_entry_valid_or_report',
  file: 'lib/list_debug.c',
  steps: ['next_null', 'prev_null', 'next_poison', 'prev_poison', 'prev_next', 'next_prev'],
  lines: { next_null: 52, prev_null: 53, next_poison: 56, prev_poison: 59, prev_next: 62, next_prev: 65 },
});
type DelCheck = StepOf<typeof DEL_CHECK>;
const ADD_CHECK = defineFn({
  name: '__list_add_valid_or_report',
  file: 'lib/list_debug.c',
  steps: ['prev_null', 'next_null', 'next_prev', 'prev_next', 'double_add'],
  lines: { prev_null: 27, next_null: 29, next_prev: 32, prev_next: 35, double_add: 38 },
});
type AddCheck = StepOf<typeof ADD_CHECK>;

/** mem_dump_obj of the object a failing check names; a slab object's size is its cache's, as KASAN's. */
function dumpObj(p: ListPtr | null): string[] {
  if (!p) return [];
  if (p instanceof BadPtr) return [' non-paged memory'];
  const o = p.obj;
  if (!o.slab) return [' non-slab/vmalloc memory'];
  return [` slab ${o.type.cache} start ${hex(o.addr)} pointer offset ${p.addr - o.addr} size ${o.size}`];
}

/** CHECK_DATA_CORRUPTION: report, and tell the caller to skip the operation. */
function corruption<S extends string>(
  t: Task,
  checker: Fn<S>,
  step: S,
  kind: string,
  message: string,
  obj: ListPtr | null,
): false {
  const caller = t.stack ? t.stack.fn.name : '??';
  const at: Frame = withFrame(t.stack, checker, step);
  const title = `${kind} in ${caller}`;
  if (t.k.switches.BUG_ON_DATA_CORRUPTION) {
    t.stack = at;
    bug(t, at);
  }
  warn(t, { at, message, before: dumpObj(obj), checker: 'list', title });
  return false;
}

function delCorrupt(t: Task, step: DelCheck, message: string, obj: ListPtr | null = null): false {
  return corruption(t, DEL_CHECK, step, 'list_del corruption', message, obj);
}

function addCorrupt(t: Task, step: AddCheck, message: string, obj: ListPtr | null = null): false {
  return corruption(t, ADD_CHECK, step, 'list_add corruption', message, obj);
}

function delValid(t: Task, e: ListHead): boolean {
  const level = t.k.switches.LIST_CHECKS;
  if (level === 'none') return true;
  const next = nextOf(t, e);
  const prev = prevOf(t, e);
  if (level === 'hardened') {
    // The inline check dereferences both neighbours first: poison faults here.
    if (
      prev instanceof ListHead &&
      next instanceof ListHead &&
      nextOf(t, prev) === e &&
      prevOf(t, next) === e
    ) {
      return true;
    }
    nextOf(t, prev);
    prevOf(t, next);
  }
  const a = hex(e.addr);
  if (next === NULL_PTR) return delCorrupt(t, 'next_null', `list_del corruption, ${a}->next is NULL`);
  if (prev === NULL_PTR) return delCorrupt(t, 'prev_null', `list_del corruption, ${a}->prev is NULL`);
  if (next === LIST_POISON1) {
    const m = `list_del corruption, ${a}->next is LIST_POISON1 (${hex(LIST_POISON1.addr)})`;
    return delCorrupt(t, 'next_poison', m, next);
  }
  if (prev === LIST_POISON2) {
    const m = `list_del corruption, ${a}->prev is LIST_POISON2 (${hex(LIST_POISON2.addr)})`;
    return delCorrupt(t, 'prev_poison', m, prev);
  }
  const pn = nextOf(t, prev);
  if (pn !== e) {
    const m = `list_del corruption. prev->next should be ${a}, but was ${hex(addr(pn))}. (prev=${hex(addr(prev))})`;
    return delCorrupt(t, 'prev_next', m, prev);
  }
  const np = prevOf(t, next);
  if (np !== e) {
    const m = `list_del corruption. next->prev should be ${a}, but was ${hex(addr(np))}. (next=${hex(addr(next))})`;
    return delCorrupt(t, 'next_prev', m, next);
  }
  return true;
}

function addValid(t: Task, n: ListHead, prev: ListPtr, next: ListPtr): boolean {
  const level = t.k.switches.LIST_CHECKS;
  if (level === 'none') return true;
  if (level === 'hardened') {
    if (prevOf(t, next) === prev && nextOf(t, prev) === next && n !== prev && n !== next) return true;
  }
  if (prev === NULL_PTR) return addCorrupt(t, 'prev_null', 'list_add corruption. prev is NULL.');
  if (next === NULL_PTR) return addCorrupt(t, 'next_null', 'list_add corruption. next is NULL.');
  const np = prevOf(t, next);
  if (np !== prev) {
    const m = `list_add corruption. next->prev should be prev (${hex(addr(prev))}), but was ${hex(addr(np))}. (next=${hex(addr(next))}).`;
    return addCorrupt(t, 'next_prev', m, next);
  }
  const pn = nextOf(t, prev);
  if (pn !== next) {
    const m = `list_add corruption. prev->next should be next (${hex(addr(next))}), but was ${hex(addr(pn))}. (prev=${hex(addr(prev))}).`;
    return addCorrupt(t, 'prev_next', m, prev);
  }
  if (n === prev || n === next) {
    const m = `list_add double add: new=${hex(n.addr)}, prev=${hex(addr(prev))}, next=${hex(addr(next))}.`;
    return corruption(t, ADD_CHECK, 'double_add', 'list_add double add', m, null);
  }
  return true;
}

function linkBetween(t: Task, n: ListHead, prev: ListPtr, next: ListPtr): void {
  if (!addValid(t, n, prev, next)) return;
  setPrev(t, next, n);
  setNext(t, n, next);
  setPrev(t, n, prev);
  setNext(t, prev, n, true);
}

function noteList(t: Task, op: string, e: ListHead): void {
  if (t.k.exec.recording) t.k.exec.note(`${op}(${e.obj.label}.${e.name})`);
}

export function list_add(t: Task, n: ListHead, h: ListHead): void {
  noteList(t, 'list_add', n);
  linkBetween(t, n, h, nextOf(t, h));
}

export function list_add_tail(t: Task, n: ListHead, h: ListHead): void {
  noteList(t, 'list_add_tail', n);
  linkBetween(t, n, prevOf(t, h), h);
}

function unlink(t: Task, e: ListHead): boolean {
  if (!delValid(t, e)) return false;
  const next = nextOf(t, e);
  const prev = prevOf(t, e);
  setPrev(t, next, prev);
  setNext(t, prev, next, true);
  return true;
}

/** list_del: unlink and poison both links (LIST_POISON1/2). */
export function list_del(t: Task, e: ListHead): void {
  noteList(t, 'list_del', e);
  if (!unlink(t, e)) return;
  setNext(t, e, LIST_POISON1);
  setPrev(t, e, LIST_POISON2);
}

/** list_del_init: unlink and point the entry at itself. */
export function list_del_init(t: Task, e: ListHead): void {
  noteList(t, 'list_del_init', e);
  if (!unlink(t, e)) return;
  setNext(t, e, e, true);
  setPrev(t, e, e);
}

/** list_del_rcu: unlink and poison only `prev`; `next` stays valid for RCU readers. */
export function list_del_rcu(t: Task, e: ListHead): void {
  noteList(t, 'list_del_rcu', e);
  if (!unlink(t, e)) return;
  setPrev(t, e, LIST_POISON2);
}

export function list_empty(t: Task, h: ListHead): boolean {
  return readOnce(t, h.obj, h.next) === h;
}

/** One pointer load of a walk: `pos->next` (a lockless walk yields between these). */
export function list_next(t: Task, pos: ListPtr): ListPtr {
  return nextOf(t, pos);
}

/** READ_ONCE(pos->next), as RCU list walks read it. */
export function list_next_once(t: Task, pos: ListPtr): ListPtr {
  if (pos instanceof BadPtr) return readOnce(t, pos, NEXT_AT0);
  return readOnce(t, pos.obj, pos.next);
}

/** The entries of a list in order, reading every link (list_for_each_entry under the list's lock). */
export function list_entries(t: Task, h: ListHead): ListPtr[] {
  const out: ListPtr[] = [];
  for (let pos = nextOf(t, h); pos !== h; pos = nextOf(t, pos)) {
    out.push(pos);
    if (pos instanceof BadPtr) break;
    if (out.length > 100_000) throw new Error('list_entries: list does not close');
  }
  return out;
}

/** list_for_each_entry_continue: the entries after `pos` up to the head. */
export function list_entries_after(t: Task, pos: ListPtr, h: ListHead): ListPtr[] {
  const out: ListPtr[] = [];
  for (let p = nextOf(t, pos); p !== h; p = nextOf(t, p)) {
    out.push(p);
    if (p instanceof BadPtr) break;
    if (out.length > 100_000) throw new Error('list_entries_after: list does not close');
  }
  return out;
}

/** list_cut_position(list, head, entry): move head's first entries up to `entry` onto the empty `list`. */
export function list_cut_position(t: Task, list: ListHead, h: ListHead, entry: ListHead): void {
  if (list_empty(t, h)) return;
  const first = nextOf(t, h);
  // list_is_singular(head) with an entry that is neither the head nor its element: nothing to do.
  if (first === prevOf(t, h) && first !== entry && entry !== h) return;
  if (entry === h) {
    setNext(t, list, list);
    setPrev(t, list, list);
    return;
  }
  const after = nextOf(t, entry);
  setNext(t, list, first);
  setPrev(t, first, list);
  setPrev(t, list, entry);
  setNext(t, entry, list);
  setNext(t, h, after);
  setPrev(t, after, h);
}

/** list_splice_tail_init(list, head): append list's entries to head and reinitialise list. */
export function list_splice_tail_init(t: Task, list: ListHead, h: ListHead): void {
  if (list_empty(t, list)) return;
  const first = nextOf(t, list);
  const last = prevOf(t, list);
  const at = prevOf(t, h);
  setPrev(t, first, at);
  setNext(t, at, first);
  setNext(t, last, h);
  setPrev(t, h, last);
  setNext(t, list, list);
  setPrev(t, list, list);
}

/** Rewrites every link of the list `h` to hold `order` (what list_sort does after comparing). */
export function relinkList(t: Task, h: ListHead, order: readonly ListHead[]): void {
  let prev: ListHead = h;
  for (const e of order) {
    setNext(t, prev, e);
    setPrev(t, e, prev);
    prev = e;
  }
  setNext(t, prev, h);
  setPrev(t, h, prev);
}

/** list_sort: a stable sort by `cmp` (kernel list_sort is a stable merge sort), relinking every entry. */
export function list_sort(t: Task, h: ListHead, cmp: (a: ListHead, b: ListHead) => number): void {
  const items = list_entries(t, h).filter((p): p is ListHead => p instanceof ListHead);
  const sorted = items
    .map((x, i) => ({ x, i }))
    .sort((a, b) => cmp(a.x, b.x) || a.i - b.i)
    .map((e) => e.x);
  relinkList(t, h, sorted);
}
