/**
 * Unit tests for the GICv3 virtual CPU interface model (src/gic/cpuif.ts) and the LR helpers
 * (src/gic/lr.ts), rule by rule against the GICv3 architecture's virtual CPU interface (Arm IHI 0069).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  type CpuifSwitches,
  DEFAULT_CPUIF_SWITCHES,
  type FindingId,
  HCR,
  MIN_LPI,
  MISR,
  misrNames,
  SPURIOUS,
  VCpuInterface,
} from '../../src/gic/cpuif.ts';
import {
  copyLr,
  describeLr,
  emptyLr,
  LR_ACTIVE,
  LR_INVALID,
  LR_PENDING,
  LR_PENDING_ACTIVE,
  type Lr,
  lrActive,
  lrPending,
} from '../../src/gic/lr.ts';

interface Rig {
  c: VCpuInterface;
  findings: FindingId[];
  texts: string[];
  phys: number[];
}

/**
 * An interface as KVM runs it: En = 1, Group 1 enabled, PMR open (0xff), EOImode 0, minimum binary
 * points. Tests change whatever they need.
 */
function rig(nrLr = 4, switches: Partial<CpuifSwitches> = {}): Rig {
  const findings: FindingId[] = [];
  const texts: string[] = [];
  const phys: number[] = [];
  const c = new VCpuInterface(
    nrLr,
    { ...DEFAULT_CPUIF_SWITCHES, ...switches },
    {
      finding: (id, text) => {
        findings.push(id);
        texts.push(text);
      },
      physDeactivate: (p) => phys.push(p),
    },
  );
  c.hcr = HCR.En;
  c.vmcr.eng1 = true;
  c.vmcr.pmr = 0xff;
  return { c, findings, texts, phys };
}

/** Program LR `i` (fields not given keep a Group-1, HW = 0, EOI = 0 default). */
function setLr(c: VCpuInterface, i: number, f: Partial<Lr> & { vintid: number; state: number }): Lr {
  const lr = c.lrs[i];
  Object.assign(lr, { hw: false, group: 1, priority: 0xa0, pintid: 0, eoi: false }, f);
  return lr;
}

/** APR bit for a group priority (5 preemption bits: bit = priority >> 3). */
const aprBit = (prio: number) => 1 << (prio >> 3);

function snapshot(c: VCpuInterface) {
  return JSON.stringify({ lrs: c.lrs, apr0: c.apr0, apr1: c.apr1, eoicount: c.eoicount, vmcr: c.vmcr });
}

// ---------------------------------------------------------------------------------------------
describe('lr.ts helpers', () => {
  it('lrPending / lrActive read the state bits; emptyLr is Invalid; copyLr is a copy', () => {
    const states = [LR_INVALID, LR_PENDING, LR_ACTIVE, LR_PENDING_ACTIVE];
    assert.deepEqual(
      states.map((state) => lrPending({ ...emptyLr(), state })),
      [false, true, false, true],
    );
    assert.deepEqual(
      states.map((state) => lrActive({ ...emptyLr(), state })),
      [false, false, true, true],
    );
    const e = emptyLr();
    assert.deepEqual(e, {
      state: 0,
      hw: false,
      group: 0,
      priority: 0,
      pintid: 0,
      eoi: false,
      vintid: 0,
      cpuid: 0,
    });
    const a: Lr = { ...e, state: LR_ACTIVE, vintid: 40 };
    const b = copyLr(a);
    assert.deepEqual(b, a);
    b.state = LR_INVALID;
    assert.equal(a.state, LR_ACTIVE);
    assert.notEqual(emptyLr(), emptyLr());
  });

  it('describeLr names the fields', () => {
    assert.equal(describeLr(emptyLr()), '-');
    assert.equal(
      describeLr({
        state: LR_ACTIVE,
        hw: true,
        group: 1,
        priority: 0xa0,
        pintid: 27,
        eoi: false,
        vintid: 27,
        cpuid: 0,
      }),
      '27 active prio 0xa0 G1 HW p27',
    );
    assert.equal(describeLr({ ...emptyLr(), eoi: true, vintid: 40 }), '40 invalid prio 0x0 G0 EOI');
  });
});

// ---------------------------------------------------------------------------------------------
describe('interface state and reset', () => {
  it('reset state is all LRs Invalid, APRs 0, EOIcount 0, VMCR 0 (VENG0 = 0)', () => {
    const c = new VCpuInterface(4);
    assert.equal(c.lrs.length, 4);
    for (const lr of c.lrs) assert.deepEqual(lr, emptyLr());
    assert.equal(c.apr0, 0);
    assert.equal(c.apr1, 0);
    assert.equal(c.eoicount, 0);
    assert.deepEqual(c.vmcr, { eng0: false, eng1: false, eoimode: 0, cbpr: false, bpr0: 0, bpr1: 0, pmr: 0 });
    assert.equal(c.runningPriority(), 0xff);
    // LRs are independent objects.
    c.lrs[0].state = LR_PENDING;
    assert.equal(c.lrs[1].state, LR_INVALID);
  });

  it('nLR: every value in 1..16 is accepted on GICv3, 1..64 on GICv2, others rejected', () => {
    for (let n = 1; n <= 16; n++) assert.equal(new VCpuInterface(n).lrs.length, n);
    for (const bad of [0, 17, -1, 1.5, Number.NaN]) assert.throws(() => new VCpuInterface(bad), /nLR/);
    for (const n of [1, 17, 64]) assert.equal(new VCpuInterface(n, undefined, undefined, 2).lrs.length, n);
    for (const bad of [0, 65])
      assert.throws(() => new VCpuInterface(bad, undefined, undefined, 2), /1\.\.64 on GICv2/);
  });

  it('nLR: the 16th LR takes part in selection and in the status registers', () => {
    const { c } = rig(16);
    setLr(c, 15, { vintid: 99, state: LR_PENDING, priority: 0x10 });
    assert.equal(c.hppvi(), 15);
    assert.equal(c.elrsr(), 0x7fff);
    assert.equal(c.iar(1), 99);
    c.eoir(1, 99);
    c.lrs[15].eoi = true;
    assert.equal(c.eisr(), 1 << 15);
  });
});

