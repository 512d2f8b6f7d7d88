import {
  type CpuifHost,
  type CpuifSwitches,
  DEFAULT_CPUIF_SWITCHES,
  type FindingId,
  type GicVersion,
  VCpuInterface,
} from '../gic/cpuif.ts';
import { emptyLr, type Lr } from '../gic/lr.ts';
import { poke } from '../kernel/access.ts';
import type { Kernel, Placement } from '../kernel/kernel.ts';
import { head, initListHead, type ListHead, peekEntries } from '../kernel/list.ts';
import { initLock, type Lock } from '../kernel/locks.ts';
import type { KObj } from '../kernel/mem.ts';
import { KReport, threadInfo } from '../kernel/splat.ts';
import { defineFn } from '../kernel/stack.ts';
import type { Switches } from '../kernel/switches.ts';
import type { Task } from '../kernel/task.ts';
import { XArray } from '../kernel/xarray.ts';
import type { Checkpoints } from './checkpoints.ts';
import type { Design } from './designs.ts';
import { isLpi } from './irq.ts';
import { DIST, F, IRQ, KVM, KVM_VCPU, VCPU, VGIC_IRQ, VGIC_NR_PRIVATE_IRQS } from './layout.ts';
import { physDeactivate } from './phys.ts';

export interface VmConfig {
  design: Design;
  /** A GICv3 VM on a GICv3 host, or a GICv2 VM on a GICv2 host (docs/model.md, "GICv2"). */
  gic: GicVersion;
  vcpus: number;
  /** Implemented list registers, 1..16 (GICv2: 1..64). */
  nrLr: number;
  /** Number of SPIs (INTIDs 32 .. 32+spis-1). */
  spis: number;
  its: boolean;
  /** The host CPU implements ICH_HCR_EL2.TDIR (without it DIR always traps). */
  hostTdir: boolean;
  /** Guest instructions that may still run after a maintenance interrupt asserts, before the exit. */
  maxMiDelay: number;
  cpuif: CpuifSwitches;
  /** The kernel configuration's runtime switches (src/kernel/kconfig.ts); the rest keep their defaults. */
  kernel?: Partial<Switches>;
}

export const DEFAULT_VM_CONFIG: Omit<VmConfig, 'design'> = {
  gic: 3,
  vcpus: 1,
  nrLr: 4,
  spis: 32,
  its: false,
  hostTdir: true,
  maxMiDelay: 1,
  cpuif: DEFAULT_CPUIF_SWITCHES,
};

/** Ghost state for the functional oracles (docs/findings.md): bookkeeping KVM itself does not keep. */
export interface VcpuGhost {
  /** INTIDs the host held active on this vCPU's AP list at the last entry. */
  activeAtEntry: Set<number>;
  /** INTIDs the guest EOI'd or DIR'd with no matching LR since the last entry (EOIcount bumps). */
  outsideDeactivations: number[];
  /** INTIDs the host's EOIcount replay deactivated at the last fold. */
  replayed: number[];
  /**
   * The clock of the task whose write cleared this redistributor's EnableLPIs, at completion; null
   * while LPIs are enabled (P-LPI-ACK, P-LPI-QUEUED, P-LPI-PENDING).
   */
  lpisDisabledAt: number[] | null;
  /** `Vm.stateSeq` when the last flush filled the LRs (P-STATE-WRITE). */
  entrySeq: number;
}

/** A guest-visible event, for logs, expectations and reports. */
export interface GuestEvent {
  vcpu: number;
  what: 'ack' | 'eoi' | 'dir' | 'exit' | 'entry' | 'assert' | 'finding' | 'note';
  intid?: number;
  text: string;
}

export const THREAD_FNS = {
  vcpuRun: defineFn({ name: 'kvm_arch_vcpu_ioctl_run', file: 'arch/arm64/kvm/arm.c', steps: [] }),
  vcpuIoctl: defineFn({ name: 'kvm_vcpu_ioctl', file: 'virt/kvm/kvm_main.c', steps: [] }),
  vmIoctl: defineFn({ name: 'kvm_vm_ioctl', file: 'virt/kvm/kvm_main.c', steps: [] }),
};

