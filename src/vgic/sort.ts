import { rd } from '../kernel/access.ts';
import { kernelFn } from '../kernel/function.ts';
import { head, list_entries, listEntry, relinkList } from '../kernel/list.ts';
import {
  lockdep_assert_held,
  raw_spin_lock,
  raw_spin_lock_nested,
  raw_spin_unlock,
} from '../kernel/locks.ts';
import type { KObj } from '../kernel/mem.ts';
import type { Task } from '../kernel/task.ts';
import { flagsOf, type Gen, intidOf, irqLock, pendingOf, vgic_target_oracle } from './irq.ts';
import { F, IRQ, VGIC_IRQ } from './layout.ts';
import type { Vcpu, Vm } from './vm.ts';

const FILE = 'arch/arm64/kvm/vgic/vgic.c';

/** The AP-list summary of one flush: what decides the LRs' use and the maintenance interrupts. */
export interface ApListSummary {
  nrPend: number;
  nrAct: number;
  nrSgi: number;
}

export function irqsOutsideLrs(s: ApListSummary, nrLr: number): boolean {
  return s.nrPend + s.nrAct > nrLr;
}

export function irqsPendingOutsideLrs(s: ApListSummary, nrLr: number): boolean {
  return s.nrPend > nrLr;
}

export function irqsActiveOutsideLrs(s: ApListSummary, nrLr: number): boolean {
  return s.nrAct > 0 && irqsOutsideLrs(s, nrLr);
}

/** summarize_ap_list, under ap_list_lock: one irq_lock at a time. */
export const summarize_ap_list = kernelFn(
  { name: 'summarize_ap_list', file: FILE, steps: ['lock', 'count'] },
  function* (t, vm: Vm, v: Vcpu): Gen<ApListSummary> {
    lockdep_assert_held(t, v.apLock);
    const s: ApListSummary = { nrPend: 0, nrAct: 0, nrSgi: 0 };
    for (const pos of list_entries(t, v.apHead)) {
      const irq = listEntry(pos, VGIC_IRQ, 'ap_list') as KObj;
      t.at('lock');
      yield raw_spin_lock(t, irqLock(t, irq));
      t.at('count');
      if (vgic_target_oracle(t, vm, irq) === v) {
        if (flagsOf(t, irq) & F.ACTIVE) s.nrAct++;
        else s.nrPend++;
        if (intidOf(t, irq) < 16) s.nrSgi++;
      }
      raw_spin_unlock(t, irqLock(t, irq));
    }
    return s;
  },
);

/**
 * The reworked comparator's keys of one IRQ, packed so that one subtraction compares them in order:
 * deliverable, group enabled, pending-only, priority, HW. Read under its irq_lock.
 */
function sortKey(t: Task, vm: Vm, v: Vcpu, irq: KObj, grpEnabled: [boolean, boolean]): number {
  const f = flagsOf(t, irq);
  const deliverable = vgic_target_oracle(t, vm, irq) === v;
  const group = rd(t, irq, IRQ.group) as 0 | 1;
  const pendingOnly = (f & F.ENABLED) !== 0 && pendingOf(f) && (f & F.ACTIVE) === 0;
  const prio = rd(t, irq, IRQ.priority);
  return (
    (deliverable ? 0 : 1 << 11) |
    (grpEnabled[group] ? 0 : 1 << 10) |
    (pendingOnly ? 0 : 1 << 9) |
    (prio << 1) |
    (f & F.HW ? 0 : 1)
  );
}

/**
 * The comparator before the rework (V0): an active IRQ sorts before an inactive one and two active
 * ones keep their order; priority decides only between two enabled pending IRQs.
 */
function cmpBeforeRework(t: Task, a: KObj, b: KObj): number {
  const fa = flagsOf(t, a);
  const fb = flagsOf(t, b);
  if ((fa | fb) & F.ACTIVE) return (fb & F.ACTIVE ? 1 : 0) - (fa & F.ACTIVE ? 1 : 0);
  const penda = (fa & F.ENABLED) !== 0 && pendingOf(fa);
  const pendb = (fb & F.ENABLED) !== 0 && pendingOf(fb);
  if (!penda || !pendb) return (pendb ? 1 : 0) - (penda ? 1 : 0);
  return rd(t, a, IRQ.priority) - rd(t, b, IRQ.priority);
}

/** vgic_irq_cmp: locks a, then b (nested), and compares them. */
const vgic_irq_cmp = kernelFn(
  { name: 'vgic_irq_cmp', file: FILE, steps: ['lock_b', 'compare'] },
  function* (t, vm: Vm, v: Vcpu, a: KObj, b: KObj, grp: [boolean, boolean]): Gen<number> {
    if (a === b) return 0;
    yield raw_spin_lock(t, irqLock(t, a));
    t.at('lock_b');
    yield raw_spin_lock_nested(t, irqLock(t, b), 1);
    t.at('compare');
    const r = vm.design.lrOverflow
      ? sortKey(t, vm, v, a, grp) - sortKey(t, vm, v, b, grp)
      : cmpBeforeRework(t, a, b);
    raw_spin_unlock(t, irqLock(t, b));
    raw_spin_unlock(t, irqLock(t, a));
    return r;
  },
);

function* mergeSort(items: KObj[], cmp: (a: KObj, b: KObj) => Gen<number>): Gen<KObj[]> {
  if (items.length <= 1) return items;
  const mid = items.length >> 1;
  const a = yield* mergeSort(items.slice(0, mid), cmp);
  const b = yield* mergeSort(items.slice(mid), cmp);
  const out: KObj[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    if ((yield* cmp(a[i], b[j])) <= 0) out.push(a[i++]);
    else out.push(b[j++]);
  }
  while (i < a.length) out.push(a[i++]);
  while (j < b.length) out.push(b[j++]);
  return out;
}

/** vgic_sort_ap_list: a stable merge sort that rewrites every link (list_sort), under ap_list_lock. */
export const vgic_sort_ap_list = kernelFn(
  {
    name: 'vgic_sort_ap_list',
    file: FILE,
    steps: ['assert_held', 'list_sort', 'relink'],
    lines: { assert_held: 330 },
  },
  function* (t, vm: Vm, v: Vcpu): Gen {
    t.at('assert_held');
    lockdep_assert_held(t, v.apLock);
    // The VMCR snapshot is taken once, before sorting (vgic_get_vmcr).
    const grp: [boolean, boolean] = [v.cpuif.vmcr.eng0, v.cpuif.vmcr.eng1];
    const items = list_entries(t, v.apHead).map((p) => listEntry(p, VGIC_IRQ, 'ap_list') as KObj);
    t.at('list_sort');
    const sorted = yield* mergeSort(items, (a, b) => vgic_irq_cmp(t, vm, v, a, b, grp));
    t.at('relink');
    relinkList(
      t,
      v.apHead,
      sorted.map((o) => head(o, 'ap_list')),
    );
  },
);