// ---------------------------------------------------------------------------------------------
describe('derived quantities', () => {
  it('with the reset (below-minimum) BPRs both group masks are 0xF8', () => {
    const { c } = rig();
    c.vmcr.bpr0 = 0;
    c.vmcr.bpr1 = 0;
    assert.equal(c.groupMask(0), 0xf8);
    assert.equal(c.groupMask(1), 0xf8);
  });

  it('BPR0 below the minimum (7 - PREbits = 2) behaves as the minimum', () => {
    const { c } = rig();
    // Set in the VMCR as reset or a host restore leaves it: a guest write cannot store these.
    for (const b of [0, 1, 2]) {
      c.vmcr.bpr0 = b;
      assert.equal(c.groupMask(0), 0xf8, `bpr0=${b}`);
    }
  });

  it('BPR1 below the minimum (BPR0min + 1 = 3) behaves as the minimum', () => {
    const { c } = rig();
    for (const b of [0, 1, 2, 3]) {
      c.vmcr.bpr1 = b;
      assert.equal(c.groupMask(1), 0xf8, `bpr1=${b}`);
    }
  });

  it('Group 0 clears bits [BPR0:0]', () => {
    const { c } = rig();
    const want: Record<number, number> = { 3: 0xf0, 4: 0xe0, 5: 0xc0, 6: 0x80, 7: 0x00 };
    for (const [b, m] of Object.entries(want)) {
      c.writeBpr(0, Number(b));
      assert.equal(c.groupMask(0), m, `bpr0=${b}`);
    }
  });

  it('Group 1 clears bits [BPR1-1:0] and ignores BPR0', () => {
    const { c } = rig();
    c.writeBpr(0, 7);
    const want: Record<number, number> = { 4: 0xf0, 5: 0xe0, 6: 0xc0, 7: 0x80 };
    for (const [b, m] of Object.entries(want)) {
      c.writeBpr(1, Number(b));
      assert.equal(c.groupMask(1), m, `bpr1=${b}`);
    }
  });

  it('with VCBPR = 1 Group 1 uses the Group-0 calculation with VBPR0', () => {
    const { c } = rig();
    c.writeBpr(0, 4);
    c.writeBpr(1, 3);
    assert.equal(c.groupMask(1), 0xf8);
    c.setCtlr(0, true);
    assert.equal(c.groupMask(1), 0xe0);
    assert.equal(c.groupMask(0), 0xe0);
    c.vmcr.bpr0 = 0; // below minimum, still clamped under CBPR
    c.vmcr.bpr1 = 7;
    assert.equal(c.groupMask(1), 0xf8);
  });

  it('ICV_BPR0/1_EL1 read the reset (below-minimum) VMCR as the minimums 2 and 3', () => {
    const c = new VCpuInterface(4);
    assert.equal(c.readBpr(0), 2);
    assert.equal(c.readBpr(1), 3);
  });

  it('BPR writes below the minimum are clamped; BPR0 min 2, BPR1 min 3; only bits 2:0 count', () => {
    const { c } = rig();
    const want0 = [2, 2, 2, 3, 4, 5, 6, 7];
    const want1 = [3, 3, 3, 3, 4, 5, 6, 7];
    for (let v = 0; v < 8; v++) {
      c.writeBpr(0, v);
      c.writeBpr(1, v);
      assert.equal(c.readBpr(0), want0[v], `BPR0 <- ${v}`);
      assert.equal(c.readBpr(1), want1[v], `BPR1 <- ${v}`);
      assert.equal(c.vmcr.bpr0, want0[v], 'the clamped value is what VBPR0 holds');
      assert.equal(c.vmcr.bpr1, want1[v], 'the clamped value is what VBPR1 holds');
    }
    c.writeBpr(0, 0x8 | 5); // bits above BinaryPoint are RES0
    assert.equal(c.readBpr(0), 5);
    c.writeBpr(1, 0x8);
    assert.equal(c.readBpr(1), 3);
  });

  it('the two BPRs are independent while VCBPR = 0', () => {
    const { c } = rig();
    c.writeBpr(0, 6);
    c.writeBpr(1, 4);
    assert.equal(c.readBpr(0), 6);
    assert.equal(c.readBpr(1), 4);
    assert.equal(c.groupMask(0), 0x80);
    assert.equal(c.groupMask(1), 0xf0);
  });

  it('with VCBPR = 1 BPR1 reads as BPR0 + 1 saturating at 7, and writes to it are ignored', () => {
    const { c } = rig();
    c.writeBpr(1, 6);
    c.setCtlr(0, true);
    for (const [b0, b1] of [
      [2, 3],
      [4, 5],
      [6, 7],
      [7, 7],
    ]) {
      c.writeBpr(0, b0);
      assert.equal(c.readBpr(1), b1, `BPR0 = ${b0}`);
    }
    c.vmcr.bpr0 = 0; // reset value: BPR0 behaves as 2, so BPR1 reads 3
    assert.equal(c.readBpr(1), 3);
    c.writeBpr(0, 4);
    const mask = c.groupMask(1);
    c.writeBpr(1, 3);
    c.writeBpr(1, 7);
    assert.equal(c.vmcr.bpr1, 6, 'VBPR1 is not written through the alias');
    assert.equal(c.readBpr(1), 5);
    assert.equal(c.groupMask(1), mask);
    assert.equal(c.readBpr(0), 4, 'a BPR1 write never reaches BPR0');
    c.setCtlr(0, false);
    assert.equal(c.readBpr(1), 6, 'VBPR1 is back once CBPR is cleared');
  });

  it('running priority is 0xFF when no APR bit is set', () => {
    const { c } = rig();
    assert.equal(c.runningPriority(), 0xff);
  });

  it('running priority is the lowest set bit over APR0 | APR1, shifted by 8 - PREbits', () => {
    const { c } = rig();
    c.apr1 = aprBit(0x10);
    assert.equal(c.runningPriority(), 0x10);
    c.apr0 = 1 << 5;
    c.apr1 = 1 << 3;
    assert.equal(c.runningPriority(), 0x18);
    c.apr0 = 1 << 2;
    assert.equal(c.runningPriority(), 0x10);
    c.apr0 = 1;
    assert.equal(c.runningPriority(), 0x00);
    c.apr0 = 0;
    c.apr1 = (1 << 20) | (1 << 31);
    assert.equal(c.runningPriority(), 20 << 3);
  });

  it('APR bit 31 gives running priority 0xF8; readApr/writeApr round-trip unsigned', () => {
    const { c } = rig();
    c.writeApr(1, 0x80000000);
    assert.equal(c.readApr(1), 0x80000000);
    assert.equal(c.readApr(0), 0);
    assert.equal(c.runningPriority(), 0xf8);
    c.writeApr(0, 0x12);
    assert.equal(c.readApr(0), 0x12);
    assert.equal(c.apr0, 0x12);
    assert.equal(c.runningPriority(), 0x08);
  });

  it('low priority bits are ignored when comparing LR priorities', () => {
    const { c } = rig();
    // 0x17 and 0x10 both implement as 0x10: a tie, so the lower index wins.
    setLr(c, 0, { vintid: 40, state: LR_PENDING, priority: 0x17 });
    setLr(c, 1, { vintid: 41, state: LR_PENDING, priority: 0x10 });
    assert.equal(c.hppvi(), 0);
  });

  it('low PMR bits are ignored when masking', () => {
    const { c } = rig();
    setLr(c, 0, { vintid: 40, state: LR_PENDING, priority: 0x10 });
    c.vmcr.pmr = 0x17; // implements as 0x10: 0x10 is not < 0x10
    assert.equal(c.line(1), false);
    assert.equal(c.iar(1), SPURIOUS);
    c.vmcr.pmr = 0x18;
    assert.equal(c.line(1), true);
  });

  it('setPmr stores the value with the unimplemented bits cleared', () => {
    const { c } = rig();
    c.setPmr(0xff);
    assert.equal(c.vmcr.pmr, 0xf8);
    c.setPmr(0x87);
    assert.equal(c.vmcr.pmr, 0x80);
  });

  it('setCtlr changes EOImode and CBPR only; setGroupEnable sets VENG0/VENG1', () => {
    const { c } = rig();
    c.vmcr.pmr = 0x80;
    c.setCtlr(1, true);
    assert.equal(c.vmcr.eoimode, 1);
    assert.equal(c.vmcr.cbpr, true);
    c.setCtlr(0);
    assert.equal(c.vmcr.eoimode, 0);
    assert.equal(c.vmcr.cbpr, true, 'CBPR kept when not given');
    assert.equal(c.vmcr.pmr, 0x80);
    c.setGroupEnable(0, true);
    assert.equal(c.vmcr.eng0, true);
    c.setGroupEnable(1, false);
    assert.equal(c.vmcr.eng1, false);
    assert.equal(c.vmcr.eng0, true);
  });
});

