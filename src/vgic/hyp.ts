import { HCR } from '../gic/cpuif.ts';
import { copyLr, emptyLr, LR_INVALID } from '../gic/lr.ts';
import { peek } from '../kernel/access.ts';
import { F, IRQ } from './layout.ts';
import type { Vcpu } from './vm.ts';

/**
 * World switch, as __vgic_v3_restore_state / __vgic_v3_save_state (arch/arm64/kvm/hyp/vgic-v3-sr.c).
 * Restore at entry: ICH_HCR_EL2 (its EOIcount field is the shadow's, zeroed by configure_hcr) — always
 * since the LR-overflow rework, before it (V0) only with LRs to load, so that it keeps the 0 of the last
 * save — then the used LRs. Save at exit: read back the used LRs (an empty one per ELRSR keeps its shadow
 * with the state cleared), capture EOIcount only under LRENPIE, zero the hardware.
 */
export function vgicRestoreState(v: Vcpu): void {
  const hw = v.cpuif;
  if (v.vm.design.lrOverflow || v.usedLrs !== 0) {
    hw.hcr = v.hcrShadow;
    hw.eoicount = v.eoicountShadow;
  }
  for (let i = 0; i < hw.nrLr; i++) hw.lrs[i] = i < v.usedLrs ? copyLr(v.lrShadow[i]) : emptyLr();
  hw.validateLrs();
  v.ghost.outsideDeactivations = [];
  v.ghost.activeAtEntry = new Set(
    v
      .queuedIrqs()
      .filter((o) => peek(o, IRQ.flags) & F.ACTIVE)
      .map((o) => peek(o, IRQ.intid)),
  );
}

export function vgicSaveState(v: Vcpu): void {
  const hw = v.cpuif;
  if (v.usedLrs !== 0) {
    for (let i = 0; i < v.usedLrs; i++) {
      if (hw.lrEmpty(i)) v.lrShadow[i].state = LR_INVALID;
      else v.lrShadow[i] = copyLr(hw.lrs[i]);
      hw.lrs[i] = emptyLr();
    }
  }
  if (v.hcrShadow & HCR.LRENPIE) v.eoicountShadow = hw.eoicount;
  hw.hcr = 0;
  hw.eoicount = 0;
}
