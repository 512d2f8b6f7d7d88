import { HCR } from '../gic/cpuif.ts';
import { emptyLr, LR_ACTIVE, LR_INVALID, LR_PENDING, type Lr } from '../gic/lr.ts';
import { rd, wr } from '../kernel/access.ts';
import { warn } from '../kernel/bug.ts';
import { kernelFn } from '../kernel/function.ts';
import { raw_spin_lock, raw_spin_unlock } from '../kernel/locks.ts';
import type { KObj } from '../kernel/mem.ts';
import type { Task } from '../kernel/task.ts';
import { flagsOf, type Gen, intidOf, irqLock, isSpi, pendingOf, setFlags } from './irq.ts';
import { F, IRQ } from './layout.ts';
import { DIRECT, type FoldOpts, hwOrLevel, lrSignalsEoiMi, resampled } from './lr-image.ts';
import { kvm_notify_acked_irq } from './notify.ts';
import { vgic_get_irq, vgic_put_irq, vgic_put_irq_norelease } from './refs.ts';
import { type ApListSummary, irqsActiveOutsideLrs, irqsOutsideLrs, irqsPendingOutsideLrs } from './sort.ts';
import type { Vcpu, Vm } from './vm.ts';

/**
 * The GICv2 host's LR handling (arch/arm64/kvm/vgic/vgic-v2.c): the same flow as GICv3's with the
 * GICH_LR layout, a GICv2 VM's SGIs with their sources, no TDIR, and the EOI notification decided
 * before the lookup (docs/model.md, "GICv2").
 */
const FILE = 'arch/arm64/kvm/vgic/vgic-v2.c';

/** The lowest source still pending of a GICv2 SGI, or -1. */
function lowestSource(source: number): number {
  return source === 0 ? -1 : 31 - Math.clz32(source & -source);
}

function popcount(x: number): number {
  let n = 0;
  for (let b = x; b !== 0; b &= b - 1) n++;
  return n;
}

/**
 * vgic_irq_is_multi_sgi: a GICv2 SGI that needs more than one LR (several sources, or one active and
 * one pending), so it goes into an LR one instance at a time.
 */
function isMultiSgi(t: Task, irq: KObj, f: number): boolean {
  if (intidOf(t, irq) >= 16) return false;
  return popcount(rd(t, irq, IRQ.source)) + (f & F.ACTIVE ? 1 : 0) > 1;
}

/** vgic_v2_compute_lr: the GICH_LR image of an IRQ; irq_lock held. */
export const vgic_v2_compute_lr = kernelFn(
  { name: 'vgic_v2_compute_lr', file: FILE, steps: ['on_lr', 'active', 'hw', 'pending', 'group'] },
  (t, irq: KObj): Lr => {
    const f = flagsOf(t, irq);
    if (f & F.ON_LR) {
      t.at('on_lr');
      warn(t, { once: 'v2_compute_lr:on_lr', title: 'WARNING in vgic_v2_compute_lr: IRQ already on an LR' });
    }
    const lr = emptyLr();
    lr.vintid = intidOf(t, irq);
    const sgi = lr.vintid < 16;
    let allowPending = true;
    t.at('active');
    if (f & F.ACTIVE) {
      lr.state |= LR_ACTIVE;
      if (sgi) lr.cpuid = rd(t, irq, IRQ.activeSource);
      if (isMultiSgi(t, irq, f)) {
        allowPending = false;
        lr.eoi = true;
      }
    }
    t.at('group');
    lr.group = rd(t, irq, IRQ.group) ? 1 : 0;
    t.at('hw');
    if (!hwOrLevel(t, irq, f, lr)) allowPending = false;
    t.at('pending');
    if (allowPending && pendingOf(f)) {
      if (sgi) {
        const source = rd(t, irq, IRQ.source);
        const src = lowestSource(source);
        if (src < 0) {
          warn(t, { once: 'v2_compute_lr:no_source', title: 'WARNING in vgic_v2_compute_lr: no SGI source' });
          return emptyLr();
        }
        lr.cpuid = src;
        if (source & ~(1 << src)) lr.eoi = true;
      }
      lr.state |= LR_PENDING;
    }
    // GICH_LR holds five bits of priority.
    lr.priority = rd(t, irq, IRQ.priority) & 0xf8;
    return lr;
  },
);