// ---------------------------------------------------------------------------------------------
describe('HPPVI selection', () => {
  it('with VENG0 = VENG1 = 0 there is no HPPVI', () => {
    const { c } = rig();
    setLr(c, 0, { vintid: 40, state: LR_PENDING, priority: 0x10, group: 1 });
    setLr(c, 1, { vintid: 41, state: LR_PENDING, priority: 0x10, group: 0 });
    c.vmcr.eng0 = false;
    c.vmcr.eng1 = false;
    assert.equal(c.hppvi(), -1);
    assert.equal(c.hppir(0), SPURIOUS);
    assert.equal(c.hppir(1), SPURIOUS);
    assert.equal(c.line(0), false);
    assert.equal(c.line(1), false);
    assert.equal(c.iar(1), SPURIOUS);
    assert.equal(c.iar(0), SPURIOUS);
    assert.equal(c.lrs[0].state, LR_PENDING);
  });

  it('only State = Pending (01) LRs are candidates; Pending-and-Active (11) is not', () => {
    const { c } = rig();
    setLr(c, 0, { vintid: 40, state: LR_PENDING_ACTIVE, priority: 0x00 });
    setLr(c, 1, { vintid: 41, state: LR_ACTIVE, priority: 0x00 });
    setLr(c, 2, { vintid: 42, state: LR_PENDING, priority: 0x80 });
    setLr(c, 3, { vintid: 43, state: LR_INVALID, priority: 0x00 });
    assert.equal(c.hppvi(), 2);
    c.lrs[2].state = LR_INVALID;
    assert.equal(c.hppvi(), -1, 'a lone Pending-and-Active LR is no HPPVI');
  });

  it('a candidate of a disabled group is dropped and does not hide an enabled one', () => {
    const { c } = rig();
    c.vmcr.eng0 = false;
    c.vmcr.eng1 = true;
    setLr(c, 0, { vintid: 40, state: LR_PENDING, priority: 0x00, group: 0 });
    setLr(c, 1, { vintid: 41, state: LR_PENDING, priority: 0x80, group: 1 });
    assert.equal(c.hppvi(), 1);
    assert.equal(c.line(1), true);
    assert.equal(c.iar(1), 41);
  });

  it('Group 1 disabled, Group 0 enabled picks the Group-0 candidate', () => {
    const { c } = rig();
    c.vmcr.eng0 = true;
    c.vmcr.eng1 = false;
    setLr(c, 0, { vintid: 40, state: LR_PENDING, priority: 0x00, group: 1 });
    setLr(c, 1, { vintid: 41, state: LR_PENDING, priority: 0x80, group: 0 });
    assert.equal(c.hppvi(), 1);
    c.vmcr.eng1 = true;
    assert.equal(c.hppvi(), 0);
  });

  it('the numerically lowest priority wins, across groups', () => {
    const { c } = rig();
    c.vmcr.eng0 = true;
    setLr(c, 0, { vintid: 40, state: LR_PENDING, priority: 0x80 });
    setLr(c, 1, { vintid: 41, state: LR_PENDING, priority: 0x40 });
    setLr(c, 2, { vintid: 42, state: LR_PENDING, priority: 0x60, group: 0 });
    setLr(c, 3, { vintid: 43, state: LR_PENDING, priority: 0x48 });
    assert.equal(c.hppvi(), 1);
    c.lrs[2].priority = 0x38;
    assert.equal(c.hppvi(), 2);
  });

  it('ties keep the lowest LR index', () => {
    const { c } = rig();
    setLr(c, 0, { vintid: 40, state: LR_PENDING, priority: 0x80 });
    setLr(c, 1, { vintid: 41, state: LR_PENDING, priority: 0x40 });
    setLr(c, 2, { vintid: 42, state: LR_PENDING, priority: 0x80 });
    setLr(c, 3, { vintid: 43, state: LR_PENDING, priority: 0x40 });
    assert.equal(c.hppvi(), 1);
    c.lrs[1].state = LR_ACTIVE;
    assert.equal(c.hppvi(), 3);
  });

  it('an LR with priority 0xFF is never chosen', () => {
    const { c } = rig();
    setLr(c, 0, { vintid: 40, state: LR_PENDING, priority: 0xff });
    assert.equal(c.hppvi(), -1);
    setLr(c, 1, { vintid: 41, state: LR_PENDING, priority: 0xf8 });
    assert.equal(c.hppvi(), 1);
  });

  it('a Pending LR with vINTID 1020–1023 is not a candidate; F3 comes from validateLrs once', () => {
    for (const special of [1020, 1021, 1022, 1023]) {
      const { c, findings } = rig();
      setLr(c, 0, { vintid: special, state: LR_PENDING, priority: 0x00 });
      setLr(c, 1, { vintid: 41, state: LR_PENDING, priority: 0x80 });
      c.validateLrs();
      assert.deepEqual(findings, ['F3'], `vINTID ${special}`);
      // Selection runs at every instruction boundary; it must not repeat the entry finding.
      assert.equal(c.hppvi(), 1);
      assert.equal(c.line(1), true);
      assert.equal(c.hppir(1), 41);
      assert.equal(c.iar(1), 41);
      assert.equal(c.lrs[0].state, LR_PENDING, 'the special LR is left alone');
      c.eoir(1, 41);
      assert.equal(c.hppvi(), -1, 'the special LR stays out once it is the only pending one');
      assert.equal(c.iar(1), SPURIOUS);
      assert.deepEqual(findings, ['F3'], `vINTID ${special}`);
    }
  });

  it('HPPIR returns the HPPVI of its group without PMR/preemption checks and changes nothing', () => {
    const { c } = rig();
    setLr(c, 0, { vintid: 40, state: LR_PENDING, priority: 0x80 });
    c.vmcr.pmr = 0x00;
    c.apr1 = aprBit(0x00);
    const before = snapshot(c);
    assert.equal(c.hppir(1), 40);
    assert.equal(c.hppir(0), SPURIOUS);
    assert.equal(snapshot(c), before);
  });
});

// ---------------------------------------------------------------------------------------------
describe('signalling', () => {
  it('En = 0 means nothing is signalled or acknowledged', () => {
    const { c } = rig();
    setLr(c, 0, { vintid: 40, state: LR_PENDING, priority: 0x40 });
    c.hcr = 0;
    assert.equal(c.hppvi(), 0);
    assert.equal(c.line(1), false);
    assert.equal(c.iar(1), SPURIOUS);
    assert.equal(c.lrs[0].state, LR_PENDING);
    assert.equal(c.apr1, 0);
    c.hcr = HCR.En;
    assert.equal(c.line(1), true);
  });

  it('other HCR bits without En do not enable signalling', () => {
    const { c } = rig();
    setLr(c, 0, { vintid: 40, state: LR_PENDING, priority: 0x40 });
    c.hcr = 0xffff & ~HCR.En;
    assert.equal(c.line(1), false);
    c.hcr |= HCR.En;
    assert.equal(c.line(1), true);
  });

  it('PMR masking is strict (priority must be < PMR)', () => {
    const { c } = rig();
    setLr(c, 0, { vintid: 40, state: LR_PENDING, priority: 0x80 });
    c.vmcr.pmr = 0x80;
    assert.equal(c.line(1), false);
    assert.equal(c.iar(1), SPURIOUS);
    assert.equal(c.lrs[0].state, LR_PENDING);
    c.vmcr.pmr = 0x88;
    assert.equal(c.line(1), true);
    c.vmcr.pmr = 0x00; // reset PMR masks everything
    assert.equal(c.line(1), false);
  });

  it('priority 0xF8 can never pass even PMR = 0xFF', () => {
    const { c } = rig();
    setLr(c, 0, { vintid: 40, state: LR_PENDING, priority: 0xf8 });
    c.vmcr.pmr = 0xff;
    assert.equal(c.line(1), false);
    c.lrs[0].priority = 0xf0;
    assert.equal(c.line(1), true);
  });

  it('with an idle running priority the HPPVI is signalled', () => {
    const { c } = rig();
    setLr(c, 0, { vintid: 40, state: LR_PENDING, priority: 0xf0 });
    assert.equal(c.runningPriority(), 0xff);
    assert.equal(c.line(1), true);
  });

  it('preemption needs a strictly smaller group priority than the running priority', () => {
    const { c } = rig();
    c.apr1 = aprBit(0x40);
    setLr(c, 0, { vintid: 40, state: LR_PENDING, priority: 0x40 });
    assert.equal(c.line(1), false, 'equal priority does not preempt');
    assert.equal(c.iar(1), SPURIOUS);
    c.lrs[0].priority = 0x48;
    assert.equal(c.line(1), false, 'lower priority does not preempt');
    c.lrs[0].priority = 0x38;
    assert.equal(c.line(1), true, 'higher priority preempts');
    // The running priority can come from the other group's APR.
    c.apr1 = 0;
    c.apr0 = aprBit(0x30);
    assert.equal(c.line(1), false);
  });

  it('subpriority never preempts (comparison on the group-priority mask)', () => {
    const { c } = rig();
    c.apr1 = aprBit(0x48);
    setLr(c, 0, { vintid: 40, state: LR_PENDING, priority: 0x40 });
    assert.equal(c.line(1), true, 'minimum BPR: 0x40 < 0x48');
    c.writeBpr(1, 5); // mask 0xE0: both are group priority 0x40
    assert.equal(c.line(1), false);
    assert.equal(c.iar(1), SPURIOUS);
    c.lrs[0].priority = 0x38; // group priority 0x20 < 0x40
    assert.equal(c.line(1), true);
  });

  it('with VCBPR = 1 Group-1 preemption uses the Group-0 binary point', () => {
    const { c } = rig();
    c.apr1 = aprBit(0x48);
    c.writeBpr(0, 4); // Group-0 mask 0xE0
    c.writeBpr(1, 3); // Group-1 mask 0xF8
    setLr(c, 0, { vintid: 40, state: LR_PENDING, priority: 0x40 });
    assert.equal(c.line(1), true);
    c.setCtlr(0, true);
    assert.equal(c.line(1), false);
  });

  it('a Group-0 HPPVI is compared with its own (Group-0) mask', () => {
    const { c } = rig();
    c.vmcr.eng0 = true;
    c.apr0 = aprBit(0x48);
    c.writeBpr(0, 4); // Group-0 mask 0xE0
    c.writeBpr(1, 3);
    setLr(c, 0, { vintid: 40, state: LR_PENDING, priority: 0x40, group: 0 });
    assert.equal(c.line(0), false);
    c.writeBpr(0, 2);
    assert.equal(c.line(0), true);
  });

  it('line(group) follows the group of the HPPVI (vFIQ for Group 0, vIRQ for Group 1)', () => {
    const { c } = rig();
    c.vmcr.eng0 = true;
    setLr(c, 0, { vintid: 40, state: LR_PENDING, priority: 0x40, group: 1 });
    assert.equal(c.line(1), true);
    assert.equal(c.line(0), false);
    c.lrs[0].group = 0;
    assert.equal(c.line(0), true);
    assert.equal(c.line(1), false);
  });

  it('the line is re-evaluated from live state (deasserts after the acknowledge)', () => {
    const { c } = rig();
    setLr(c, 0, { vintid: 40, state: LR_PENDING, priority: 0x40 });
    setLr(c, 1, { vintid: 41, state: LR_PENDING, priority: 0x80 });
    assert.equal(c.line(1), true);
    assert.equal(c.iar(1), 40);
    assert.equal(c.line(1), false, '41 cannot preempt 40');
    c.eoir(1, 40);
    assert.equal(c.line(1), true);
    assert.equal(c.hppir(1), 41);
  });
});

