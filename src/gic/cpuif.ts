import { GICH_MAX_LRS, gicvIar } from './gich.ts';
import { emptyLr, LR_ACTIVE, LR_INVALID, LR_PENDING, type Lr, lrActive, lrPending } from './lr.ts';

/** ICH_HCR_EL2 bits, as the GICv3 architecture specification (Arm IHI 0069) numbers them. */
export const HCR = {
  En: 1 << 0,
  UIE: 1 << 1,
  LRENPIE: 1 << 2,
  NPIE: 1 << 3,
  VGrp0EIE: 1 << 4,
  VGrp0DIE: 1 << 5,
  VGrp1EIE: 1 << 6,
  VGrp1DIE: 1 << 7,
  vSGIEOICount: 1 << 8,
  TC: 1 << 10,
  TALL0: 1 << 11,
  TALL1: 1 << 12,
  TSEI: 1 << 13,
  TDIR: 1 << 14,
  DVIM: 1 << 15,
} as const;

/** ICH_MISR_EL2 bits (Arm IHI 0069). */
export const MISR = {
  EOI: 1,
  U: 2,
  LRENP: 4,
  NP: 8,
  VGrp0E: 16,
  VGrp0D: 32,
  VGrp1E: 64,
  VGrp1D: 128,
} as const;

export const SPURIOUS = 1023;
/** First LPI INTID: EOIs at or above it deactivate whatever EOImode and never count in EOIcount. */
export const MIN_LPI = 8192;
/** KVM exposes 5 priority bits and 5 preemption bits: one 32-bit APR per group. */
const PRI_MASK = 0xf8;
/** 8 - PREbits: the shift between an APR bit index and its group priority. */
const PRE_SHIFT = 3;
/** The smallest binary points (ICV_BPR0_EL1, ICV_BPR1_EL1): BPR0min = 7 - PREbits, BPR1min = BPR0min + 1. */
const BPR0_MIN = PRE_SHIFT - 1;
const BPR1_MIN = BPR0_MIN + 1;
const BPR_MAX = 7;

/** The special INTIDs 1020–1023: a valid LR holding one is UNPREDICTABLE. */
function isSpecial(intid: number): boolean {
  return intid >= 1020 && intid <= 1023;
}

/** What a CPU interface reports to the hypervisor side. */
export interface CpuifHost {
  /** Findings F1–F8. */
  finding(id: FindingId, text: string): void;
  /** A HW LR was deactivated: the physical interrupt must be deactivated too. */
  physDeactivate(pintid: number): void;
}

const NO_HOST: CpuifHost = { finding: () => {}, physDeactivate: () => {} };

/**
 * CPU-interface switches: where the Arm text leaves a choice, or QEMU and KVM's emulation differ from it,
 * the default follows the architecture (or QEMU) and a switch selects the alternative (docs/model.md,
 * Glossary).
 */
export interface CpuifSwitches {
  CPUIF_EOIR_COUNTS_IN_EOIMODE1: boolean;
  CPUIF_EOIR_WITHOUT_ACTIVE_PRIORITY: 'ignore' | 'count';
  CPUIF_EOIR_MATCH_INTID_ONLY: boolean;
  CPUIF_NP_COUNTS_PENDING_ACTIVE: boolean;
  CPUIF_U_FROM_ELRSR: boolean;
  CPUIF_ELRSR_IGNORES_EOI: boolean;
  CPUIF_EOI_DROP_PREFERS_G1: boolean;
  CPUIF_EOICOUNT_SATURATES: boolean;
}

export const DEFAULT_CPUIF_SWITCHES: Readonly<CpuifSwitches> = {
  CPUIF_EOIR_COUNTS_IN_EOIMODE1: false,
  CPUIF_EOIR_WITHOUT_ACTIVE_PRIORITY: 'ignore',
  CPUIF_EOIR_MATCH_INTID_ONLY: false,
  CPUIF_NP_COUNTS_PENDING_ACTIVE: false,
  CPUIF_U_FROM_ELRSR: false,
  CPUIF_ELRSR_IGNORES_EOI: false,
  CPUIF_EOI_DROP_PREFERS_G1: false,
  CPUIF_EOICOUNT_SATURATES: false,
};

/** CPU-interface findings F1–F8 (docs/model.md, Glossary): architecture findings, not kernel reports. */
export type FindingId = 'F1' | 'F2' | 'F3' | 'F4' | 'F5' | 'F6' | 'F7' | 'F8';

