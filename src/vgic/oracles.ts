import { peek } from '../kernel/access.ts';
import type { KObj } from '../kernel/mem.ts';
import { emit, KReport, threadInfo } from '../kernel/splat.ts';
import type { Task } from '../kernel/task.ts';
import { pendingOf } from './irq.ts';
import { F, IRQ, ITS_ITE, VGIC_IRQ } from './layout.ts';
import type { Vcpu, Vm } from './vm.ts';

/**
 * Functional oracles (vgic-host.md §5, DESIGN.md §6). They have no kernel report format; they print a
 * model report that names the property. Checked with uninstrumented reads, so they never change what
 * the explorer sees.
 */
function oracle(
  vm: Vm,
  t: Task | null,
  property: string,
  title: string,
  lines: string[],
  fatal = false,
): void {
  const head = `vgic-lab: functional oracle ${property} failed`;
  const r = new KReport(
    'oracle',
    `${property}: ${title}`,
    fatal,
    [head, ...lines.map((l) => `  ${l}`)],
    t ? [threadInfo(t)] : [],
    property,
  );
  emit(vm.k, r);
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

/** P-ARCH after an EnableLPIs 1 -> 0 write completes: no LPI of that redistributor is queued or pending. */
export function checkLpisFlushed(t: Task, vm: Vm, v: Vcpu): void {
  const left = v
    .queuedIrqs()
    .map((o) => peek<number>(o, IRQ.intid))
    .filter((id) => id >= 8192);
  if (left.length > 0) {
    oracle(vm, t, 'P-ARCH', 'an LPI is still queued after EnableLPIs was cleared', [
      `vCPU ${v.id}'s AP list still holds LPI ${left.join(', ')} after its GICR_CTLR.EnableLPIs write completed`,
    ]);
  }
  const pending = vm.lpiXa
    .peekEntries()
    .filter(([, o]) => !o.freed && peek(o, IRQ.target) === v && peek<number>(o, IRQ.flags) & F.PENDING_LATCH)
    .map(([id]) => id);
  if (pending.length > 0) {
    oracle(vm, t, 'P-ARCH', 'an LPI is still pending after EnableLPIs was cleared', [
      `LPI ${pending.join(', ')} targeting vCPU ${v.id} still pending after its GICR_CTLR.EnableLPIs write completed`,
    ]);
  }
}

function label(o: KObj): string {
  return `${o.label} (${o.addr.toString(16)})`;
}

/** End of an execution: active-after-deactivation, LPI reference balance and leaks, liveness. */
export function endChecks(vm: Vm): void {
  for (const key of [...vm.guestDeactivated].sort()) {
    const [vid, intid] = key.split(':').map(Number);
    const o = intid < 32 ? vm.vcpus[vid]?.privateIrqs[intid] : vm.spis[intid - 32];
    if (o && peek<number>(o, IRQ.flags) & F.ACTIVE) {
      oracle(vm, null, 'P-ARCH', 'an interrupt stays active after the guest deactivated it', [
        `INTID ${intid}${intid < 32 ? ` of vCPU ${vid}` : ''} was deactivated by the guest (EOI with EOImode 0, or DIR) and is still active at the end`,
      ]);
    }
  }
  // P-REF: every live LPI's refcount equals the references §2.5 accounts for.
  const iteRefs = new Map<KObj, number>();
  if (vm.its) {
    for (const dev of vm.its.devices.values()) {
      for (const ite of dev.values()) {
        const irq = peek<KObj>(ite.obj, ITS_ITE.field('irq'));
        iteRefs.set(irq, (iteRefs.get(irq) ?? 0) + 1);
      }
    }
    for (const [, o] of vm.its.cache.peekEntries()) iteRefs.set(o, (iteRefs.get(o) ?? 0) + 1);
  }
  for (const o of vm.k.objects) {
    if (o.type !== VGIC_IRQ || !o.slab || o.freed) continue;
    const count = peek<number>(o, IRQ.refcount);
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
    }
  }
  // Liveness: a vCPU left sleeping in WFI must have nothing deliverable.
  for (const v of vm.vcpus) {
    if (!v.idle) continue;
    const pmr = v.cpuif.vmcr.pmr;
    for (const o of v.queuedIrqs()) {
      const f = peek<number>(o, IRQ.flags);
      if (pendingOf(f) && f & F.ENABLED && !(f & F.ACTIVE) && peek<number>(o, IRQ.priority) < pmr) {
        oracle(vm, null, 'liveness', 'a vCPU sleeps in WFI with a deliverable interrupt', [
          `vCPU ${v.id} is blocked in WFI while ${o.label} is pending, enabled and unmasked on its AP list`,
        ]);
        break;
      }
    }
  }
}