// ---------------------------------------------------------------------------------------------
describe('acknowledge', () => {
  it('IAR1 moves Pending -> Active, sets the APR1 bit and returns the vINTID', () => {
    const { c } = rig();
    setLr(c, 2, { vintid: 40, state: LR_PENDING, priority: 0x40 });
    assert.equal(c.iar(1), 40);
    assert.equal(c.lrs[2].state, LR_ACTIVE);
    assert.equal(c.apr1, 1 << 8);
    assert.equal(c.apr0, 0);
    assert.equal(c.runningPriority(), 0x40);
  });

  it('IAR0 sets the bit in APR0, not APR1', () => {
    const { c } = rig();
    c.vmcr.eng0 = true;
    setLr(c, 0, { vintid: 33, state: LR_PENDING, priority: 0x18, group: 0 });
    assert.equal(c.iar(0), 33);
    assert.equal(c.lrs[0].state, LR_ACTIVE);
    assert.equal(c.apr0, 1 << 3);
    assert.equal(c.apr1, 0);
  });

  it('the APR bit is the group priority (subpriority bits cleared)', () => {
    const { c } = rig();
    c.writeBpr(1, 5); // mask 0xE0
    setLr(c, 0, { vintid: 40, state: LR_PENDING, priority: 0x58 });
    assert.equal(c.iar(1), 40);
    assert.equal(c.apr1, aprBit(0x40));
  });

  it('IAR returns 1023 and changes nothing when no LR is pending', () => {
    const { c } = rig();
    setLr(c, 0, { vintid: 40, state: LR_ACTIVE, priority: 0x40 });
    const before = snapshot(c);
    assert.equal(c.iar(1), SPURIOUS);
    assert.equal(c.iar(0), SPURIOUS);
    assert.equal(snapshot(c), before);
  });

  it('IAR of a Group-0 HPPVI through IAR1 returns 1023 and changes nothing', () => {
    const { c } = rig();
    c.vmcr.eng0 = true;
    setLr(c, 0, { vintid: 40, state: LR_PENDING, priority: 0x40, group: 0 });
    const before = snapshot(c);
    assert.equal(c.iar(1), SPURIOUS);
    assert.equal(snapshot(c), before);
    assert.equal(c.iar(0), 40);
  });

  it('IAR0 does not acknowledge a Group-1 HPPVI', () => {
    const { c } = rig();
    c.vmcr.eng0 = true;
    setLr(c, 0, { vintid: 40, state: LR_PENDING, priority: 0x40, group: 1 });
    const before = snapshot(c);
    assert.equal(c.iar(0), SPURIOUS);
    assert.equal(snapshot(c), before);
  });

  it('IAR returns 1023 when the HPPVI is masked by PMR or cannot preempt', () => {
    const { c } = rig();
    setLr(c, 0, { vintid: 40, state: LR_PENDING, priority: 0x40 });
    c.vmcr.pmr = 0x40;
    let before = snapshot(c);
    assert.equal(c.iar(1), SPURIOUS);
    assert.equal(snapshot(c), before);
    c.vmcr.pmr = 0xff;
    c.apr1 = aprBit(0x40);
    before = snapshot(c);
    assert.equal(c.iar(1), SPURIOUS);
    assert.equal(snapshot(c), before);
  });

  it('IAR1 returns 1023 when a Group-0 HPPVI hides a lower-priority Group-1 LR', () => {
    const { c } = rig();
    c.vmcr.eng0 = true;
    setLr(c, 0, { vintid: 40, state: LR_PENDING, priority: 0x40, group: 0 });
    setLr(c, 1, { vintid: 41, state: LR_PENDING, priority: 0x80, group: 1 });
    assert.equal(c.iar(1), SPURIOUS);
    assert.equal(c.lrs[1].state, LR_PENDING);
  });

  it('nested acknowledges set one APR bit each (higher priority preempts)', () => {
    const { c } = rig();
    setLr(c, 0, { vintid: 40, state: LR_PENDING, priority: 0x80 });
    assert.equal(c.iar(1), 40);
    setLr(c, 1, { vintid: 41, state: LR_PENDING, priority: 0x20 });
    assert.equal(c.iar(1), 41);
    assert.equal(c.apr1, aprBit(0x80) | aprBit(0x20));
    assert.equal(c.runningPriority(), 0x20);
  });

  it('an acknowledged interrupt cannot be acknowledged again; 11 becomes eligible only after deactivation', () => {
    const { c } = rig();
    setLr(c, 0, { vintid: 40, state: LR_PENDING, priority: 0x40 });
    assert.equal(c.iar(1), 40);
    assert.equal(c.iar(1), SPURIOUS);
    c.lrs[0].state = LR_PENDING_ACTIVE;
    c.apr1 = 0;
    assert.equal(c.iar(1), SPURIOUS, 'Pending and Active is not a candidate');
    c.vmcr.eoimode = 1;
    c.dir(40);
    assert.equal(c.lrs[0].state, LR_PENDING);
    assert.equal(c.iar(1), 40);
  });

  it('an LPI in an LR is acknowledged like any other interrupt', () => {
    const { c } = rig();
    setLr(c, 0, { vintid: MIN_LPI + 7, state: LR_PENDING, priority: 0xa0 });
    assert.equal(c.iar(1), MIN_LPI + 7);
    assert.equal(c.lrs[0].state, LR_ACTIVE);
    assert.equal(c.apr1, aprBit(0xa0));
  });
});