/** ICH_VMCR_EL2: the guest's control state. Reset is all zero: KVM's vCPU reset clears it. */
export interface Vmcr {
  eng0: boolean;
  eng1: boolean;
  eoimode: 0 | 1;
  cbpr: boolean;
  bpr0: number;
  bpr1: number;
  pmr: number;
}

function resetVmcr(): Vmcr {
  return { eng0: false, eng1: false, eoimode: 0, cbpr: false, bpr0: 0, bpr1: 0, pmr: 0 };
}

/** What an EOIR or DIR did, for the host's ghost state (P-EOI) and for tests. */
interface DeactivationResult {
  /** Index of the LR that was deactivated, or -1. */
  lr: number;
  /** EOIcount was incremented (no LR matched). */
  counted: boolean;
  /** A DIR that must be emulated by the host (TDIR/TC set). */
  trapped: boolean;
}

/** The GIC architecture of a VM: a GICv3 VM on a GICv3 host, or a GICv2 VM on a GICv2 host. */
export type GicVersion = 2 | 3;

/**
 * The virtual CPU interface of one vCPU: on GICv3 the ICV_* and ICH_* registers (Arm IHI 0069), on
 * GICv2 the memory-mapped GICV_* and GICH_* ones (Arm IHI 0048; docs/model.md, "GICv2"): the LRs,
 * APRs, VMCR and HCR as the guest sees them while it runs. Only the vCPU's own thread touches it, so
 * it is plain state.
 */
export class VCpuInterface {
  readonly lrs: Lr[];
  apr0 = 0;
  apr1 = 0;
  vmcr: Vmcr = resetVmcr();
  hcr = 0;
  eoicount = 0;
  /** GICv2: the host left the GICV_DIR page unmapped, so every GICV_DIR write traps to it. */
  gicvDirTrapped = false;

  constructor(
    readonly nrLr: number,
    readonly switches: CpuifSwitches = DEFAULT_CPUIF_SWITCHES,
    /**
     * What the interface tells its host. An object rather than closures, so that a copied world (a
     * snapshot) carries a host that belongs to the copy.
     */
    private readonly host: CpuifHost = NO_HOST,
    readonly version: GicVersion = 3,
  ) {
    const max = version === 2 ? GICH_MAX_LRS : 16;
    if (!Number.isInteger(nrLr) || nrLr < 1 || nrLr > max)
      throw new Error(`nLR must be 1..${max} on GICv${version}, got ${nrLr}`);
    this.lrs = Array.from({ length: nrLr }, emptyLr);
  }

  /**
   * Checks what the host programmed into the LRs at entry: F5 (two valid LRs with one vINTID), F4 (a HW
   * LR in Pending and Active, or with a pINTID outside 16–1019), F3 (a special vINTID in a valid LR).
   */
  validateLrs(): void {
    const seen = new Map<number, number>();
    for (let i = 0; i < this.nrLr; i++) {
      const lr = this.lrs[i];
      if (lr.state === LR_INVALID) continue;
      const other = seen.get(lr.vintid);
      if (other !== undefined) this.host.finding('F5', `LR${other} and LR${i} both hold vINTID ${lr.vintid}`);
      seen.set(lr.vintid, i);
      if (lr.hw && lr.state === (LR_PENDING | LR_ACTIVE))
        this.host.finding('F4', `HW LR${i} is pending and active`);
      if (lr.hw && (lr.pintid < 16 || lr.pintid >= 1020))
        this.host.finding('F4', `HW LR${i} with pINTID ${lr.pintid}`);
      if (isSpecial(lr.vintid)) this.host.finding('F3', `LR${i} holds special vINTID ${lr.vintid}`);
    }
  }

  /**
   * The binary points in effect. The VMCR may hold a value below the minimum (the reset value 0, or
   * whatever the host restores), and such a value behaves as the minimum.
   */
  private bpr0(): number {
    return Math.max(this.vmcr.bpr0, BPR0_MIN);
  }

  private bpr1(): number {
    return Math.max(this.vmcr.bpr1, BPR1_MIN);
  }

  /** Mask of the group-priority bits for a group. */
  groupMask(group: 0 | 1): number {
    if (group === 0 || this.vmcr.cbpr) return (0xff << (this.bpr0() + 1)) & 0xff;
    return (0xff << this.bpr1()) & 0xff;
  }

  /** Read of ICV_BPR0_EL1 / ICV_BPR1_EL1. */
  readBpr(group: 0 | 1): number {
    if (group === 0) return this.bpr0();
    // Under CBPR Group 1 uses BPR0's mask, and BPR1 numbers the same mask one higher than BPR0 does.
    if (this.vmcr.cbpr) return Math.min(this.bpr0() + 1, BPR_MAX);
    return this.bpr1();
  }

