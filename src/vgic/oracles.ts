import { Wait } from '../explore/ops.ts';
import { peek } from '../kernel/access.ts';
import type { KObj } from '../kernel/mem.ts';
import { KReport, threadInfo } from '../kernel/splat.ts';
import type { Task } from '../kernel/task.ts';
import type { Checkpoints } from './checkpoints.ts';
import { isLpi, pendingOf } from './irq.ts';
import { F, IRQ, ITE, VGIC_IRQ } from './layout.ts';
import type { Vcpu, Vm } from './vm.ts';

/** Whether an oracle states something the guest can observe, or an invariant of KVM's own. */
export type OracleKind = 'architectural' | 'KVM invariant';

export interface OracleDef {
  kind: OracleKind;
  /** The exact rule, as docs/findings.md states it. */
  rule: string;
  /** When it is judged. */
  checked: string;
}

/**
 * The functional oracles: vgic-lab's own checks of guest-visible and KVM behaviour. A failure is
 * reported as `<id>: <what happened>`, never in a kernel format. docs/findings.md describes each; a
 * test keeps the two in step.
 */
export const ORACLES = {
  'P-EOI': {
    kind: 'architectural',
    rule: 'the EOIcount replay deactivates exactly the interrupts the guest deactivated outside the LRs: none that was in an LR, and none is lost',
    checked: 'at the end of every fold, before V4b drops its reference on last_lr_irq',
  },
  'P-ACTIVE': {
    kind: 'architectural',
    rule: 'an SGI, PPI or SPI the guest deactivated (EOI with EOImode 0, or DIR with EOImode 1) and did not acknowledge or activate again is not active',
    checked: 'at the end of the execution',
  },
  'P-LPI-ACK': {
    kind: 'architectural',
    rule: "the guest does not acknowledge an LPI of a redistributor once a write clearing that redistributor's GICR_CTLR.EnableLPIs has completed and happens before the acknowledge",
    checked: 'at every acknowledge of an LPI',
  },
  'P-STATE-WRITE': {
    kind: 'architectural',
    rule: 'a completed guest write to ISACTIVER, ICACTIVER or ICPENDR is not undone by folding an LR that was filled before the write',
    checked: 'at every fold of an LR',
  },
  'P-LPI-QUEUED': {
    kind: 'KVM invariant',
    rule: "once a write clearing GICR_CTLR.EnableLPIs has completed, and while EnableLPIs stays 0, no LPI is on that redistributor's AP list",
    checked: 'when the write completes and at the end of the execution',
  },
  'P-LPI-PENDING': {
    kind: 'KVM invariant',
    rule: 'once a write clearing GICR_CTLR.EnableLPIs has completed, and while EnableLPIs stays 0, no LPI targeting that redistributor is pending while on no AP list',
    checked: 'when the write completes and at the end of the execution',
  },
  'P-HALT': {
    kind: 'KVM invariant',
    rule: 'no vCPU enters the guest while a kvm_arm_halt_guest is in force (it returned and its kvm_arm_resume_guest has not begun)',
    checked: 'at every guest entry',
  },
  'P-REF': {
    kind: 'KVM invariant',
    rule: "every live LPI's refcount equals its holders (ITEs, translation-cache entries, the AP list), never saturates, an LPI with no reference is freed, no holder points to a freed one, and lpi_xa holds every LPI that has references",
    checked: 'at the end of the execution',
  },
  'P-LIST': {
    kind: 'KVM invariant',
    rule: 'a walk of an AP list ends at the list head it started from',
    checked: 'at every step of a walk (fatal: the walk cannot go on)',
  },
  liveness: {
    kind: 'KVM invariant',
    rule: 'a vCPU does not stay asleep in WFI while an enabled, unmasked interrupt is pending on its AP list',
    checked: 'at the end of the execution',
  },
} as const satisfies Record<string, OracleDef>;

export type OracleId = keyof typeof ORACLES;

