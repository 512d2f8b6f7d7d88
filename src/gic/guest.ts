import { SPURIOUS, type VCpuInterface } from './cpuif.ts';
import type { GicRegRead, GicRegWrite } from './regs.ts';

/**
 * Whom an SGI goes to: a list of vCPUs, every vCPU but the sender, or the sender itself (GICD_SGIR's
 * TargetListFilter 0, 1 and 2 on GICv2; ICC_SGI1R_EL1's target list and IRM on GICv3).
 */
export type SgiTargets = number[] | 'others' | 'self';

/**
 * Guest programs: sequences of guest actions on the virtual CPU interface and the trapped GIC
 * registers. `hvc` carries a request to the host (a hypercall-like exit to the VMM, as the selftests'
 * GUEST_SYNC); its payload is opaque here.
 */
export type GuestStep =
  | { op: 'ack'; group?: 0 | 1; expect?: number }
  /** `source`: a GICv2 SGI's sender (default: the sender of the last acknowledged instance). */
  | { op: 'eoi'; intid?: number; group?: 0 | 1; source?: number }
  | { op: 'dir'; intid?: number; source?: number }
  | { op: 'pmr'; value: number }
  | { op: 'eoimode'; value: 0 | 1 }
  | { op: 'igrpen'; group: 0 | 1; enable: boolean }
  | { op: 'apr'; group?: 0 | 1; value: number; or?: boolean }
  | { op: 'mask' }
  | { op: 'unmask' }
  | { op: 'wfi' }
  | { op: 'mmio'; write: GicRegWrite }
  | { op: 'read'; read: GicRegRead; expect: boolean }
  | { op: 'sgi'; intid: number; targets: SgiTargets }
  | { op: 'hvc'; call: unknown; expectError?: boolean }
  /** Take and handle interrupts (WFI, unmask, mask) until the handler has run `count` times. */
  | { op: 'handle'; count: number }
  /** Poll the IAR (WFI between reads) until it returns an interrupt; optionally check which. */
  | { op: 'poll'; group?: 0 | 1; expect?: number }
  | { op: 'expect'; apr?: number; iarEmpty?: boolean; handled?: number; received?: Record<number, number> }
  | { op: 'repeat'; times: number; body: GuestStep[] }
  /** WFI forever (an idle CPU that only runs its handler). */
  | { op: 'idle' };

/**
 * The IRQ handler a guest installs: `vgic` is the kernel's vgic_irq selftest's (H-VGIC in assertion
 * texts), `kut` kvm-unit-tests' (docs/model.md, Glossary).
 */
export type Handler =
  /** ack; check active and not pending (edge) or lower the line (level); EOI; APR == 0; DIR (EOImode 1); check idle. */
  | { kind: 'vgic'; level: boolean; lowerLine: (intid: number) => unknown }
  /** ack; EOI immediately; count. */
  | { kind: 'kut' }
  /** ack, EOI, and DIR when EOImode is 1. */
  | { kind: 'simple' };

/** One primitive guest instruction, executed by the vCPU's run loop against the CPU interface. */
export type GuestInsn =
  | { k: 'iar'; group: 0 | 1 }
  | { k: 'eoir'; group: 0 | 1; intid: number }
  | { k: 'dir'; intid: number }
  | { k: 'pmr'; value: number }
  | { k: 'ctlr'; eoimode: 0 | 1 }
  | { k: 'igrpen'; group: 0 | 1; on: boolean }
  | { k: 'apr_read'; group: 0 | 1 }
  | { k: 'apr_write'; group: 0 | 1; value: number }
  | { k: 'mask' }
  | { k: 'unmask' }
  | { k: 'wfi' }
  | { k: 'mmio_write'; w: GicRegWrite }
  | { k: 'mmio_read'; r: GicRegRead }
  | { k: 'sgi'; intid: number; targets: SgiTargets }
  | { k: 'hvc'; call: unknown }
  | { k: 'fail'; text: string };

type Prog = Generator<GuestInsn, void, unknown>;

/** What the instructions that return something return to the guest program. */
interface InsnResult {
  iar: number;
  apr_read: number;
  mmio_read: boolean;
  hvc: number;
}

/** Executes an instruction and hands its result to the program, typed by the instruction. */
function* exec<I extends GuestInsn & { k: keyof InsnResult }>(
  insn: I,
): Generator<GuestInsn, InsnResult[I['k']], unknown> {
  return (yield insn) as InsnResult[I['k']];
}

/** What the guest records, for expectations and oracles. */
export interface GuestLog {
  /** INTIDs acknowledged, in order (without a GICv2 SGI's source bits). */
  acks: number[];
  /** GICv2: the source CPU of each SGI acknowledged, in order (the IAR's CPUID field). */
  sgiSources: number[];
  handled: number;
  received: Map<number, number>;
}

/**
 * The guest of one vCPU: its program, its IRQ handler, PSTATE.I, and the counters the selftests keep.
 * `next` hands out primitive instructions; `complete` returns each one's result.
 */