// ---------------------------------------------------------------------------------------------
describe('EOIR', () => {
  /** One acknowledged Group-1 interrupt 40 at priority 0x40 in LR 0. */
  function acked(switches: Partial<CpuifSwitches> = {}, eoimode: 0 | 1 = 0) {
    const r = rig(4, switches);
    r.c.vmcr.eoimode = eoimode;
    setLr(r.c, 0, { vintid: 40, state: LR_PENDING, priority: 0x40 });
    assert.equal(r.c.iar(1), 40);
    return r;
  }

  it('INTIDs 1020–1023 are ignored entirely (no priority drop)', () => {
    const { c } = acked();
    const before = snapshot(c);
    for (const id of [1020, 1021, 1022, 1023]) {
      assert.deepEqual(c.eoir(1, id), { lr: -1, counted: false, trapped: false });
      assert.deepEqual(c.eoir(0, id), { lr: -1, counted: false, trapped: false });
    }
    assert.equal(snapshot(c), before);
  });

  it('the priority drop clears only the lowest set APR bit', () => {
    const { c } = rig();
    c.apr1 = aprBit(0x40) | aprBit(0x60);
    c.apr0 = aprBit(0x80);
    c.eoir(1, 500);
    assert.equal(c.apr1, aprBit(0x60));
    assert.equal(c.apr0, aprBit(0x80));
    c.eoir(1, 500);
    assert.equal(c.apr1, 0);
    assert.equal(c.apr0, aprBit(0x80));
  });

  it('the drop is across APR0 and APR1, whatever the EOIR register group', () => {
    const { c } = rig();
    c.apr0 = aprBit(0x50);
    c.apr1 = aprBit(0x40);
    c.eoir(0, 500);
    assert.equal(c.apr1, 0, 'APR1 held the highest active priority');
    assert.equal(c.apr0, aprBit(0x50));
    c.apr1 = aprBit(0x60);
    c.eoir(1, 500);
    assert.equal(c.apr0, 0);
    assert.equal(c.apr1, aprBit(0x60));
  });

  it('the same lowest bit in APR0 and APR1 clears the Group-0 bit and raises F2', () => {
    const { c, findings } = rig();
    c.apr0 = aprBit(0x40);
    c.apr1 = aprBit(0x40) | aprBit(0x80);
    c.eoir(1, 500);
    assert.equal(c.apr0, 0);
    assert.equal(c.apr1, aprBit(0x40) | aprBit(0x80));
    assert.ok(findings.includes('F2'));
  });

  it('switch CPUIF_EOI_DROP_PREFERS_G1 clears the Group-1 bit instead', () => {
    const { c, findings } = rig(4, { CPUIF_EOI_DROP_PREFERS_G1: true });
    c.apr0 = aprBit(0x40);
    c.apr1 = aprBit(0x40);
    c.eoir(1, 500);
    assert.equal(c.apr0, aprBit(0x40));
    assert.equal(c.apr1, 0);
    assert.ok(findings.includes('F2'));
  });

  it('an EOIR with no active priority does nothing (no LR search, no EOIcount)', () => {
    const { c, findings } = rig();
    setLr(c, 0, { vintid: 40, state: LR_ACTIVE, priority: 0x40 });
    const before = snapshot(c);
    assert.deepEqual(c.eoir(1, 40), { lr: -1, counted: false, trapped: false });
    assert.deepEqual(c.eoir(1, 41), { lr: -1, counted: false, trapped: false });
    assert.equal(snapshot(c), before);
    assert.equal(c.lrs[0].state, LR_ACTIVE);
    assert.equal(c.eoicount, 0);
    assert.deepEqual(findings, []);
  });

  it('CPUIF_EOIR_WITHOUT_ACTIVE_PRIORITY=count increments EOIcount but never deactivates', () => {
    const { c } = rig(4, { CPUIF_EOIR_WITHOUT_ACTIVE_PRIORITY: 'count' });
    setLr(c, 0, { vintid: 40, state: LR_ACTIVE, priority: 0x40 });
    assert.deepEqual(c.eoir(1, 41), { lr: -1, counted: true, trapped: false });
    assert.equal(c.eoicount, 1);
    const r = c.eoir(1, 40);
    assert.equal(r.lr, -1);
    assert.equal(c.lrs[0].state, LR_ACTIVE);
    assert.equal(c.eoicount, 1);
    // EOImode 1 does not count.
    c.vmcr.eoimode = 1;
    assert.equal(c.eoir(1, 42).counted, false);
    assert.equal(c.eoicount, 1);
  });

  it('EOImode 0 deactivates a matching Active LR (Active -> Invalid) after the drop', () => {
    const { c, findings } = acked();
    assert.deepEqual(c.eoir(1, 40), { lr: 0, counted: false, trapped: false });
    assert.equal(c.lrs[0].state, LR_INVALID);
    assert.equal(c.apr1, 0);
    assert.equal(c.runningPriority(), 0xff);
    assert.equal(c.eoicount, 0);
    assert.deepEqual(findings, []);
  });

  it('EOImode 0 turns a matching Pending-and-Active LR into Pending', () => {
    const { c } = rig();
    setLr(c, 1, { vintid: 40, state: LR_PENDING_ACTIVE, priority: 0x40 });
    c.apr1 = aprBit(0x40);
    assert.deepEqual(c.eoir(1, 40), { lr: 1, counted: false, trapped: false });
    assert.equal(c.lrs[1].state, LR_PENDING);
    assert.equal(c.apr1, 0);
  });

  it('an LR with the INTID but without the Active bit is not a match', () => {
    const { c } = rig();
    setLr(c, 0, { vintid: 40, state: LR_PENDING, priority: 0x40 });
    c.apr1 = aprBit(0x40);
    assert.deepEqual(c.eoir(1, 40), { lr: -1, counted: true, trapped: false });
    assert.equal(c.lrs[0].state, LR_PENDING);
    assert.equal(c.eoicount, 1);
  });

  it('findActive takes the LR whose Active bit is set (Active or Pending and Active)', () => {
    const { c } = rig();
    setLr(c, 0, { vintid: 40, state: LR_PENDING });
    setLr(c, 1, { vintid: 41, state: LR_INVALID, eoi: true });
    setLr(c, 2, { vintid: 42, state: LR_PENDING_ACTIVE });
    setLr(c, 3, { vintid: 43, state: LR_ACTIVE });
    assert.deepEqual(
      [40, 41, 42, 43, 44].map((id) => c.findActive(id)),
      [-1, -1, 2, 3, -1],
    );
  });

  it('the LR is found by vINTID among several active LRs', () => {
    const { c } = rig();
    setLr(c, 0, { vintid: 41, state: LR_ACTIVE, priority: 0x40 });
    setLr(c, 2, { vintid: 40, state: LR_ACTIVE, priority: 0x40 });
    c.apr1 = aprBit(0x40);
    assert.equal(c.eoir(1, 40).lr, 2);
    assert.equal(c.lrs[0].state, LR_ACTIVE);
    assert.equal(c.lrs[2].state, LR_INVALID);
  });

  it('no LR, EOImode 0, non-LPI: EOIcount += 1 and the priority is still dropped', () => {
    const { c } = rig();
    c.apr1 = aprBit(0x40);
    for (const id of [0, 15, 27, 40, 1019, 1024, 8191]) {
      c.apr1 = aprBit(0x40);
      const before = c.eoicount;
      assert.deepEqual(c.eoir(1, id), { lr: -1, counted: true, trapped: false }, `intid ${id}`);
      assert.equal(c.eoicount, before + 1);
      assert.equal(c.apr1, 0);
    }
    assert.equal(c.eoicount, 7);
  });

  it('no LR with EOImode 1 drops the priority but does not count', () => {
    const { c } = rig();
    c.vmcr.eoimode = 1;
    c.apr1 = aprBit(0x40);
    assert.deepEqual(c.eoir(1, 40), { lr: -1, counted: false, trapped: false });
    assert.equal(c.apr1, 0);
    assert.equal(c.eoicount, 0);
  });

  it('an EOIR of an LPI outside the LRs only drops priority, whatever EOImode', () => {
    for (const eoimode of [0, 1] as const) {
      const { c } = rig();
      c.vmcr.eoimode = eoimode;
      c.apr1 = aprBit(0x40);
      assert.deepEqual(c.eoir(1, MIN_LPI), { lr: -1, counted: false, trapped: false });
      assert.equal(c.apr1, 0);
      assert.equal(c.eoicount, 0, `EOImode ${eoimode}`);
    }
  });

  it('EOImode 1 leaves a matching non-LPI LR Active (awaiting DIR) and does not count', () => {
    const { c, findings } = acked({}, 1);
    assert.deepEqual(c.eoir(1, 40), { lr: -1, counted: false, trapped: false });
    assert.equal(c.lrs[0].state, LR_ACTIVE);
    assert.equal(c.apr1, 0, 'priority dropped');
    assert.equal(c.eoicount, 0);
    assert.deepEqual(findings, []);
    // Then DIR deactivates it.
    assert.equal(c.dir(40).lr, 0);
    assert.equal(c.lrs[0].state, LR_INVALID);
  });

  it('an in-LR LPI is deactivated by EOIR whatever EOImode, and never counted', () => {
    for (const eoimode of [0, 1] as const) {
      const { c } = rig();
      c.vmcr.eoimode = eoimode;
      setLr(c, 0, { vintid: MIN_LPI + 3, state: LR_PENDING, priority: 0x60 });
      assert.equal(c.iar(1), MIN_LPI + 3);
      assert.deepEqual(c.eoir(1, MIN_LPI + 3), { lr: 0, counted: false, trapped: false });
      assert.equal(c.lrs[0].state, LR_INVALID, `EOImode ${eoimode}`);
      assert.equal(c.apr1, 0);
      assert.equal(c.eoicount, 0);
    }
  });

  it('F1: a group mismatch raises F1, drops priority and does not deactivate', () => {
    const { c, findings } = acked();
    assert.deepEqual(c.eoir(0, 40), { lr: -1, counted: false, trapped: false });
    assert.equal(c.lrs[0].state, LR_ACTIVE);
    assert.equal(c.apr1, 0);
    assert.equal(c.eoicount, 0);
    assert.deepEqual(findings, ['F1']);
  });

  it('F1: a group-priority mismatch raises F1 and does not deactivate', () => {
    const { c, findings } = rig();
    setLr(c, 0, { vintid: 40, state: LR_ACTIVE, priority: 0x40 });
    c.apr1 = aprBit(0x30) | aprBit(0x40); // the drop clears 0x30, not the LR's 0x40
    assert.deepEqual(c.eoir(1, 40), { lr: -1, counted: false, trapped: false });
    assert.equal(c.lrs[0].state, LR_ACTIVE);
    assert.equal(c.apr1, aprBit(0x40));
    assert.equal(c.eoicount, 0);
    assert.deepEqual(findings, ['F1']);
  });

  it('the LR priority is compared as a group priority (subpriority ignored)', () => {
    const { c, findings } = rig();
    c.writeBpr(1, 5); // mask 0xE0
    setLr(c, 0, { vintid: 40, state: LR_PENDING, priority: 0x58 });
    assert.equal(c.iar(1), 40);
    assert.equal(c.eoir(1, 40).lr, 0);
    assert.equal(c.lrs[0].state, LR_INVALID);
    assert.deepEqual(findings, []);
  });

  it('switch CPUIF_EOIR_MATCH_INTID_ONLY deactivates on the INTID alone (F1 still raised)', () => {
    const { c, findings } = acked({ CPUIF_EOIR_MATCH_INTID_ONLY: true });
    assert.equal(c.eoir(0, 40).lr, 0);
    assert.equal(c.lrs[0].state, LR_INVALID);
    assert.deepEqual(findings, ['F1']);
  });

  it('F1: a group mismatch with EOImode 1 also raises F1 (the LR stays Active)', () => {
    const { c, findings } = acked({}, 1);
    c.eoir(0, 40);
    assert.equal(c.lrs[0].state, LR_ACTIVE);
    assert.equal(c.apr1, 0);
    assert.deepEqual(findings, ['F1']);
  });

  it('nested acknowledges EOI in reverse order back to idle', () => {
    const { c, findings } = rig();
    setLr(c, 0, { vintid: 40, state: LR_PENDING, priority: 0x80 });
    assert.equal(c.iar(1), 40);
    setLr(c, 1, { vintid: 41, state: LR_PENDING, priority: 0x20 });
    assert.equal(c.iar(1), 41);
    assert.equal(c.eoir(1, 41).lr, 1);
    assert.equal(c.runningPriority(), 0x80);
    assert.equal(c.lrs[0].state, LR_ACTIVE);
    assert.equal(c.eoir(1, 40).lr, 0);
    assert.equal(c.runningPriority(), 0xff);
    assert.deepEqual(
      c.lrs.map((l) => l.state),
      [0, 0, 0, 0],
    );
    assert.deepEqual(findings, []);
  });

  it('an EOI-pending LR (HW 0, EOI 1) becomes visible in EISR after the EOIR deactivates it', () => {
    const { c } = rig();
    setLr(c, 1, { vintid: 40, state: LR_PENDING, priority: 0x40, eoi: true });
    assert.equal(c.eisr(), 0);
    assert.equal(c.iar(1), 40);
    assert.equal(c.eisr(), 0);
    c.eoir(1, 40);
    assert.equal(c.eisr(), 1 << 1);
    assert.equal(c.elrsr() & (1 << 1), 0);
    assert.ok(c.misr() & MISR.EOI);
  });

  it('switch CPUIF_EOIR_COUNTS_IN_EOIMODE1 counts unmatched non-LPI EOIRs in EOImode 1 (not LPIs)', () => {
    const { c } = rig(4, { CPUIF_EOIR_COUNTS_IN_EOIMODE1: true });
    c.vmcr.eoimode = 1;
    c.apr1 = aprBit(0x40);
    assert.deepEqual(c.eoir(1, 40), { lr: -1, counted: true, trapped: false });
    assert.equal(c.eoicount, 1);
    c.apr1 = aprBit(0x40);
    assert.equal(c.eoir(1, MIN_LPI + 1).counted, false);
    assert.equal(c.eoicount, 1);
    // A matching LR in EOImode 1 is still neither deactivated nor counted.
    setLr(c, 0, { vintid: 41, state: LR_ACTIVE, priority: 0x40 });
    c.apr1 = aprBit(0x40);
    assert.deepEqual(c.eoir(1, 41), { lr: -1, counted: false, trapped: false });
    assert.equal(c.lrs[0].state, LR_ACTIVE);
    assert.equal(c.eoicount, 1);
  });
});