/**
 * Reports a failed oracle. It has no kernel format: it names the property, its kind and its rule in
 * vgic-lab's words. Oracles read the model without instrumentation, so they never change what the
 * explorer sees.
 */
function oracle(vm: Vm, t: Task | null, id: OracleId, title: string, lines: string[], fatal = false): void {
  const def: OracleDef = ORACLES[id];
  const r = new KReport(
    def.kind === 'architectural' ? 'oracle' : 'invariant',
    `${id}: ${title}`,
    fatal,
    [
      `vgic-lab: functional oracle ${id} failed (${def.kind})`,
      `  rule: ${def.rule}`,
      ...lines.map((l) => `  ${l}`),
    ],
    t ? [threadInfo(t)] : [],
    id,
  );
  // vgic-lab's own check: not printk, so PANIC_ON_WARN does not apply.
  vm.k.exec.report(r);
}

/**
 * P-LIST termination: a walk reached a list head other than the one it started from (V1's overflow tail
 * still points at ap_list_head; an LPI re-queued elsewhere leads into another vCPU's list). The kernel
 * would take container_of of that head as a vgic_irq: the walk cannot go on meaningfully.
 */
export function walkLeftList(t: Task, vm: Vm, started: string, reached: string): never {
  oracle(
    vm,
    t,
    'P-LIST',
    'a list walk left the list it started on',
    [`started on ${started}, reached ${reached}`],
    true,
  );
  throw new Error('unreachable: fatal report returned');
}

function multiset(xs: number[]): string {
  return [...xs].sort((a, b) => a - b).join(',');
}

/**
 * P-EOI after each fold: the EOIcount replay deactivated exactly the IRQs the guest deactivated
 * outside the LRs (no IRQ that was in an LR, none lost).
 */
export function checkPeoi(t: Task, vm: Vm, v: Vcpu): void {
  const g = v.ghost;
  // Only deactivations of interrupts the host held active at entry can be owed by the replay.
  const owed = g.outsideDeactivations.filter((x) => g.activeAtEntry.has(x));
  if (multiset(g.replayed) !== multiset(owed)) {
    const wrong = g.replayed.filter((x) => !owed.includes(x));
    const lost = owed.filter((x) => !g.replayed.includes(x));
    const title =
      wrong.length > 0
        ? 'the EOIcount replay deactivated an IRQ the guest did not'
        : 'a deactivation outside the LRs was lost';
    oracle(vm, t, 'P-EOI', title, [
      `on vCPU ${v.id} after fold:`,
      `guest deactivated outside the LRs (EOIcount): [${owed.join(', ')}]`,
      `EOIcount replay deactivated:                  [${g.replayed.join(', ')}]`,
      ...(wrong.length ? [`wrongly deactivated: ${wrong.join(', ')}`] : []),
      ...(lost.length ? [`never deactivated: ${lost.join(', ')}`] : []),
    ]);
  }
  g.replayed = [];
  g.outsideDeactivations = [];
  g.activeAtEntry = new Set();
}

/**
 * P-LPI-QUEUED and P-LPI-PENDING for a redistributor whose EnableLPIs 1 -> 0 write completed and stays
 * so: judged when the write completes (`t`) and again at the end of the execution (`t` null), since
 * the owner's fold can re-pend an LPI from an LR after the write (upstream later fixed that).
 */