export class GuestCpu {
  masked = true;
  readonly log: GuestLog = { acks: [], sgiSources: [], handled: 0, received: new Map() };
  private readonly stack: Prog[] = [];
  private pending: GuestInsn | null = null;
  private result: unknown = undefined;
  /** The register value of the last acknowledge (GICv2: an SGI's INTID with its source). */
  private last = SPURIOUS;
  /** GICv2: the source of the last acknowledged instance of each SGI, for EOI and DIR. */
  private readonly sourceOf = new Map<number, number>();
  /** Group 0 on a GICv2 VM (KVM sets every interrupt up in group 0), group 1 on GICv3. */
  private readonly group: 0 | 1;
  finished = false;

  constructor(
    readonly cpuif: VCpuInterface,
    program: readonly GuestStep[],
    readonly handler: Handler = { kind: 'simple' },
  ) {
    this.group = cpuif.version === 2 ? 0 : 1;
    this.stack.push(this.run(program));
  }

  /**
   * Records an acknowledge (the IAR's value) and returns its INTID; on GICv2 an SGI's source, from the
   * value's CPUID field, is logged and kept for its EOI and DIR.
   */
  private acked(value: number): number {
    const intid = this.cpuif.version === 2 ? value & 0x3ff : value;
    this.log.acks.push(intid);
    if (this.cpuif.version === 2 && intid < 16) {
      const src = (value >> 10) & 7;
      this.log.sgiSources.push(src);
      this.sourceOf.set(intid, src);
    }
    return intid;
  }

  /**
   * What an `eoi` or `dir` step writes: the last acknowledge's value, unless the step names an INTID
   * or (GICv2) a source.
   */
  private named(intid: number | undefined, source: number | undefined): number {
    if (intid === undefined && source === undefined) return this.last;
    const id = intid ?? (this.cpuif.version === 2 ? this.last & 0x3ff : this.last);
    return this.deactivation(id, source);
  }

  /** The value an EOI or DIR of `intid` writes: on GICv2 an SGI carries its source in [12:10]. */
  private deactivation(intid: number, source?: number): number {
    if (this.cpuif.version !== 2 || intid >= 16) return intid;
    return intid | ((source ?? this.sourceOf.get(intid) ?? 0) << 10);
  }

  /** Whether an IRQ (group 1) or FIQ (group 0) exception is taken at this instruction boundary. */
  exceptionGroup(): 0 | 1 | null {
    if (this.masked) return null;
    if (this.cpuif.line(1)) return 1;
    if (this.cpuif.line(0)) return 0;
    return null;
  }

  /** Enters the handler: exceptions mask IRQs; the return restores them. */
  takeException(group: 0 | 1): void {
    this.masked = true;
    const self = this;
    this.stack.push(
      (function* () {
        yield* self.handle(group);
        self.masked = false;
      })(),
    );
  }

  /** The next primitive instruction, or null when the program has ended. */
  next(): GuestInsn | null {
    if (this.pending) return this.pending;
    while (this.stack.length > 0) {
      const top = this.stack[this.stack.length - 1];
      const r = top.next(this.result);
      this.result = undefined;
      if (!r.done) {
        this.pending = r.value;
        return r.value;
      }
      this.stack.pop();
    }
    this.finished = true;
    return null;
  }

  /** Marks the pending instruction as executed with `result`. */
  complete(result: unknown = undefined): void {
    this.pending = null;
    this.result = result;
  }

  private *handle(group: 0 | 1): Prog {
    const h = this.handler;
    const value = yield* exec({ k: 'iar', group });
    // Nothing was acknowledged, so there is nothing to EOI; Linux's handler returns the same way.
    if (value === SPURIOUS) return;
    const intid = this.acked(value);
    if (h.kind === 'vgic') {
      if (!(yield* exec({ k: 'mmio_read', r: { reg: 'ISACTIVER', intid } }))) {
        yield { k: 'fail', text: `H-VGIC: INTID ${intid} is not active after its acknowledge` };
      }
      if (h.level) yield { k: 'hvc', call: h.lowerLine(intid) };
      else if (yield* exec({ k: 'mmio_read', r: { reg: 'ISPENDR', intid } })) {
        yield { k: 'fail', text: `H-VGIC: edge INTID ${intid} still pending after its acknowledge` };
      }
    }
    this.log.received.set(intid, (this.log.received.get(intid) ?? 0) + 1);
    this.log.handled++;
    yield { k: 'eoir', group, intid: value };
    if (h.kind === 'vgic') {
      const apr = yield* exec({ k: 'apr_read', group: this.group });
      if (apr !== 0)
        yield {
          k: 'fail',
          text: `H-VGIC: ${this.cpuif.version === 2 ? 'GICV_APR' : 'AP1R0'} is 0x${apr.toString(16)} after the EOI of ${intid}`,
        };
    }
    if (h.kind !== 'kut' && this.cpuif.vmcr.eoimode === 1) yield { k: 'dir', intid: value };
    if (h.kind === 'vgic') {
      if (yield* exec({ k: 'mmio_read', r: { reg: 'ISACTIVER', intid } })) {
        yield { k: 'fail', text: `H-VGIC: INTID ${intid} still active after its deactivation` };
      }
      if (yield* exec({ k: 'mmio_read', r: { reg: 'ISPENDR', intid } })) {
        yield { k: 'fail', text: `H-VGIC: INTID ${intid} pending again after its deactivation` };
      }
    }
  }