// ---------------------------------------------------------------------------------------------
describe('DIR', () => {
  function activeEoimode1() {
    const r = rig();
    r.c.vmcr.eoimode = 1;
    setLr(r.c, 0, { vintid: 40, state: LR_ACTIVE, priority: 0x40 });
    return r;
  }

  it('DIR traps when HCR.TDIR is set and changes nothing', () => {
    const { c, findings } = activeEoimode1();
    c.hcr |= HCR.TDIR;
    const before = snapshot(c);
    assert.deepEqual(c.dir(40), { lr: -1, counted: false, trapped: true });
    assert.deepEqual(c.dir(41), { lr: -1, counted: false, trapped: true });
    assert.equal(snapshot(c), before);
    assert.deepEqual(findings, []);
  });

  it('DIR traps when HCR.TC is set and changes nothing', () => {
    const { c } = activeEoimode1();
    c.hcr |= HCR.TC;
    const before = snapshot(c);
    assert.deepEqual(c.dir(40), { lr: -1, counted: false, trapped: true });
    assert.equal(snapshot(c), before);
  });

  it('TALL0/TALL1 do not trap DIR', () => {
    const { c } = activeEoimode1();
    c.hcr |= HCR.TALL0 | HCR.TALL1;
    assert.deepEqual(c.dir(40), { lr: 0, counted: false, trapped: false });
    assert.equal(c.lrs[0].state, LR_INVALID);
  });

  it('dirUntrapped is the untrapped behaviour even with TDIR set', () => {
    const { c } = activeEoimode1();
    c.hcr |= HCR.TDIR;
    assert.deepEqual(c.dirUntrapped(40), { lr: 0, counted: false, trapped: false });
    assert.equal(c.lrs[0].state, LR_INVALID);
  });

  it('F7: DIR with EOImode 0 is ignored and raises F7', () => {
    const { c, findings } = activeEoimode1();
    c.vmcr.eoimode = 0;
    const before = snapshot(c);
    assert.deepEqual(c.dir(40), { lr: -1, counted: false, trapped: false });
    assert.deepEqual(c.dir(41), { lr: -1, counted: false, trapped: false }, 'no EOIcount either');
    assert.equal(snapshot(c), before);
    assert.deepEqual(findings, ['F7', 'F7']);
  });

  it('DIR with INTID >= 1020 (special or LPI) is ignored and never counted', () => {
    const { c } = activeEoimode1();
    setLr(c, 1, { vintid: MIN_LPI, state: LR_ACTIVE, priority: 0x40 });
    const before = snapshot(c);
    for (const id of [1020, 1021, 1022, 1023, MIN_LPI, MIN_LPI + 1]) {
      assert.deepEqual(c.dir(id), { lr: -1, counted: false, trapped: false }, `intid ${id}`);
    }
    assert.equal(snapshot(c), before);
    assert.equal(c.lrs[1].state, LR_ACTIVE);
  });

  it('DIR deactivates a matching Active LR without touching the APRs or checking group/priority', () => {
    const { c, findings } = rig();
    c.vmcr.eoimode = 1;
    c.vmcr.eng0 = true;
    setLr(c, 2, { vintid: 40, state: LR_ACTIVE, priority: 0x80, group: 0 });
    c.apr1 = aprBit(0x10);
    assert.deepEqual(c.dir(40), { lr: 2, counted: false, trapped: false });
    assert.equal(c.lrs[2].state, LR_INVALID);
    assert.equal(c.apr1, aprBit(0x10));
    assert.equal(c.apr0, 0);
    assert.equal(c.eoicount, 0);
    assert.deepEqual(findings, []);
  });

  it('DIR turns Pending-and-Active into Pending', () => {
    const { c } = activeEoimode1();
    c.lrs[0].state = LR_PENDING_ACTIVE;
    assert.equal(c.dir(40).lr, 0);
    assert.equal(c.lrs[0].state, LR_PENDING);
  });

  it('DIR with no matching Active LR increments EOIcount', () => {
    const { c } = activeEoimode1();
    setLr(c, 1, { vintid: 41, state: LR_PENDING, priority: 0x40 });
    assert.deepEqual(c.dir(41), { lr: -1, counted: true, trapped: false }, 'a Pending LR is no match');
    assert.equal(c.lrs[1].state, LR_PENDING);
    assert.deepEqual(c.dir(1019), { lr: -1, counted: true, trapped: false });
    assert.equal(c.eoicount, 2);
    assert.equal(c.lrs[0].state, LR_ACTIVE);
  });

  it('DIR of an EOI-requesting LR makes it EOI-pending (EISR set, ELRSR clear)', () => {
    const { c } = activeEoimode1();
    c.lrs[0].eoi = true;
    c.dir(40);
    assert.equal(c.eisr(), 1);
    assert.equal(c.elrsr() & 1, 0);
  });
});

