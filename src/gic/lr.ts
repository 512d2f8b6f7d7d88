/**
 * A list register as a value — ICH_LR<n>_EL2 on a GICv3 host (Arm IHI 0069), GICH_LR<n> on a GICv2 host
 * (Arm IHI 0048; src/gic/gich.ts encodes it): the host builds LR images, the CPU interface changes
 * their state. Kept as a small record rather than an integer so the hot paths stay cheap.
 */
export const LR_INVALID = 0;
export const LR_PENDING = 1;
export const LR_ACTIVE = 2;
export const LR_PENDING_ACTIVE = 3;

export interface Lr {
  /** 0 invalid, 1 pending, 2 active, 3 pending and active (bit 0 pending, bit 1 active). */
  state: number;
  hw: boolean;
  group: 0 | 1;
  priority: number;
  /** pINTID when hw, else 0. */
  pintid: number;
  /** EOI maintenance request (only when !hw). */
  eoi: boolean;
  vintid: number;
  /** A GICv2 VM's SGI: the CPU that sent it (the CPUID field, returned in the IAR's bits [12:10]). */
  cpuid: number;
}

export function emptyLr(): Lr {
  return { state: LR_INVALID, hw: false, group: 0, priority: 0, pintid: 0, eoi: false, vintid: 0, cpuid: 0 };
}

export function copyLr(lr: Lr): Lr {
  return { ...lr };
}

export function lrPending(lr: Lr): boolean {
  return (lr.state & LR_PENDING) !== 0;
}

export function lrActive(lr: Lr): boolean {
  return (lr.state & LR_ACTIVE) !== 0;
}

const STATE_NAMES = ['invalid', 'pending', 'active', 'pending+active'];

/** An LR as a state dump shows it; a GICv2 VM's SGIs with their source CPU. */
export function describeLr(lr: Lr, gicv2 = false): string {
  if (lr.state === LR_INVALID && !lr.eoi && lr.vintid === 0) return '-';
  const bits = [`${lr.vintid}`, STATE_NAMES[lr.state], `prio 0x${lr.priority.toString(16)}`, `G${lr.group}`];
  if (lr.hw) bits.push(`HW p${lr.pintid}`);
  if (gicv2 && lr.vintid < 16 && !lr.hw) bits.push(`src ${lr.cpuid}`);
  if (lr.eoi) bits.push('EOI');
  return bits.join(' ');
}