  private *run(steps: readonly GuestStep[]): Prog {
    for (const s of steps) yield* this.step(s);
  }

  private *step(s: GuestStep): Prog {
    switch (s.op) {
      case 'ack': {
        const value = yield* exec({ k: 'iar', group: s.group ?? this.group });
        this.last = value;
        const intid = value === SPURIOUS ? value : this.acked(value);
        if (s.expect !== undefined && intid !== s.expect) {
          yield { k: 'fail', text: `acknowledge returned ${intid}, expected ${s.expect}` };
        }
        return;
      }
      case 'eoi':
        yield { k: 'eoir', group: s.group ?? this.group, intid: this.named(s.intid, s.source) };
        return;
      case 'dir':
        yield { k: 'dir', intid: this.named(s.intid, s.source) };
        return;
      case 'pmr':
        yield { k: 'pmr', value: s.value };
        return;
      case 'eoimode':
        yield { k: 'ctlr', eoimode: s.value };
        return;
      case 'igrpen':
        yield { k: 'igrpen', group: s.group, on: s.enable };
        return;
      case 'apr': {
        const group = s.group ?? 1;
        let v = s.value;
        if (s.or) v |= yield* exec({ k: 'apr_read', group });
        yield { k: 'apr_write', group, value: v };
        return;
      }
      case 'mask':
        yield { k: 'mask' };
        return;
      case 'unmask':
        yield { k: 'unmask' };
        return;
      case 'wfi':
        yield { k: 'wfi' };
        return;
      case 'mmio':
        yield { k: 'mmio_write', w: s.write };
        return;
      case 'read': {
        const v = yield* exec({ k: 'mmio_read', r: s.read });
        if (v !== s.expect)
          yield {
            k: 'fail',
            text: `${s.read.reg} bit of ${s.read.intid} is ${v ? 1 : 0}, expected ${s.expect ? 1 : 0}`,
          };
        return;
      }
      case 'sgi':
        yield { k: 'sgi', intid: s.intid, targets: s.targets };
        return;
      case 'hvc': {
        const err = yield* exec({ k: 'hvc', call: s.call });
        if (s.expectError !== undefined && (err !== 0) !== s.expectError) {
          yield {
            k: 'fail',
            text: `host request ${JSON.stringify(s.call)} returned ${err}, expected ${s.expectError ? 'an error' : 'success'}`,
          };
        }
        return;
      }
      case 'handle':
        while (this.log.handled < s.count) {
          yield { k: 'wfi' };
          yield { k: 'unmask' };
          yield { k: 'mask' };
        }
        return;
      case 'poll': {
        for (;;) {
          yield { k: 'wfi' };
          const value = yield* exec({ k: 'iar', group: s.group ?? this.group });
          if (value === SPURIOUS) continue;
          this.last = value;
          const intid = this.acked(value);
          if (s.expect !== undefined && intid !== s.expect) {
            yield { k: 'fail', text: `acknowledge returned ${intid}, expected ${s.expect} (preemption)` };
          }
          return;
        }
      }
      case 'expect': {
        const apr = this.cpuif.version === 2 ? 'GICV_APR' : 'AP1R0';
        if (s.apr !== undefined) {
          const value = yield* exec({ k: 'apr_read', group: this.group });
          if (value !== s.apr)
            yield { k: 'fail', text: `${apr} is 0x${value.toString(16)}, expected 0x${s.apr.toString(16)}` };
        }
        if (s.iarEmpty) {
          const value = yield* exec({ k: 'iar', group: this.group });
          if (value !== SPURIOUS) {
            const intid = this.acked(value);
            const iar = this.cpuif.version === 2 ? 'GICV_IAR' : 'IAR1';
            yield { k: 'fail', text: `${iar} returned ${intid}, expected 1023 (nothing pending)` };
          }
        }
        if (s.handled !== undefined && this.log.handled !== s.handled) {
          yield { k: 'fail', text: `${this.log.handled} interrupts handled, expected ${s.handled}` };
        }
        for (const [id, n] of Object.entries(s.received ?? {})) {
          const got = this.log.received.get(Number(id)) ?? 0;
          if (got !== n) yield { k: 'fail', text: `INTID ${id} received ${got} times, expected ${n}` };
        }
        return;
      }
      case 'repeat':
        for (let i = 0; i < s.times; i++) yield* this.run(s.body);
        return;
      case 'idle':
        for (;;) {
          yield { k: 'unmask' };
          yield { k: 'wfi' };
        }
    }
  }
}