/** One vCPU: `struct kvm_vcpu` with its `vgic_cpu`, the hardware CPU interface and the host's shadows. */
export class Vcpu implements CpuifHost {
  readonly obj: KObj;
  readonly apLock: Lock;
  readonly apHead: ListHead;
  readonly mutex: Lock;
  /**
   * SGIs and PPIs, each made at its first use in an execution: a scenario touches a few of the 32 per
   * vCPU, and the world is built again for every execution. Their addresses, location ids and lock
   * classes are reserved at boot, in the kernel's allocation order, so a report reads the same.
   */
  private readonly privateIrqs: (KObj | undefined)[] = [];
  private readonly privatePlaces: IrqPlacement[] = [];
  readonly cpuif: VCpuInterface;
  /** Shadow LRs, used_lrs and ICH_HCR_EL2 (with the saved EOIcount): only the vCPU's thread touches them. */
  readonly lrShadow: Lr[];
  usedLrs = 0;
  hcrShadow = 0;
  eoicountShadow = 0;
  readonly ghost: VcpuGhost = {
    activeAtEntry: new Set(),
    outsideDeactivations: [],
    replayed: [],
    lpisDisabledAt: null,
    entrySeq: 0,
  };
  /** Set when the vCPU's guest ended idle in WFI (for the liveness oracle). */
  idle = false;
  /** V1: the part of the AP list that did not fit in the LRs at the last entry. */
  readonly overflowHead: ListHead | null = null;
  task!: Task;
  /** The physical redistributor of the vCPU's CPU (GICR_PHYS): made when the VM maps a timer. */
  phys: KObj | null = null;

  /** The IRQs queued on this vCPU (its AP list, then V1's overflow list), read without instrumentation. */
  queuedIrqs(): KObj[] {
    const on = peekEntries(this.apHead, 'ap_list').entries;
    return this.overflowHead ? on.concat(peekEntries(this.overflowHead, 'ap_list').entries) : on;
  }

  constructor(
    readonly vm: Vm,
    readonly id: number,
  ) {
    const k = vm.k;
    this.obj = k.alloc(KVM_VCPU, `vcpu ${id}`, { mode: 0, requests: 0, ctlr: 0, vmcr: 0 });
    this.apLock = initLock(k, 'raw', this.obj, VCPU.apLock, 'vgic_cpu_init', '&vgic_cpu->ap_list_lock');
    this.mutex = initLock(k, 'mutex', this.obj, VCPU.mutex, 'kvm_vcpu_init', '&vcpu->mutex');
    this.apHead = head(this.obj, 'ap_list_head');
    initListHead(this.apHead);
    if (vm.design.walk === 'overflow') {
      this.overflowHead = head(this.obj, 'overflow_ap_list_head');
      initListHead(this.overflowHead);
    }
    this.cpuif = new VCpuInterface(vm.config.nrLr, vm.config.cpuif, this, vm.config.gic);
    // The LR-overflow rework traps GICV_DIR on GICv2 (as TDIR on GICv3), for deactivations outside the LRs.
    this.cpuif.gicvDirTrapped = vm.design.lrOverflow;
    this.lrShadow = Array.from({ length: vm.config.nrLr }, emptyLr);
  }

  /** The SGI or PPI `intid` of this vCPU. */
  privateIrq(intid: number): KObj {
    return this.privateIrqs[intid] ?? this.makePrivateIrq(intid);
  }

  /** The private IRQs made so far; the others are as vgic_allocate_private_irqs left them (idle). */
  madePrivateIrqs(): KObj[] {
    return this.privateIrqs.filter((o): o is KObj => o !== undefined);
  }

  /** Reserves the private IRQs at boot (vgic_allocate_private_irqs). */
  reservePrivateIrqs(): void {
    for (let i = 0; i < VGIC_NR_PRIVATE_IRQS; i++)
      this.privatePlaces.push(this.vm.reserveIrq('vgic_allocate_private_irqs'));
  }

  private makePrivateIrq(intid: number): KObj {
    const irq = this.vm.newIrq(intid, 'vgic_allocate_private_irqs', this, null, this.privatePlaces[intid]);
    this.privateIrqs[intid] = irq;
    return irq;
  }