export function checkLpisDisabled(t: Task | null, vm: Vm, v: Vcpu): void {
  const left = v
    .queuedIrqs()
    .map((o) => peek(o, IRQ.intid))
    .filter(isLpi);
  if (left.length > 0) {
    oracle(vm, t, 'P-LPI-QUEUED', 'an LPI is still queued after EnableLPIs was cleared', [
      `vCPU ${v.id}'s AP list still holds LPI ${left.join(', ')} after its GICR_CTLR.EnableLPIs write completed`,
    ]);
  }
  const pending = vm.lpiXa
    .peekEntries()
    .filter(
      ([, o]) =>
        !o.freed &&
        peek(o, IRQ.target) === v &&
        peek(o, IRQ.vcpu) === null &&
        peek(o, IRQ.flags) & F.PENDING_LATCH,
    )
    .map(([id]) => id);
  if (pending.length > 0) {
    oracle(vm, t, 'P-LPI-PENDING', 'an LPI stays pending on no AP list after EnableLPIs was cleared', [
      `LPI ${pending.join(', ')} targeting vCPU ${v.id} is pending on no AP list after its GICR_CTLR.EnableLPIs write completed`,
    ]);
  }
}

/**
 * P-LPI-ACK at an acknowledge of LPI `intid` on `v`: the write that cleared v's EnableLPIs completed
 * and happens before the acknowledge (the task's clock has seen the writer's clock at completion).
 * Without that order the guest could not tell that the write had completed.
 */
export function checkLpiAck(t: Task, vm: Vm, v: Vcpu, intid: number): void {
  const at = v.ghost.lpisDisabledAt;
  if (!isLpi(intid) || !at?.every((c, i) => c <= t.clock(i))) return;
  oracle(vm, t, 'P-LPI-ACK', 'the guest acknowledged an LPI after EnableLPIs was cleared', [
    `vCPU ${v.id} acknowledged LPI ${intid} after a write clearing its GICR_CTLR.EnableLPIs had completed`,
  ]);
}

/**
 * P-STATE-WRITE when the fold applies LR image `lr` of `v` to `irq`: a guest write to ISACTIVER,
 * ICACTIVER or ICPENDR that completed after the LR was filled must not be undone by it.
 */
export function checkStateWrite(t: Task, vm: Vm, v: Vcpu, irq: KObj): void {
  const w = vm.stateWrites.get(irq);
  if (!w || w.seq <= v.ghost.entrySeq) return;
  const f = peek(irq, IRQ.flags);
  const undone =
    (w.reg === 'ICACTIVER' && f & F.ACTIVE) ||
    (w.reg === 'ISACTIVER' && !(f & F.ACTIVE)) ||
    (w.reg === 'ICPENDR' && f & F.PENDING_LATCH);
  if (!undone) return;
  oracle(vm, t, 'P-STATE-WRITE', `the fold undid a completed guest write to ${w.reg}`, [
    `${irq.label}: vCPU ${w.by}'s guest wrote ${w.reg} after vCPU ${v.id}'s LRs were filled; folding those LRs put back the state the write had changed`,
  ]);
  vm.stateWrites.delete(irq);
}

/** P-HALT at a guest entry of `v`. */
export function checkNotHalted(t: Task, vm: Vm, v: Vcpu): void {
  if (vm.haltsInForce === 0) return;
  oracle(vm, t, 'P-HALT', 'a vCPU entered the guest while the VM was halted', [
    `vCPU ${v.id} entered the guest while ${vm.haltsInForce} kvm_arm_halt_guest ${vm.haltsInForce === 1 ? 'was' : 'were'} in force`,
  ]);
}

function label(o: KObj): string {
  return `${o.label} (${o.addr.toString(16)})`;
}