  /** Write of ICV_BPR0_EL1 / ICV_BPR1_EL1 (BinaryPoint[2:0]; the other bits are RES0). */
  writeBpr(group: 0 | 1, v: number): void {
    const bp = v & BPR_MAX;
    if (group === 0) this.vmcr.bpr0 = Math.max(bp, BPR0_MIN);
    // Under CBPR the register is an alias of the Group-0 binary point that cannot be written.
    else if (!this.vmcr.cbpr) this.vmcr.bpr1 = Math.max(bp, BPR1_MIN);
  }

  /** The running priority, ICV_RPR_EL1 (0xff when idle). */
  runningPriority(): number {
    const bits = this.apr0 | this.apr1;
    if (bits === 0) return 0xff;
    const b = 31 - Math.clz32(bits & -bits);
    return b << PRE_SHIFT;
  }

  private enabled(group: 0 | 1): boolean {
    return group === 0 ? this.vmcr.eng0 : this.vmcr.eng1;
  }

  /**
   * The highest-priority pending virtual interrupt: its LR's index (lowest index on ties), or -1. An
   * LR with a special vINTID is never a candidate; F3 for it is raised once, by validateLrs at entry,
   * because only the host can program one and this runs at every instruction boundary.
   */
  hppvi(): number {
    if (!this.vmcr.eng0 && !this.vmcr.eng1) return -1;
    let best = -1;
    for (let i = 0; i < this.nrLr; i++) {
      const lr = this.lrs[i];
      if (lr.state !== LR_PENDING || !this.enabled(lr.group) || lr.priority === 0xff) continue;
      if (isSpecial(lr.vintid)) continue;
      if (best < 0 || (lr.priority & PRI_MASK) < (this.lrs[best].priority & PRI_MASK)) best = i;
    }
    return best;
  }

  /** Whether the pending LR `i` can be signalled (ICH_HCR_EL2.En, the priority mask, preemption). */
  private signallable(i: number): boolean {
    if ((this.hcr & HCR.En) === 0) return false;
    const lr = this.lrs[i];
    const prio = lr.priority & PRI_MASK;
    if (prio >= (this.vmcr.pmr & PRI_MASK)) return false;
    const rp = this.runningPriority();
    if (rp === 0xff) return true;
    const m = this.groupMask(lr.group);
    return (prio & m) < (rp & m);
  }

  /** The vIRQ (group 1) or vFIQ (group 0) line. */
  line(group: 0 | 1): boolean {
    const i = this.hppvi();
    return i >= 0 && this.lrs[i].group === group && this.signallable(i);
  }

  /** Read of ICV_IAR0/1_EL1. Returns the acknowledged vINTID or 1023. */
  iar(group: 0 | 1): number {
    const i = this.hppvi();
    if (i < 0 || this.lrs[i].group !== group || !this.signallable(i)) return SPURIOUS;
    const lr = this.lrs[i];
    lr.state = LR_ACTIVE;
    const bit = 1 << ((lr.priority & this.groupMask(lr.group)) >> PRE_SHIFT);
    // GICv2 has one active-priority register (GICH_APR) for both groups.
    if (lr.group === 0 || this.version === 2) this.apr0 |= bit;
    else this.apr1 |= bit;
    return this.version === 2 ? gicvIar(lr) : lr.vintid;
  }

  /** ICV_HPPIR0/1_EL1: the highest-priority pending vINTID, without the mask and preemption checks. */
  hppir(group: 0 | 1): number {
    const i = this.hppvi();
    if (i < 0 || this.lrs[i].group !== group) return SPURIOUS;
    return this.version === 2 ? gicvIar(this.lrs[i]) : this.lrs[i].vintid;
  }

  private bumpEoicount(): void {
    if (this.eoicount === 31) {
      this.host.finding('F6', 'EOIcount increment past 31');
      if (this.switches.CPUIF_EOICOUNT_SATURATES) return;
    }
    this.eoicount = (this.eoicount + 1) & 31;
  }

  /** Clears the active bit of LR `i` (HW: deactivate the physical interrupt too). */
  private deactivateLr(i: number): void {
    const lr = this.lrs[i];
    lr.state &= ~LR_ACTIVE;
    if (lr.hw) {
      if (lr.pintid < 16 || lr.pintid >= 1020) this.host.finding('F4', `HW LR${i} with pINTID ${lr.pintid}`);
      else this.host.physDeactivate(lr.pintid);
    }
  }