  /** A CPU-interface finding (F1–F8), listed like any other with the checker `arch` (docs/findings.md). */
  finding(fid: FindingId, text: string): void {
    this.vm.logEvent({ vcpu: this.id, what: 'finding', text: `${fid}: ${text}` });
    const title = `cpu-interface finding ${fid}: ${text.replace(/\d+/g, 'N')}`;
    const lines = [`vgic-lab: cpu-interface finding ${fid} on vCPU ${this.id}: ${text}`];
    this.vm.k.exec.report(
      new KReport('arch', title, false, lines, this.task ? [threadInfo(this.task)] : [], 'cpuif'),
    );
  }

  physDeactivate(pintid: number): void {
    physDeactivate(this.task, this, pintid);
  }

  /** Pointer value as KCSAN prints it. */
  get addr(): bigint {
    return this.obj.addr;
  }

  get name(): string {
    return `vCPU ${this.id}`;
  }
}

/** A private IRQ's reservation (`Vm.reserveIrq`). */
export interface IrqPlacement {
  readonly at: Placement;
  readonly lockId: number;
}

const IRQ_LOCK_NAME = '&irq->irq_lock';

/** The VM: `struct kvm` with its distributor, SPIs, LPI xarray and vCPUs. */
export class Vm {
  readonly obj: KObj;
  readonly configLock: Lock;
  readonly kvmLock: Lock;
  readonly spis: KObj[] = [];
  readonly vcpus: Vcpu[] = [];
  readonly lpiXa: XArray;
  /** Per physical CPU: the last vgic_irq placed in an LR by the latest flush (V3+). No reference in V3. */
  readonly lastLrIrq: (KObj | null)[];
  /** V4b: whether lastLrIrq holds a reference. */
  readonly lastLrPinned: boolean[];
  /** The PPI mapped to the vCPUs' virtual timer (HW = 1), if the scenario maps one. */
  timerIntid: number | null = null;
  /**
   * Physical SPIs that are active (taken by the host, not yet deactivated through a HW = 1 LR). A
   * physical PPI's active bit lives in its CPU's redistributor (Vcpu.phys).
   */
  readonly physActive = new Set<number>();
  readonly events: GuestEvent[] = [];
  /**
   * Interrupts the guest deactivated (EOI in EOImode 0, DIR) and has not re-activated since, keyed
   * "vcpu:intid" (SGIs and PPIs are banked per vCPU; SPIs use vCPU 0).
   */
  readonly guestDeactivated = new Set<string>();
  /**
   * P-STATE-WRITE: the last completed guest write to ISACTIVER, ICACTIVER or ICPENDR of each IRQ,
   * numbered in the same sequence as LR fills (`stateSeq`); `by` is the writing vCPU.
   */
  readonly stateWrites = new Map<
    KObj,
    { reg: 'ISACTIVER' | 'ICACTIVER' | 'ICPENDR'; seq: number; by: number }
  >();
  stateSeq = 0;
  /** P-HALT: kvm_arm_halt_guest calls that returned and whose resume has not begun. */
  haltsInForce = 0;

  ghostKey(v: Vcpu, intid: number): string {
    return `${intid < 32 ? v.id : 0}:${intid}`;
  }
  /** The ITS, when the VM has one. */
  its: import('./its.ts').Its | null = null;
  /** LPI configuration and pending tables in guest memory. */
  readonly lpiProps = new Map<number, { priority: number; enabled: boolean }>();
  readonly lpiPendingTable = new Set<number>();
  /** irqfds with a resample eventfd, by SPI pin. */
  readonly resamplers: import('./notify.ts').Resampler[] = [];
  private lpiLockKey = 'vgic_add_lpi';