/** End of an execution: P-ACTIVE, the LPI oracles, P-REF, liveness. */
export function endChecks(vm: Vm): void {
  // A vCPU is idle when its thread ended the execution waiting in WFI.
  for (const v of vm.vcpus) {
    const th = v.task.thread;
    v.idle = !!th && !th.done && th.next instanceof Wait && th.next.idle;
  }
  for (const key of [...vm.guestDeactivated].sort()) {
    const [vid, intid] = key.split(':').map(Number);
    const o = intid < 32 ? vm.vcpus[vid]?.privateIrq(intid) : vm.spis[intid - 32];
    if (o && peek(o, IRQ.flags) & F.ACTIVE) {
      oracle(vm, null, 'P-ACTIVE', 'an interrupt stays active after the guest deactivated it', [
        `INTID ${intid}${intid < 32 ? ` of vCPU ${vid}` : ''} was deactivated by the guest (EOI with EOImode 0, or DIR) and is still active at the end`,
      ]);
    }
  }
  for (const v of vm.vcpus) if (v.ghost.lpisDisabledAt) checkLpisDisabled(null, vm, v);
  // P-REF: every live LPI's refcount equals the references KVM accounts for.
  const iteRefs = new Map<KObj, number>();
  if (vm.its) {
    for (const dev of vm.its.devices.values()) {
      for (const ite of dev.values()) {
        const irq = peek(ite.obj, ITE.irq);
        iteRefs.set(irq, (iteRefs.get(irq) ?? 0) + 1);
      }
    }
    for (const [, o] of vm.its.cache.peekEntries()) iteRefs.set(o, (iteRefs.get(o) ?? 0) + 1);
  }
  // A holder of a freed LPI: its reference was dropped twice (the object itself is no longer checked).
  for (const o of [...iteRefs.keys()].filter((x) => x.freed)) {
    oracle(vm, null, 'P-REF', 'an ITE or translation-cache entry points to a freed LPI', [
      `${label(o)} was freed while ${iteRefs.get(o)} ITE or cache reference${iteRefs.get(o) === 1 ? '' : 's'} to it remained`,
    ]);
  }
  const inXa = new Set(vm.lpiXa.peekEntries().map(([, o]) => o));
  for (const o of vm.k.objects) {
    if (o.type !== VGIC_IRQ || !o.slab || o.freed) continue;
    const count = peek(o, IRQ.refcount);
    const expected = (iteRefs.get(o) ?? 0) + (peek(o, IRQ.vcpu) ? 1 : 0);
    if (count < 0) {
      oracle(vm, null, 'P-REF', 'an LPI refcount saturated (the object leaks)', [
        `${label(o)}: refcount ${count}`,
      ]);
    } else if (count !== expected) {
      oracle(vm, null, 'P-REF', 'an LPI refcount does not match its holders', [
        `${label(o)}: refcount ${count}, holders ${expected} (ITEs and cache entries ${iteRefs.get(o) ?? 0}, AP list ${peek(o, IRQ.vcpu) ? 1 : 0})`,
      ]);
    } else if (count === 0) {
      oracle(vm, null, 'P-REF', 'an LPI with no reference was never freed', [`${label(o)} leaks`]);
    } else if (!inXa.has(o)) {
      oracle(vm, null, 'P-REF', 'a live LPI is missing from lpi_xa', [
        `${label(o)} has ${count} reference${count === 1 ? '' : 's'} but lpi_xa does not hold it: vgic_get_lpi no longer finds its INTID`,
      ]);
    }
  }
  // Liveness: a vCPU left sleeping in WFI must have nothing deliverable.
  for (const v of vm.vcpus) {
    if (!v.idle) continue;
    const pmr = v.cpuif.vmcr.pmr;
    for (const o of v.queuedIrqs()) {
      const f = peek(o, IRQ.flags);
      if (pendingOf(f) && f & F.ENABLED && !(f & F.ACTIVE) && peek(o, IRQ.priority) < pmr) {
        oracle(vm, null, 'liveness', 'a vCPU sleeps in WFI with a deliverable interrupt', [
          `vCPU ${v.id} is blocked in WFI while ${o.label} is pending, enabled and unmasked on its AP list`,
        ]);
        break;
      }
    }
  }
}

/** The oracles at the model's checkpoints: what every world runs with. */
export const ORACLE_CHECKPOINTS: Checkpoints = {
  lrFolded: checkStateWrite,
  foldDone: checkPeoi,
  walkLeftList,
  lpisDisabled: checkLpisDisabled,
  guestAck: checkLpiAck,
  guestEntry: checkNotHalted,
  executionEnd: endChecks,
};