/** vgic_v2_populate_lr: the pending state moves into the LR; an SGI gives up its lowest source. */
export const vgic_v2_populate_lr = kernelFn(
  { name: 'vgic_v2_populate_lr', file: FILE, steps: ['pending', 'set_flags'] },
  (t, vm: Vm, v: Vcpu, irq: KObj, n: number): void => {
    const lr = vgic_v2_compute_lr(t, irq);
    v.lrShadow[n] = lr;
    t.at('pending');
    const f = flagsOf(t, irq);
    let set = vm.design.lrOverflow ? F.ON_LR : 0;
    let clear = 0;
    if (lr.state & LR_PENDING) {
      if (!(f & F.CONFIG_LEVEL)) clear |= F.PENDING_LATCH;
      if (lr.vintid < 16) {
        const left = rd(t, irq, IRQ.source) & ~(1 << lr.cpuid);
        wr(t, irq, IRQ.source, left);
        // The other sources stay pending, for the next flush.
        if (left !== 0) {
          set |= F.PENDING_LATCH;
          clear &= ~F.PENDING_LATCH;
        }
      }
      if (f & F.CONFIG_LEVEL && f & F.HW) clear |= F.LINE_LEVEL;
    }
    t.at('set_flags');
    setFlags(t, irq, set, clear);
  },
);

/** vgic_v2_configure_hcr: GICH_HCR rebuilt from scratch (EOICount zeroed); GICv2 has no TDIR. */
export const vgic_v2_configure_hcr = kernelFn(
  { name: 'vgic_v2_configure_hcr', file: FILE, steps: [] },
  (_t, vm: Vm, v: Vcpu, als: ApListSummary): void => {
    const nrLr = vm.config.nrLr;
    let hcr = HCR.En;
    if (irqsOutsideLrs(als, nrLr)) hcr |= HCR.UIE;
    if (vm.design.lrOverflow) {
      if (irqsPendingOutsideLrs(als, nrLr)) hcr |= HCR.NPIE;
      if (irqsActiveOutsideLrs(als, nrLr)) hcr |= HCR.LRENPIE;
      const vmcr = v.cpuif.vmcr;
      hcr |= vmcr.eng0 ? HCR.VGrp0DIE : HCR.VGrp0EIE;
      hcr |= vmcr.eng1 ? HCR.VGrp1DIE : HCR.VGrp1EIE;
    }
    v.hcrShadow = hcr;
    v.eoicountShadow = 0;
  },
);

/**
 * vgic_v2_fold_lr: apply one GICH_LR image to its vgic_irq, looked up by INTID. The EOI notification
 * of a level SPI comes first, before the lookup and without irq_lock, on the LR alone (no
 * `deactivated` test, no active_spis: GICv2 has no TDIR to keep). Returns whether a PUT_NR dropped the
 * last reference (V4b).
 */
export const vgic_v2_fold_lr = kernelFn(
  {
    name: 'vgic_v2_fold_lr',
    file: FILE,
    steps: ['notify_eoi', 'get_irq', 'lock', 'compute', 'set_state', 'put_irq'],
  },
  function* (t, vm: Vm, v: Vcpu, val: Lr, opts: FoldOpts = DIRECT): Gen<boolean> {
    const intid = val.vintid;
    t.at('notify_eoi');
    if (lrSignalsEoiMi(val) && isSpi(vm, intid)) {
      if (opts.eoiSpis) opts.eoiSpis.add(intid - 32);
      else yield* kvm_notify_acked_irq(t, vm, intid - 32);
    }
    t.at('get_irq');
    const irq = yield* vgic_get_irq(t, vm, v, intid);
    if (!irq) return false;
    t.at('lock');
    yield raw_spin_lock(t, irqLock(t, irq));
    t.at('compute');
    const state = val.state;
    const f = flagsOf(t, irq);
    let set = state & LR_ACTIVE ? F.ACTIVE : 0;
    let clear = state & LR_ACTIVE ? 0 : F.ACTIVE;
    const sgi = intid < 16;
    if (sgi && state & LR_ACTIVE) wr(t, irq, IRQ.activeSource, val.cpuid);
    const level = (f & F.CONFIG_LEVEL) !== 0;
    if (!level && state & LR_PENDING) {
      set |= F.PENDING_LATCH;
      if (sgi) wr(t, irq, IRQ.source, rd(t, irq, IRQ.source) | (1 << val.cpuid));
    }
    if (level && state === LR_INVALID) clear |= F.PENDING_LATCH;
    const r = resampled(t, v, f, val);
    set |= r.set;
    clear |= r.clear;
    if (vm.design.lrOverflow) clear |= F.ON_LR;
    t.at('set_state');
    setFlags(t, irq, set, clear);
    if (opts.fromLr) vm.checks.lrFolded(t, vm, v, irq);
    raw_spin_unlock(t, irqLock(t, irq));
    t.at('put_irq');
    if (opts.norelease) return yield* vgic_put_irq_norelease(t, vm, irq);
    yield* vgic_put_irq(t, vm, irq);
    return false;
  },
);
