import { listFields } from '../kernel/list.ts';
import type { Lock } from '../kernel/locks.ts';
import { type KObj, StructType } from '../kernel/mem.ts';
import type { Vcpu } from './vm.ts';

/**
 * The model's byte layouts of the kernel structures, which reports print as offsets (`irq_lock` at 0,
 * `ap_list` at 72 = 0x48; a vgic_irq comes from kmalloc-256). Every field another thread can see is a
 * field here.
 */
export const VGIC_IRQ = new StructType('vgic_irq', 160, [
  { name: 'irq_lock', off: 0, size: 4 },
  { name: 'intid', off: 8, size: 4 },
  // The packed bitfield word (pending_release, pending_latch, config, line_level, enabled, active,
  // hw, on_lr): a write to any bit is a read-modify-write of the whole word.
  { name: 'flags', off: 12, size: 4 },
  { name: 'target_vcpu', off: 16 },
  { name: 'vcpu', off: 24 },
  { name: 'refcount', off: 32, size: 4 },
  { name: 'priority', off: 36, size: 1 },
  { name: 'group', off: 37, size: 1 },
  { name: 'source', off: 38, size: 1 },
  { name: 'active_source', off: 39, size: 1 },
  { name: 'hwintid', off: 40, size: 4 },
  // A union: GICv2's target mask, GICv3's mpidr (the model routes a GICv3 SPI by target_vcpu alone).
  { name: 'targets', off: 44, size: 4 },
  { name: 'owner', off: 48 },
  { name: 'ops', off: 56 },
  ...listFields('ap_list', 72),
  { name: 'rcu', off: 88, size: 16 },
]);

/** The fields of a vgic_irq with the type of what the model keeps in each. */
export const IRQ = {
  lock: VGIC_IRQ.field<Lock>('irq_lock'),
  intid: VGIC_IRQ.field<number>('intid'),
  flags: VGIC_IRQ.field<number>('flags'),
  target: VGIC_IRQ.field<Vcpu | null>('target_vcpu'),
  vcpu: VGIC_IRQ.field<Vcpu | null>('vcpu'),
  refcount: VGIC_IRQ.field<number>('refcount'),
  priority: VGIC_IRQ.field<number>('priority'),
  group: VGIC_IRQ.field<number>('group'),
  hwintid: VGIC_IRQ.field<number>('hwintid'),
  /** A GICv2 SGI's sources still pending (bit n: vCPU n sent it). */
  source: VGIC_IRQ.field<number>('source'),
  /** A GICv2 SGI's source in its active instance. */
  activeSource: VGIC_IRQ.field<number>('active_source'),
  /** A GICv2 SPI's ITARGETSR byte: the CPUs it may be routed to (KVM delivers to the lowest). */
  targets: VGIC_IRQ.field<number>('targets'),
  /** The irqfd or device that claimed the interrupt (vgic_irq.owner); compared, never followed. */
  owner: VGIC_IRQ.field<unknown>('owner'),
};

/** Bits of the flags word. */
export const F = {
  PENDING_RELEASE: 1,
  PENDING_LATCH: 2,
  CONFIG_LEVEL: 4,
  LINE_LEVEL: 8,
  ENABLED: 16,
  ACTIVE: 32,
  HW: 64,
  ON_LR: 128,
} as const;

/**
 * The physical GIC redistributor of a CPU, as far as HW-mapped interrupts need it: the active bits of
 * its PPIs. Hardware state, accessed like a device register (marked accesses).
 */
export const GICR_PHYS = new StructType('gicr_phys', 8, [{ name: 'active', size: 4 }]);
export const PHYS = { active: GICR_PHYS.field<number>('active') };

/** struct kvm_vcpu with its vgic_cpu: what other threads touch. */
export const KVM_VCPU = new StructType('kvm_vcpu', 512, [
  { name: 'ap_list_lock', off: 0, size: 4 },
  ...listFields('ap_list_head', 8),
  { name: 'ctlr', off: 24, size: 4 },
  { name: 'mode', off: 28, size: 4 },
  { name: 'requests', off: 32 },
  { name: 'pause', off: 40, size: 4 },
  { name: 'blocked', off: 44, size: 4 },
  { name: 'ipi', off: 48, size: 4 },
  { name: 'vmcr', off: 56 },
  { name: 'mutex', off: 64, size: 32 },
  ...listFields('overflow_ap_list_head', 96),
]);

export const VCPU = {
  apLock: KVM_VCPU.field<Lock>('ap_list_lock'),
  ctlr: KVM_VCPU.field<number>('ctlr'),
  mode: KVM_VCPU.field<number>('mode'),
  requests: KVM_VCPU.field<number>('requests'),
  pause: KVM_VCPU.field<number>('pause'),
  blocked: KVM_VCPU.field<number>('blocked'),
  ipi: KVM_VCPU.field<number>('ipi'),
  vmcr: KVM_VCPU.field<number>('vmcr'),
  mutex: KVM_VCPU.field<Lock>('mutex'),
};

/** struct kvm with its vgic_dist. */
export const KVM = new StructType('kvm', 1024, [
  { name: 'lock', off: 0, size: 32 },
  { name: 'config_lock', off: 32, size: 32 },
  { name: 'dist_enabled', off: 64, size: 1 },
  { name: 'active_spis', off: 68, size: 4 },
  { name: 'irq_srcu', off: 72, size: 8 },
]);

export const DIST = {
  lock: KVM.field<Lock>('lock'),
  configLock: KVM.field<Lock>('config_lock'),
  enabled: KVM.field<number>('dist_enabled'),
  activeSpis: KVM.field<number>('active_spis'),
};

/** struct vgic_its. */
export const VGIC_ITS = new StructType('vgic_its', 256, [
  { name: 'cmd_lock', off: 0, size: 32 },
  { name: 'its_lock', off: 32, size: 32 },
  { name: 'enabled', off: 64, size: 1 },
]);
export const ITS = {
  cmdLock: VGIC_ITS.field<Lock>('cmd_lock'),
  itsLock: VGIC_ITS.field<Lock>('its_lock'),
};

/** struct its_ite: one translation of (device, event) to an LPI. */
export const ITS_ITE = new StructType('its_ite', 48, [{ name: 'irq' }, { name: 'event_id', size: 4 }]);
export const ITE = { irq: ITS_ITE.field<KObj>('irq') };

/** The eventfd context of an irqfd (its wait-queue lock is a spinlock_t). */
export const EVENTFD_CTX = new StructType('eventfd_ctx', 64, [
  { name: 'wqh', size: 24 },
  { name: 'count', off: 24 },
]);
export const EVENTFD = {
  wqh: EVENTFD_CTX.field<Lock>('wqh'),
  count: EVENTFD_CTX.field<number>('count'),
};

export const VGIC_NR_PRIVATE_IRQS = 32;
export const VGIC_MAX_SPI = 1019;

export const MODE = { OUTSIDE: 0, IN_GUEST: 1, EXITING: 2 } as const;
export const MODE_NAMES = ['OUTSIDE_GUEST_MODE', 'IN_GUEST_MODE', 'EXITING_GUEST_MODE'];

export const REQ = { SLEEP: 1, IRQ_PENDING: 2, VGIC_PROCESS_UPDATE: 4 } as const;

export const GICR_CTLR = { ENABLE_LPIS: 1, RWP: 1 << 3 } as const;
