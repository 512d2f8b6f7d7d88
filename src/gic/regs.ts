/**
 * Guest-visible distributor and redistributor registers that change interrupt state, as a trapped
 * access carries them (one INTID per access). The host side (vgic/mmio.ts) emulates them.
 */
export type GicRegWrite =
  | { reg: 'ISENABLER' | 'ICENABLER' | 'ISPENDR' | 'ICPENDR' | 'ISACTIVER' | 'ICACTIVER'; intid: number }
  | { reg: 'IPRIORITYR'; intid: number; value: number }
  | { reg: 'IGROUPR'; intid: number; value: 0 | 1 }
  | { reg: 'ICFGR'; intid: number; level: boolean }
  | { reg: 'IROUTER'; intid: number; vcpu: number | null }
  /** GICv2: the CPUs an SPI may go to (KVM delivers it to the lowest of them). */
  | { reg: 'ITARGETSR'; intid: number; targets: number[] }
  | { reg: 'GICD_CTLR'; enabled: boolean }
  | { reg: 'GICR_CTLR'; vcpu: number; enableLpis: boolean };

export type GicRegRead = { reg: 'ISACTIVER' | 'ISPENDR'; intid: number };
