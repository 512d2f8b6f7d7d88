import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HCR, MISR, SPURIOUS, VCpuInterface } from '../../src/gic/cpuif.ts';
import { gichLr, gicvIar } from '../../src/gic/gich.ts';
import { emptyLr, LR_ACTIVE, LR_INVALID, LR_PENDING, type Lr } from '../../src/gic/lr.ts';

/** A GICv2 CPU interface with group 0 on, the priority mask open and the interface enabled. */
function v2(nrLr = 4): VCpuInterface {
  const c = new VCpuInterface(nrLr, undefined, undefined, 2);
  c.setGroupEnable(0, true);
  c.setPmr(0xf8);
  c.hcr = HCR.En;
  return c;
}

function lr(over: Partial<Lr>): Lr {
  return { ...emptyLr(), state: LR_PENDING, priority: 0xa0, ...over };
}

describe('GICv2 virtual CPU interface (GICV_*, GICH_*)', () => {
  it('GICV_IAR returns an SGI with its source CPU in [12:10], other INTIDs alone', () => {
    const c = v2();
    c.lrs[0] = lr({ vintid: 1, cpuid: 3 });
    assert.equal(c.iar(0), 1 | (3 << 10));
    assert.equal(c.lrs[0].state, LR_ACTIVE);
    const d = v2();
    d.lrs[0] = lr({ vintid: 40 });
    assert.equal(d.iar(0), 40);
    assert.equal(gicvIar(lr({ vintid: 5, cpuid: 7 })), 5 | (7 << 10));
  });

  it("an SGI's EOI deactivates only the LR of the source it names", () => {
    const c = v2();
    c.lrs[0] = lr({ vintid: 1, cpuid: 2 });
    const value = c.iar(0);
    // Another source of the same SGI matches no LR: EOImode 0 counts it in EOICount instead.
    assert.deepEqual(c.eoir(0, 1 | (5 << 10)), { lr: -1, counted: true, trapped: false });
    assert.equal(c.lrs[0].state, LR_ACTIVE);
    c.apr0 = 1 << (0xa0 >> 3);
    assert.deepEqual(c.eoir(0, value), { lr: 0, counted: false, trapped: false });
    assert.equal(c.lrs[0].state, LR_INVALID);
  });

  it('one active-priority register for both groups (GICH_APR)', () => {
    const c = v2();
    c.setGroupEnable(1, true);
    c.lrs[0] = lr({ vintid: 40, group: 1, priority: 0x10 });
    c.iar(1);
    assert.equal(c.apr1, 0);
    assert.equal(c.readApr(0), 1 << 2);
    assert.equal(c.readApr(1), 1 << 2);
  });

  it('GICV_DIR traps when the host unmapped the page (the LR-overflow rework), else it acts in the LRs', () => {
    const c = v2();
    c.setCtlr(1);
    c.lrs[0] = lr({ vintid: 40 });
    c.iar(0);
    c.gicvDirTrapped = true;
    assert.equal(c.dir(40).trapped, true);
    // TDIR means nothing to a GICv2 interface.
    c.gicvDirTrapped = false;
    c.hcr |= HCR.TDIR;
    assert.deepEqual(c.dir(40), { lr: 0, counted: false, trapped: false });
    assert.deepEqual(c.dir(41), { lr: -1, counted: true, trapped: false });
    assert.equal(c.eoicount, 1);
  });

  it('64 LRs: the 64th takes part in selection and in GICH_EISR1 / GICH_ELRSR1', () => {
    const c = v2(64);
    c.lrs[63] = lr({ vintid: 50, priority: 0x08, eoi: true });
    assert.equal(c.iar(0), 50);
    c.apr0 = 1 << 1;
    c.eoir(0, 50);
    assert.equal(c.eisr(1), 0x80000000);
    assert.equal(c.eisr(0), 0);
    assert.equal(c.elrsr(1), 0x7fffffff);
    assert.equal(c.elrsr(0), 0xffffffff);
    assert.ok(c.misr() & MISR.EOI);
    assert.throws(() => new VCpuInterface(65, undefined, undefined, 2), /1\.\.64 on GICv2/);
  });

  it('GICH_LR encodes VirtualID, CPUID or PhysicalID, EOI, 5 priority bits, state, Grp1 and HW', () => {
    assert.equal(
      gichLr(lr({ vintid: 1, cpuid: 3, eoi: true, priority: 0xa0 })),
      0x1 | (3 << 10) | (1 << 19) | (0x14 << 23) | (1 << 28),
    );
    assert.equal(
      gichLr({ ...emptyLr(), state: LR_ACTIVE, hw: true, pintid: 27, vintid: 27, group: 1, priority: 0xf8 }),
      (27 | (27 << 10) | (0x1f << 23) | (2 << 28) | (1 << 30) | (1 << 31)) >>> 0,
    );
    assert.equal(SPURIOUS, 1023);
  });
});