  constructor(
    readonly k: Kernel,
    readonly config: VmConfig,
    /** Where vgic-lab's oracles judge the state (src/vgic/oracles.ts). */
    readonly checks: Checkpoints,
  ) {
    this.obj = k.alloc(KVM, 'kvm', { dist_enabled: 1, active_spis: 0 });
    this.kvmLock = initLock(k, 'mutex', this.obj, DIST.lock, 'kvm_create_vm', '&kvm->lock');
    this.configLock = initLock(
      k,
      'mutex',
      this.obj,
      DIST.configLock,
      'kvm_arch_init_vm',
      '&kvm->arch.config_lock',
    );
    // Lock classes register in the kernel's order: SPIs (dist init), then private IRQs, then LPIs.
    for (let i = 0; i < config.spis; i++) this.spis.push(this.newIrq(32 + i, 'kvm_vgic_dist_init', null));
    // Before v6.9 the LPIs were a list under the raw lpi_list_lock; the model keeps the index and
    // changes what guards it.
    this.lpiXa = config.design.rcuFreedLpis
      ? new XArray(k, 'lpi_xa', 'vgic_dist_lpi_xa')
      : new XArray(k, 'lpi_list', 'kvm_vgic_early_init', { kind: 'raw', name: '&dist->lpi_list_lock' });
    for (let v = 0; v < config.vcpus; v++) this.vcpus.push(new Vcpu(this, v));
    for (const v of this.vcpus) v.reservePrivateIrqs();
    for (const s of this.spis) poke(s, IRQ.target, this.vcpus[0]);
    if (config.gic === 2) for (const s of this.spis) poke(s, IRQ.targets, 1);
    this.lastLrIrq = new Array(config.vcpus).fill(null);
    this.lastLrPinned = new Array(config.vcpus).fill(false);
  }

  get design(): Design {
    return this.config.design;
  }

  /**
   * Reserves what allocating an IRQ at build time takes (its place on the heap, its location ids, its
   * lock class), for `newIrq` to make it later.
   */
  reserveIrq(lockKey: string): IrqPlacement {
    const at = this.k.reserve(VGIC_IRQ, false);
    this.k.lockdep.classFor(lockKey, IRQ_LOCK_NAME, 'raw');
    return { at, lockId: this.k.exec.newLocId() };
  }

  /**
   * Allocates an IRQ (at build time, or in a reservation). SGIs are edge and enabled, PPIs level, SPIs
   * edge; all group 1 in a GICv3 VM and group 0 in a GICv2 VM (as vgic_init sets them up).
   */
  newIrq(
    intid: number,
    lockKey: string,
    owner: Vcpu | null,
    by: Task | null = null,
    reserved?: IrqPlacement,
  ): KObj {
    const lpi = isLpi(intid);
    const level = intid >= 16 && intid < 32;
    const flags = (level ? F.CONFIG_LEVEL : 0) | (intid < 16 ? F.ENABLED : 0);
    const label = lpi
      ? `LPI ${intid}`
      : intid < 16
        ? `SGI ${intid}`
        : intid < 32
          ? `PPI ${intid}`
          : `SPI ${intid}`;
    const init = {
      intid,
      flags,
      priority: 0,
      group: this.config.gic === 2 ? 0 : 1,
      refcount: lpi ? 1 : 0,
      target_vcpu: owner,
      vcpu: null,
      owner: null,
    };
    const irq = reserved
      ? this.k.place(reserved.at, VGIC_IRQ, label, init, by, false)
      : this.k.alloc(VGIC_IRQ, label, init, by, lpi);
    const key = lpi ? this.lpiLockKey : lockKey;
    initLock(this.k, 'raw', irq, IRQ.lock, key, IRQ_LOCK_NAME, reserved?.lockId);
    initListHead(head(irq, 'ap_list'));
    return irq;
  }

  vcpuById(id: number): Vcpu {
    const v = this.vcpus[id];
    if (!v) throw new Error(`no vCPU ${id}`);
    return v;
  }

  logEvent(e: GuestEvent): void {
    this.events.push(e);
    if (this.k.exec.recording && e.what !== 'entry')
      this.k.exec.note(e.what === 'exit' ? e.text : `guest: ${e.text}`);
  }
}

/** The static object of a private IRQ or SPI; LPIs are looked up through the xarray. */
export function staticIrq(vm: Vm, v: Vcpu | null, intid: number): KObj | null {
  if (intid < VGIC_NR_PRIVATE_IRQS) return v ? v.privateIrq(intid) : null;
  if (intid < 32 + vm.spis.length) return vm.spis[intid - 32];
  return null;
}