// ---------------------------------------------------------------------------------------------
describe('EOIcount', () => {
  it('EOIcount wraps modulo 32 on an EOIR, raising F6 on the wrap', () => {
    const { c, findings } = rig();
    c.eoicount = 30;
    c.apr1 = aprBit(0x40);
    c.eoir(1, 40);
    assert.equal(c.eoicount, 31);
    assert.deepEqual(findings, []);
    c.apr1 = aprBit(0x40);
    assert.equal(c.eoir(1, 40).counted, true);
    assert.equal(c.eoicount, 0);
    assert.deepEqual(findings, ['F6']);
    c.apr1 = aprBit(0x40);
    c.eoir(1, 40);
    assert.equal(c.eoicount, 1);
    assert.deepEqual(findings, ['F6']);
  });

  it('EOIcount wraps modulo 32 on a DIR, raising F6', () => {
    const { c, findings } = rig();
    c.vmcr.eoimode = 1;
    c.eoicount = 31;
    assert.equal(c.dir(40).counted, true);
    assert.equal(c.eoicount, 0);
    assert.deepEqual(findings, ['F6']);
  });

  it('32 unmatched EOIRs from 0 come back to 0', () => {
    const { c } = rig();
    for (let n = 0; n < 32; n++) {
      c.apr1 = aprBit(0x40);
      c.eoir(1, 40);
    }
    assert.equal(c.eoicount, 0);
  });

  it('switch CPUIF_EOICOUNT_SATURATES saturates at 31', () => {
    const { c } = rig(4, { CPUIF_EOICOUNT_SATURATES: true });
    c.eoicount = 30;
    c.apr1 = aprBit(0x40);
    c.eoir(1, 40);
    assert.equal(c.eoicount, 31);
    c.apr1 = aprBit(0x40);
    c.eoir(1, 40);
    assert.equal(c.eoicount, 31);
    c.vmcr.eoimode = 1;
    c.dir(40);
    assert.equal(c.eoicount, 31);
  });
});

// ---------------------------------------------------------------------------------------------
describe('HW = 1', () => {
  function hwActive(pintid: number, eoimode: 0 | 1) {
    const r = rig();
    r.c.vmcr.eoimode = eoimode;
    setLr(r.c, 0, { vintid: 27, state: LR_PENDING, priority: 0x40, hw: true, pintid });
    assert.equal(r.c.iar(1), 27);
    return r;
  }

  it('EOIR (EOImode 0) of a HW LR deactivates pINTID through the callback', () => {
    const { c, phys, findings } = hwActive(30, 0);
    assert.deepEqual(phys, []);
    assert.equal(c.eoir(1, 27).lr, 0);
    assert.equal(c.lrs[0].state, LR_INVALID);
    assert.deepEqual(phys, [30]);
    assert.deepEqual(findings, []);
  });

  it('DIR (EOImode 1) of a HW LR deactivates pINTID; the EOIR before it does not', () => {
    const { c, phys } = hwActive(27, 1);
    c.eoir(1, 27);
    assert.deepEqual(phys, [], 'priority drop only');
    assert.equal(c.dir(27).lr, 0);
    assert.deepEqual(phys, [27]);
  });

  it('a trapped DIR does not deactivate the physical interrupt', () => {
    const { c, phys } = hwActive(27, 1);
    c.eoir(1, 27);
    c.hcr |= HCR.TDIR;
    assert.equal(c.dir(27).trapped, true);
    assert.deepEqual(phys, []);
    assert.equal(c.lrs[0].state, LR_ACTIVE);
  });

  it('F4: pINTID < 16 raises F4 and skips the physical deactivation', () => {
    const { c, phys, findings } = hwActive(5, 0);
    assert.equal(c.eoir(1, 27).lr, 0);
    assert.equal(c.lrs[0].state, LR_INVALID);
    assert.deepEqual(phys, []);
    assert.deepEqual(findings, ['F4']);
  });

  it('F4: pINTID >= 1020 raises F4 and skips the physical deactivation', () => {
    const { c, phys, findings } = hwActive(1020, 1);
    c.eoir(1, 27);
    c.dir(27);
    assert.deepEqual(phys, []);
    assert.deepEqual(findings, ['F4']);
  });

  it('a HW = 0 LR never calls the physical-deactivate callback', () => {
    const { c, phys } = rig();
    setLr(c, 0, { vintid: 27, state: LR_PENDING, priority: 0x40, hw: false, pintid: 27 });
    c.iar(1);
    c.eoir(1, 27);
    assert.equal(c.lrs[0].state, LR_INVALID);
    assert.deepEqual(phys, []);
  });

  it('a HW LR never sets EISR and sets ELRSR as soon as it is Invalid', () => {
    const { c } = hwActive(30, 0);
    c.lrs[0].eoi = true; // meaningless with HW = 1
    assert.equal(c.elrsr() & 1, 0);
    c.eoir(1, 27);
    assert.equal(c.eisr(), 0);
    assert.equal(c.elrsr() & 1, 1);
  });
});

