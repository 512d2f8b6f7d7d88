import type { Lr } from './lr.ts';

/**
 * The GICv2 virtual interface control registers (GICH_*, Arm IHI 0048B §5.3) as a GICv2 host sees
 * them. GICH_HCR has ICH_HCR_EL2's low eight bits (En, UIE, LRENPIE, NPIE, the four group
 * enable/disable bits) and EOICount in [31:27], but no TDIR and no vSGIEOICount: the model keeps both
 * in one HCR value and a GICv2 host never sets the others.
 */
export const GICH_MAX_LRS = 64;

/** GICH_LR<n> as the 32-bit word a GICv2 host writes: the state dumps of a GICv2 VM show it. */
export function gichLr(lr: Lr): number {
  let v = lr.vintid & 0x3ff;
  if (lr.hw) v |= (lr.pintid & 0x3ff) << 10;
  else {
    v |= (lr.cpuid & 7) << 10;
    if (lr.eoi) v |= 1 << 19;
  }
  v |= ((lr.priority >> 3) & 0x1f) << 23;
  v |= (lr.state & 3) << 28;
  if (lr.group) v |= 1 << 30;
  if (lr.hw) v |= 1 << 31;
  return v >>> 0;
}

/** GICV_IAR's value for an acknowledged LR: the INTID, and for an SGI its source CPU in [12:10]. */
export function gicvIar(lr: Lr): number {
  return lr.vintid < 16 ? lr.vintid | ((lr.cpuid & 7) << 10) : lr.vintid;
}