  /**
   * Index of the LR holding `intid` with the Active bit set (Active or Pending and Active), or -1: the LR
   * an EOIR or a DIR would deactivate. On GICv2 `value` is the register's whole value: an SGI's LR must
   * also hold the source CPU in its CPUID field.
   */
  findActive(value: number): number {
    const intid = this.version === 2 ? value & 0x3ff : value;
    const sgiSource = this.version === 2 && intid < 16 ? (value >> 10) & 7 : -1;
    for (let i = 0; i < this.nrLr; i++) {
      const lr = this.lrs[i];
      if (lr.vintid === intid && lrActive(lr) && (sgiSource < 0 || lr.cpuid === sgiSource)) return i;
    }
    return -1;
  }

  /** Write of ICV_EOIR0/1_EL1 (GICv2: GICV_EOIR / GICV_AEOIR, `value` with an SGI's CPUID). */
  eoir(group: 0 | 1, value: number): DeactivationResult {
    const intid = this.version === 2 ? value & 0x3ff : value;
    const none: DeactivationResult = { lr: -1, counted: false, trapped: false };
    if (isSpecial(intid)) return none;
    // The priority drop clears the highest active priority, whether or not an LR matches.
    const low = (x: number) => (x === 0 ? 32 : 31 - Math.clz32(x & -x));
    const b0 = low(this.apr0);
    const b1 = low(this.apr1);
    let dropped = -1;
    if (b0 < 32 || b1 < 32) {
      if (b0 === b1) {
        this.host.finding('F2', `APR0 and APR1 both have bit ${b0} set`);
        if (this.switches.CPUIF_EOI_DROP_PREFERS_G1) this.apr1 &= ~(1 << b1);
        else this.apr0 &= ~(1 << b0);
        dropped = b0 << PRE_SHIFT;
      } else if (b0 < b1) {
        this.apr0 &= ~(1 << b0);
        dropped = b0 << PRE_SHIFT;
      } else {
        this.apr1 &= ~(1 << b1);
        dropped = b1 << PRE_SHIFT;
      }
    } else if (this.switches.CPUIF_EOIR_WITHOUT_ACTIVE_PRIORITY === 'ignore') {
      return none;
    }
    const i = this.findActive(value);
    const lpi = intid >= MIN_LPI;
    if (i < 0) {
      const counts = lpi ? false : this.vmcr.eoimode === 0 || this.switches.CPUIF_EOIR_COUNTS_IN_EOIMODE1;
      if (counts) this.bumpEoicount();
      return { lr: -1, counted: counts, trapped: false };
    }
    const lr = this.lrs[i];
    const matches = lr.group === group && (lr.priority & this.groupMask(lr.group)) === dropped;
    if (!matches) {
      this.host.finding('F1', `EOI of ${intid} does not match the dropped priority or group`);
      if (!this.switches.CPUIF_EOIR_MATCH_INTID_ONLY) return none;
    }
    // EOImode 1: priority drop only; the deactivation comes through DIR.
    if (this.vmcr.eoimode === 1 && !lpi) return none;
    this.deactivateLr(i);
    return { lr: i, counted: false, trapped: false };
  }

  /**
   * Write of ICV_DIR_EL1 (GICv2: GICV_DIR). A trapped DIR is reported for the host to emulate. GICv2
   * has no TDIR: since the LR-overflow rework KVM traps the whole GICV_DIR page (`gicvDirTrapped`).
   */
  dir(value: number): DeactivationResult {
    const trapped = this.version === 2 ? this.gicvDirTrapped : (this.hcr & (HCR.TDIR | HCR.TC)) !== 0;
    if (trapped) return { lr: -1, counted: false, trapped: true };
    return this.dirUntrapped(value);
  }

  /** ICV_DIR_EL1 without the trap (also what KVM's hyp fast path does for in-LR deactivations). */
  dirUntrapped(value: number): DeactivationResult {
    const intid = this.version === 2 ? value & 0x3ff : value;
    const none: DeactivationResult = { lr: -1, counted: false, trapped: false };
    if (intid >= 1020) return none;
    if (this.vmcr.eoimode === 0) {
      this.host.finding('F7', `DIR of ${intid} with EOImode 0`);
      return none;
    }
    const i = this.findActive(value);
    if (i < 0) {
      this.bumpEoicount();
      return { lr: -1, counted: true, trapped: false };
    }
    this.deactivateLr(i);
    return { lr: i, counted: false, trapped: false };
  }

