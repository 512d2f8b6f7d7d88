import { misrNames } from '../gic/cpuif.ts';
import { gichLr } from '../gic/gich.ts';
import { describeLr } from '../gic/lr.ts';
import { peek } from '../kernel/access.ts';
import { type ListHead, peekEntries } from '../kernel/list.ts';
import type { KObj } from '../kernel/mem.ts';
import { F, IRQ, MODE_NAMES, VCPU, VGIC_IRQ } from './layout.ts';
import type { Vm } from './vm.ts';

/** The state that matters at a failing step: AP lists, LRs, EOIcount, refcounts. */
export interface StateDump {
  /** The VM's GIC: 2 (GICH_* registers) or 3 (ICH_*_EL2). */
  gic: 2 | 3;
  vcpus: {
    id: number;
    mode: string;
    apList: string[];
    /** Set when the walk of the AP list hit a poisoned or freed link. */
    apListBroken: string | null;
    /** V1: the list of queued IRQs left outside the LRs at the last entry. */
    overflowList?: { entries: string[]; broken: string | null };
    lrs: string[];
    usedLrs: number;
    eoicount: number;
    /** ICH_HCR_EL2, or GICH_HCR on a GICv2 host. */
    hcr: string;
    lastLrIrq: string | null;
  }[];
  lpis: string[];
}

/** An IRQ as state dumps show it; a GICv2 VM's SGI with its pending sources and active source. */
export function describeIrq(o: KObj, gicv2 = false): string {
  const f = peek(o, IRQ.flags);
  const bits = [
    f & F.PENDING_LATCH ? 'pending' : '',
    f & F.LINE_LEVEL ? 'line' : '',
    f & F.ACTIVE ? 'active' : '',
    f & F.ENABLED ? '' : 'disabled',
    f & F.ON_LR ? 'on_lr' : '',
    f & F.PENDING_RELEASE ? 'pending_release' : '',
  ].filter(Boolean);
  const v = peek(o, IRQ.vcpu);
  const tgt = peek(o, IRQ.target);
  const ref = o.slab ? ` ref=${peek(o, IRQ.refcount)}` : '';
  let sgi = '';
  if (gicv2 && peek(o, IRQ.intid) < 16) {
    const src = peek(o, IRQ.source);
    const from = [0, 1, 2, 3, 4, 5, 6, 7].filter((c) => src & (1 << c));
    sgi = ` sources=${from.join(',') || '-'}${f & F.ACTIVE ? ` active_source=${peek(o, IRQ.activeSource)}` : ''}`;
  }
  return `${o.label} prio=0x${peek(o, IRQ.priority).toString(16)} ${bits.join(',') || 'idle'} vcpu=${v ? v.id : '-'} target=${tgt ? tgt.id : '-'}${sgi}${ref}${o.freed ? ' FREED' : ''}`;
}

/** What makes an interrupt worth a line at the end of a run: pending (latch or line), active, being released. */
const NOT_IDLE = F.PENDING_LATCH | F.LINE_LEVEL | F.ACTIVE | F.PENDING_RELEASE;

/**
 * The interrupts left in a state worth showing when an execution ends: SPIs and private interrupts
 * that are pending, active or being released, each with its description, and every LPI still allocated.
 */
export function interruptsNotIdle(vm: Vm): string[] {
  const out: string[] = [];
  for (const o of vm.spis) if (peek(o, IRQ.flags) & NOT_IDLE) out.push(describeIrq(o));
  for (const v of vm.vcpus)
    for (const o of v.madePrivateIrqs())
      if (peek(o, IRQ.flags) & NOT_IDLE) out.push(`vCPU ${v.id} ${describeIrq(o, vm.config.gic === 2)}`);
  for (const o of vm.k.objects) if (o.type === VGIC_IRQ && o.slab) out.push(describeIrq(o));
  return out;
}

function walk(h: ListHead, gicv2: boolean): { entries: string[]; broken: string | null } {
  const { entries, broken } = peekEntries(h, 'ap_list');
  return { entries: entries.map((o) => describeIrq(o, gicv2)), broken };
}

export function dumpState(vm: Vm): StateDump {
  const v2 = vm.config.gic === 2;
  return {
    gic: vm.config.gic,
    vcpus: vm.vcpus.map((v) => {
      const { entries, broken } = walk(v.apHead, v2);
      const running = peek(v.obj, VCPU.mode) !== 0;
      const lrs = (running ? v.cpuif.lrs : v.lrShadow).slice(0, Math.max(v.usedLrs, 0) || vm.config.nrLr);
      const last = vm.lastLrIrq[v.id];
      return {
        id: v.id,
        mode: MODE_NAMES[peek(v.obj, VCPU.mode)] ?? '?',
        apList: entries,
        apListBroken: broken,
        ...(v.overflowHead ? { overflowList: walk(v.overflowHead, v2) } : {}),
        lrs: lrs.map((lr, i) =>
          v2
            ? `LR${i}: 0x${gichLr(lr).toString(16).padStart(8, '0')} ${describeLr(lr, true)}`
            : `LR${i}: ${describeLr(lr)}`,
        ),
        usedLrs: v.usedLrs,
        eoicount: running ? v.cpuif.eoicount : v.eoicountShadow,
        hcr: `0x${v.hcrShadow.toString(16)}${v.cpuif.maintenance() ? ` MI asserted (${misrNames(v.cpuif.misr()).join(',')})` : ''}`,
        lastLrIrq: last
          ? `${last.label}${last.freed ? ' (FREED)' : ''}${vm.lastLrPinned[v.id] ? ' (holds a reference)' : ' (no reference)'}`
          : null,
      };
    }),
    lpis: vm.k.objects.filter((o) => o.type === VGIC_IRQ && o.slab).map((o) => describeIrq(o)),
  };
}

/** The dump as text lines for the kernel-style report. */
export function stateLines(s: StateDump): string[] {
  const out: string[] = [];
  for (const v of s.vcpus) {
    out.push(
      `vCPU ${v.id}: ${v.mode}, used_lrs=${v.usedLrs}, EOIcount=${v.eoicount}, ${s.gic === 2 ? 'GICH_HCR' : 'ICH_HCR_EL2'}=${v.hcr}, last_lr_irq=${v.lastLrIrq ?? 'NULL'}`,
    );
    out.push(`  AP list:${v.apList.length === 0 && !v.apListBroken ? ' (empty)' : ''}`);
    for (const e of v.apList) out.push(`    ${e}`);
    if (v.apListBroken) out.push(`    !! ${v.apListBroken}`);
    if (v.overflowList) {
      const { entries, broken } = v.overflowList;
      out.push(`  overflow list:${entries.length === 0 && !broken ? ' (empty)' : ''}`);
      for (const e of entries) out.push(`    ${e}`);
      if (broken) out.push(`    !! ${broken}`);
    }
    out.push(s.gic === 2 ? `  GICH_LRs: ${v.lrs.join('; ')}` : `  LRs: ${v.lrs.join('; ')}`);
  }
  if (s.lpis.length > 0) {
    out.push('LPIs:');
    for (const l of s.lpis) out.push(`  ${l}`);
  }
  return out;
}