// ---------------------------------------------------------------------------------------------
describe('maintenance status', () => {
  it('EISR bit n iff LR n is Invalid, HW = 0 and EOI = 1', () => {
    const { c } = rig();
    setLr(c, 0, { vintid: 40, state: LR_INVALID, eoi: true });
    setLr(c, 1, { vintid: 41, state: LR_INVALID, eoi: false });
    setLr(c, 2, { vintid: 42, state: LR_INVALID, eoi: true, hw: true, pintid: 42 });
    setLr(c, 3, { vintid: 43, state: LR_ACTIVE, eoi: true });
    assert.equal(c.eisr(), 0b0001);
    for (const s of [LR_PENDING, LR_ACTIVE, LR_PENDING_ACTIVE]) {
      c.lrs[0].state = s;
      assert.equal(c.eisr(), 0, `state ${s}`);
    }
  });

  it('ELRSR bit n iff LR n is Invalid AND (HW = 1 OR EOI = 0); an EOI-pending LR is not empty', () => {
    const { c } = rig();
    setLr(c, 0, { vintid: 40, state: LR_INVALID, eoi: true });
    setLr(c, 1, { vintid: 41, state: LR_INVALID, eoi: false });
    setLr(c, 2, { vintid: 42, state: LR_INVALID, eoi: true, hw: true, pintid: 42 });
    setLr(c, 3, { vintid: 43, state: LR_PENDING });
    assert.equal(c.elrsr(), 0b0110);
    for (const s of [LR_PENDING, LR_ACTIVE, LR_PENDING_ACTIVE]) {
      c.lrs[1].state = s;
      assert.equal(c.elrsr() & 0b0010, 0, `state ${s}`);
    }
  });

  it('every LR of a reset interface is empty', () => {
    const { c } = rig(7);
    assert.equal(c.elrsr(), 0x7f);
    assert.equal(c.eisr(), 0);
  });

  it('switch CPUIF_ELRSR_IGNORES_EOI counts an EOI-pending LR as empty', () => {
    const { c } = rig(4, { CPUIF_ELRSR_IGNORES_EOI: true });
    setLr(c, 0, { vintid: 40, state: LR_INVALID, eoi: true });
    setLr(c, 1, { vintid: 41, state: LR_ACTIVE });
    setLr(c, 2, { vintid: 42, state: LR_PENDING, eoi: true });
    assert.equal(c.elrsr(), 0b1001);
    assert.equal(c.eisr(), 0b0001, 'EISR is unaffected');
  });

  it('MISR is 0 with all enables off and no EOI-pending LR', () => {
    const { c } = rig();
    c.hcr = HCR.En;
    c.eoicount = 5;
    c.vmcr.eng0 = true;
    assert.equal(c.misr(), 0);
  });

  it('EOI: set iff EISR != 0 (no enable bit needed), cleared when the host rewrites the LR', () => {
    const { c } = rig();
    c.hcr = 0;
    assert.equal(c.misr() & MISR.EOI, 0);
    setLr(c, 2, { vintid: 40, state: LR_INVALID, eoi: true });
    assert.equal(c.misr() & MISR.EOI, MISR.EOI);
    c.lrs[2] = { ...emptyLr() };
    assert.equal(c.misr() & MISR.EOI, 0);
  });

  it('U: set iff UIE and at most one LR has State != 00', () => {
    const { c } = rig();
    c.hcr = HCR.En | HCR.UIE;
    assert.equal(c.misr() & MISR.U, MISR.U, 'no valid LR');
    setLr(c, 0, { vintid: 40, state: LR_ACTIVE });
    assert.equal(c.misr() & MISR.U, MISR.U, 'one valid LR');
    setLr(c, 1, { vintid: 41, state: LR_PENDING_ACTIVE });
    assert.equal(c.misr() & MISR.U, 0, 'two valid LRs');
    c.lrs[1].state = LR_INVALID;
    c.lrs[1].eoi = true; // EOI-pending LRs have State 00: not valid (the Arm reading)
    assert.equal(c.misr() & MISR.U, MISR.U);
    c.hcr = HCR.En;
    assert.equal(c.misr() & MISR.U, 0, 'UIE = 0');
  });

  it('switch CPUIF_U_FROM_ELRSR counts EOI-pending LRs as used', () => {
    const { c } = rig(4, { CPUIF_U_FROM_ELRSR: true });
    c.hcr = HCR.En | HCR.UIE;
    assert.equal(c.misr() & MISR.U, MISR.U);
    setLr(c, 0, { vintid: 40, state: LR_ACTIVE });
    setLr(c, 1, { vintid: 41, state: LR_INVALID, eoi: true });
    assert.equal(c.misr() & MISR.U, 0);
    c.lrs[1].eoi = false;
    assert.equal(c.misr() & MISR.U, MISR.U);
  });

  it('LRENP: set iff LRENPIE and EOIcount != 0', () => {
    const { c } = rig();
    c.hcr = HCR.En | HCR.LRENPIE;
    assert.equal(c.misr() & MISR.LRENP, 0);
    c.eoicount = 1;
    assert.equal(c.misr() & MISR.LRENP, MISR.LRENP);
    c.hcr = HCR.En;
    assert.equal(c.misr() & MISR.LRENP, 0, 'LRENPIE = 0');
    c.hcr = HCR.En | HCR.LRENPIE;
    c.eoicount = 0;
    assert.equal(c.misr() & MISR.LRENP, 0);
  });

  it('LRENP: an unmatched EOIR raises it', () => {
    const { c } = rig();
    c.hcr = HCR.En | HCR.LRENPIE;
    c.apr1 = aprBit(0x40);
    c.eoir(1, 40);
    assert.equal(c.misr(), MISR.LRENP);
    assert.equal(c.maintenance(), true);
  });

  it('NP: set iff NPIE and no LR is in State 01 (11 does not count as pending)', () => {
    const { c } = rig();
    c.hcr = HCR.En | HCR.NPIE;
    assert.equal(c.misr() & MISR.NP, MISR.NP);
    setLr(c, 0, { vintid: 40, state: LR_PENDING_ACTIVE });
    setLr(c, 1, { vintid: 41, state: LR_ACTIVE });
    assert.equal(c.misr() & MISR.NP, MISR.NP);
    setLr(c, 2, { vintid: 42, state: LR_PENDING });
    assert.equal(c.misr() & MISR.NP, 0);
    c.lrs[2].state = LR_INVALID;
    c.hcr = HCR.En;
    assert.equal(c.misr() & MISR.NP, 0, 'NPIE = 0');
  });

  it('NP: acknowledging the last pending LR raises it', () => {
    const { c } = rig();
    c.hcr = HCR.En | HCR.NPIE;
    setLr(c, 0, { vintid: 40, state: LR_PENDING, priority: 0x40 });
    assert.equal(c.maintenance(), false);
    c.iar(1);
    assert.equal(c.misr(), MISR.NP);
    assert.equal(c.maintenance(), true);
  });

  it('switch CPUIF_NP_COUNTS_PENDING_ACTIVE treats State 11 as pending', () => {
    const { c } = rig(4, { CPUIF_NP_COUNTS_PENDING_ACTIVE: true });
    c.hcr = HCR.En | HCR.NPIE;
    assert.equal(c.misr() & MISR.NP, MISR.NP);
    setLr(c, 0, { vintid: 40, state: LR_PENDING_ACTIVE });
    assert.equal(c.misr() & MISR.NP, 0);
    c.lrs[0].state = LR_ACTIVE;
    assert.equal(c.misr() & MISR.NP, MISR.NP);
    c.lrs[0].state = LR_PENDING;
    assert.equal(c.misr() & MISR.NP, 0);
  });

  it('VGrp*: each bit needs its enable bit and its own group enable, and ignores the other', () => {
    const rows: { bit: number; enable: number; group: 0 | 1; when: boolean }[] = [
      { bit: MISR.VGrp0E, enable: HCR.VGrp0EIE, group: 0, when: true },
      { bit: MISR.VGrp0D, enable: HCR.VGrp0DIE, group: 0, when: false },
      { bit: MISR.VGrp1E, enable: HCR.VGrp1EIE, group: 1, when: true },
      { bit: MISR.VGrp1D, enable: HCR.VGrp1DIE, group: 1, when: false },
    ];
    for (const { bit, enable, group, when } of rows) {
      const name = misrNames(bit)[0];
      const { c } = rig();
      for (const eng0 of [false, true]) {
        for (const eng1 of [false, true]) {
          c.vmcr.eng0 = eng0;
          c.vmcr.eng1 = eng1;
          const own = group === 0 ? eng0 : eng1;
          c.hcr = HCR.En | enable;
          assert.equal(c.misr(), own === when ? bit : 0, `${name}, VENG0 ${eng0}, VENG1 ${eng1}`);
          c.hcr = HCR.En;
          assert.equal(c.misr(), 0, `${name} without its enable bit`);
        }
      }
    }
  });

  it('the VGrp conditions follow IGRPEN writes as levels', () => {
    const { c } = rig();
    c.hcr = HCR.En | HCR.VGrp1EIE | HCR.VGrp1DIE;
    c.setGroupEnable(1, true);
    assert.equal(c.misr(), MISR.VGrp1E);
    c.setGroupEnable(1, false);
    assert.equal(c.misr(), MISR.VGrp1D);
  });

  it('all bits at once, and misrNames lists them in bit order', () => {
    const { c } = rig();
    c.hcr = 0xff;
    c.vmcr.eng0 = false;
    c.vmcr.eng1 = true;
    c.eoicount = 3;
    setLr(c, 0, { vintid: 40, state: LR_INVALID, eoi: true });
    assert.equal(c.misr(), MISR.EOI | MISR.U | MISR.LRENP | MISR.NP | MISR.VGrp0D | MISR.VGrp1E);
    assert.deepEqual(misrNames(c.misr()), ['EOI', 'U', 'LRENP', 'NP', 'VGrp0D', 'VGrp1E']);
    assert.deepEqual(misrNames(0), []);
  });

  it('the MI line needs En = 1 and MISR != 0', () => {
    const { c } = rig();
    c.hcr = HCR.LRENPIE;
    c.eoicount = 1;
    assert.notEqual(c.misr(), 0);
    assert.equal(c.maintenance(), false, 'En = 0');
    c.hcr |= HCR.En;
    assert.equal(c.maintenance(), true);
    c.eoicount = 0; // the host clears EOIcount: the level drops
    assert.equal(c.misr(), 0);
    assert.equal(c.maintenance(), false);
  });

  it('an EOI-pending LR asserts the MI only while En = 1', () => {
    const { c } = rig();
    setLr(c, 0, { vintid: 40, state: LR_INVALID, eoi: true });
    c.hcr = 0;
    assert.equal(c.maintenance(), false);
    c.hcr = HCR.En;
    assert.equal(c.maintenance(), true);
  });
});

describe('validateLrs: what the host programmed at entry', () => {
  it('F5: two valid LRs with the same vINTID; F4: a HW LR pending and active', () => {
    const { c, findings } = rig();
    setLr(c, 0, { vintid: 40, state: LR_PENDING, priority: 0x80 });
    setLr(c, 2, { vintid: 40, state: LR_ACTIVE, priority: 0x80 });
    setLr(c, 3, { vintid: 27, state: LR_PENDING_ACTIVE, priority: 0x80, hw: true, pintid: 27 });
    c.validateLrs();
    assert.deepEqual(findings, ['F5', 'F4']);
  });

  it('F4: a HW LR with a pINTID outside 16–1019; F3: a special vINTID in a valid LR', () => {
    const { c, findings, texts } = rig();
    setLr(c, 0, { vintid: 27, state: LR_PENDING, hw: true, pintid: 15 });
    setLr(c, 1, { vintid: 28, state: LR_ACTIVE, hw: true, pintid: 1020 });
    setLr(c, 2, { vintid: 1023, state: LR_PENDING });
    // An Invalid LR is not checked, whatever it holds.
    setLr(c, 3, { vintid: 1022, state: LR_INVALID, hw: true, pintid: 3 });
    c.validateLrs();
    assert.deepEqual(findings, ['F4', 'F4', 'F3']);
    assert.match(texts[2], /LR2 .*1023/);
  });

  it('a well-formed set of LRs raises nothing', () => {
    const { c, findings } = rig(2);
    setLr(c, 0, { vintid: 40, state: LR_PENDING, priority: 0x80 });
    setLr(c, 1, { vintid: 27, state: LR_ACTIVE, hw: true, pintid: 27 });
    c.validateLrs();
    assert.deepEqual(findings, []);
  });
});