  /** ICV_PMR_EL1. */
  setPmr(v: number): void {
    this.vmcr.pmr = v & PRI_MASK;
  }

  /** ICV_CTLR_EL1 (CBPR and EOImode). */
  setCtlr(eoimode: 0 | 1, cbpr = this.vmcr.cbpr): void {
    this.vmcr.eoimode = eoimode;
    this.vmcr.cbpr = cbpr;
  }

  /** ICV_IGRPEN0/1_EL1. */
  setGroupEnable(group: 0 | 1, on: boolean): void {
    if (group === 0) this.vmcr.eng0 = on;
    else this.vmcr.eng1 = on;
  }

  /** ICV_AP0R0_EL1 / ICV_AP1R0_EL1 (one register per group with 5 preemption bits). */
  readApr(group: 0 | 1): number {
    return (group === 0 || this.version === 2 ? this.apr0 : this.apr1) >>> 0;
  }

  writeApr(group: 0 | 1, v: number): void {
    if (group === 0 || this.version === 2) this.apr0 = v >>> 0;
    else this.apr1 = v >>> 0;
  }

  /** Whether LR `i` went invalid with an EOI maintenance request: its bit of ICH_EISR_EL2 / GICH_EISRn. */
  eoiDone(i: number): boolean {
    const lr = this.lrs[i];
    return lr.state === LR_INVALID && !lr.hw && lr.eoi;
  }

  /**
   * Whether LR `i` can be reused without losing an EOI maintenance event: its bit of ICH_ELRSR_EL2 /
   * GICH_ELRSRn.
   */
  lrEmpty(i: number): boolean {
    const lr = this.lrs[i];
    return lr.state === LR_INVALID && (lr.hw || !lr.eoi || this.switches.CPUIF_ELRSR_IGNORES_EOI);
  }

  /** ICH_EISR_EL2, or on GICv2 GICH_EISR0 (`word` 0) and GICH_EISR1 (`word` 1): 32 LRs per word. */
  eisr(word = 0): number {
    return this.bits(word, (i) => this.eoiDone(i));
  }

  /** ICH_ELRSR_EL2, or on GICv2 GICH_ELRSR0 and GICH_ELRSR1. */
  elrsr(word = 0): number {
    return this.bits(word, (i) => this.lrEmpty(i));
  }

  private bits(word: number, set: (i: number) => boolean): number {
    let m = 0;
    for (let i = word * 32; i < Math.min(this.nrLr, word * 32 + 32); i++)
      if (set(i)) m |= 1 << (i - word * 32);
    return m >>> 0;
  }

  /** ICH_MISR_EL2. */
  misr(): number {
    let m = 0;
    const h = this.hcr;
    for (let i = 0; i < this.nrLr; i++)
      if (this.eoiDone(i)) {
        m |= MISR.EOI;
        break;
      }
    if (h & HCR.UIE) {
      let valid = 0;
      for (let i = 0; i < this.nrLr; i++)
        if (this.switches.CPUIF_U_FROM_ELRSR ? !this.lrEmpty(i) : this.lrs[i].state !== LR_INVALID) valid++;
      if (valid <= 1) m |= MISR.U;
    }
    if (h & HCR.LRENPIE && this.eoicount !== 0) m |= MISR.LRENP;
    if (h & HCR.NPIE) {
      const np = this.switches.CPUIF_NP_COUNTS_PENDING_ACTIVE
        ? this.lrs.every((lr) => !lrPending(lr))
        : this.lrs.every((lr) => lr.state !== LR_PENDING);
      if (np) m |= MISR.NP;
    }
    if (h & HCR.VGrp0EIE && this.vmcr.eng0) m |= MISR.VGrp0E;
    if (h & HCR.VGrp0DIE && !this.vmcr.eng0) m |= MISR.VGrp0D;
    if (h & HCR.VGrp1EIE && this.vmcr.eng1) m |= MISR.VGrp1E;
    if (h & HCR.VGrp1DIE && !this.vmcr.eng1) m |= MISR.VGrp1D;
    return m;
  }

  /** The maintenance interrupt: a level, asserted while ICH_HCR_EL2.En is set and ICH_MISR_EL2 is not 0. */
  maintenance(): boolean {
    return (this.hcr & HCR.En) !== 0 && this.misr() !== 0;
  }
}

export function misrNames(m: number): string[] {
  return Object.entries(MISR)
    .filter(([, bit]) => (m & bit) !== 0)
    .map(([name]) => name);
}
