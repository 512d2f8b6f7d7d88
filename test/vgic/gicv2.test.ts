import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ReplayStrategy } from '../../src/explore/strategies/replay.ts';
import { peek } from '../../src/kernel/access.ts';
import { kutIpiGicv2, onGicv2, tailWalkVsQueueGicv2 } from '../../src/scenario/catalogue/gicv2.ts';
import { happySgi } from '../../src/scenario/catalogue/happy.ts';
import { headWalk } from '../../src/scenario/catalogue/head-walk.ts';
import { lrOverflow } from '../../src/scenario/catalogue/lr-overflow.ts';
import { type ScenarioInput, scenario } from '../../src/scenario/schema.ts';
import { IRQ } from '../../src/vgic/layout.ts';
import { runCli } from '../fuzz/run.ts';
import { check } from './util.ts';

/**
 * SGI 1 from vCPUs 0 and 1 to vCPU 2 of a GICv2 VM, both sent in the prologue: one SGI with two
 * sources, which goes into the LRs one source at a time (the EOI bit brings the second in).
 */
function twoSenders(extra: Partial<ScenarioInput> = {}) {
  return scenario({
    name: 'gicv2-two-senders',
    description: 'two sources of one SGI',
    vm: { gic: 'v2', vcpus: 3, nrLr: 2 },
    interrupts: [{ intid: 1, priority: 0xa0, enabled: true }],
    prologue: [
      { vcpu: 0, guest: [{ op: 'sgi', intid: 1, targets: [2] }] },
      { vcpu: 1, guest: [{ op: 'sgi', intid: 1, targets: [2] }] },
    ],
    actors: [
      {
        vcpu: 2,
        handler: 'kut',
        guest: [
          { op: 'igrpen', group: 0, enable: true },
          { op: 'pmr', value: 0xf0 },
          { op: 'handle', count: 2 },
        ],
      },
    ],
    expect: { acks: { 2: [1, 1] }, sgiSources: { 2: [0, 1] } },
    ...extra,
  });
}

describe('GICv2: the head walk and LR overflow on a GICv2 host', () => {
  it('the head walk deactivates the wrong interrupt: V2 fails P-EOI, V3 passes', () => {
    const v2 = check(onGicv2(headWalk), 'V2');
    assert.ok(v2.oracle.includes('P-EOI: the EOIcount replay deactivated an IRQ the guest did not'));
    const v3 = check(onGicv2(headWalk), 'V3');
    assert.ok(v3.result.stats.exhaustive);
    assert.deepEqual([...v3.oracle, ...v3.sanitizer], []);
  });

  for (const mode of [0, 1] as const) {
    it(`LR overflow, EOImode ${mode}: V0 loses a deactivation, V2, V3 and V4b do not`, () => {
      const s = onGicv2(lrOverflow(mode));
      assert.ok(check(s, 'V0').oracle.includes('P-EOI: a deactivation outside the LRs was lost'));
      for (const d of ['V2', 'V3', 'V4b']) {
        const r = check(s, d);
        assert.ok(r.result.stats.exhaustive, d);
        assert.deepEqual([...r.oracle, ...r.sanitizer], [], d);
      }
    });
  }
});

describe('GICv2: the tail walk against an injection', () => {
  it('V3 races list_add_tail with its unlocked walk (KCSAN); V4b, walking under ap_list_lock, is clean', () => {
    const v3 = check(tailWalkVsQueueGicv2, 'V3');
    assert.ok(v3.result.stats.exhaustive);
    assert.deepEqual(v3.sanitizer, [
      'BUG: KCSAN: data-race in vgic_queue_irq_unlock / vgic_v2_fold_lr_state',
    ]);
    assert.deepEqual(v3.oracle, []);
    const v4b = check(tailWalkVsQueueGicv2, 'V4b');
    assert.ok(v4b.result.stats.exhaustive);
    assert.deepEqual([...v4b.sanitizer, ...v4b.oracle, ...v4b.notes], []);
  });
});

describe('GICv2 SGIs: sources, GICD_SGIR and the IAR', () => {
  it('one SGI from two sources is delivered once per source, each acknowledge naming its sender', () => {
    for (const d of ['V3', 'V4b']) {
      const r = check(twoSenders(), d);
      assert.ok(r.result.stats.exhaustive, d);
      assert.deepEqual([...r.oracle, ...r.sanitizer], [], d);
      // The first source's LR carries the EOI bit: its deactivation is what brings the second in.
      assert.ok(
        r.worlds.every((w) => w.guests.get(2)?.log.sgiSources.join() === '0,1'),
        d,
      );
    }
  });

  it('a wrong expected sender fails the expectation: the CPUID field is checked', () => {
    const r = check(twoSenders({ expect: { acks: { 2: [1, 1] }, sgiSources: { 2: [0, 0] } } }), 'V3');
    assert.ok(r.oracle.includes('expect: vCPU 2 acknowledged SGIs from other sources'));
  });

  it('an EOI that names another source leaves the active instance active, and P-ACTIVE agrees', () => {
    const s = scenario({
      name: 'gicv2-eoi-other-source',
      description: 'EOI of SGI 3 from CPU 7 while SGI 3 from CPU 0 is active',
      vm: { gic: 'v2', vcpus: 1, nrLr: 4, spis: 0 },
      interrupts: [{ intid: 3, priority: 0x80, enabled: true }],
      prologue: [
        {
          vcpu: 0,
          guest: [
            { op: 'igrpen', group: 0, enable: true },
            { op: 'pmr', value: 0xf8 },
          ],
        },
      ],
      actors: [
        {
          vcpu: 0,
          guest: [
            { op: 'sgi', intid: 3, targets: 'self' },
            { op: 'ack' },
            // Without intid: the last acknowledged SGI, from the source the step names.
            { op: 'eoi', source: 7 },
          ],
        },
      ],
      expect: { final: [{ intid: 3, vcpu: 0, active: true }] },
    });
    const r = check(s, 'V4b');
    assert.ok(r.result.stats.exhaustive);
    assert.deepEqual([...r.oracle, ...r.sanitizer], []);
    assert.ok(r.worlds[0].vm.events.some((e) => e.text === 'EOI 3 from CPU 7 (EOIcount)'));
  });

  it('kvm-unit-tests gicv2-ipi self, target list and broadcast pass with the sender checked', () => {
    for (const kind of ['self', 'target-list', 'broadcast'] as const) {
      const s = kutIpiGicv2(kind, 4, 2);
      assert.ok(Object.keys(s.expect.sgiSources ?? {}).length > 0);
      const r = check(s, 'V3', new ReplayStrategy({ decisions: [] }));
      assert.deepEqual([...r.oracle, ...r.sanitizer], [], kind);
    }
  });

  it('ISPENDR ignores a GICv2 SGI; GICD_SGIR makes it pending from its sender', () => {
    const viaIspendr = scenario({
      ...onGicv2(happySgi),
      actors: [
        {
          vcpu: 0,
          guest: [
            { op: 'igrpen', group: 0, enable: true },
            { op: 'pmr', value: 0xf8 },
          ],
        },
        { vcpu: 1, guest: [{ op: 'mmio', write: { reg: 'ISPENDR', intid: 3 } }] },
      ],
      expect: { final: [{ intid: 3, vcpu: 1, pending: false }] },
    });
    assert.deepEqual(check(viaIspendr, 'V3').oracle, []);
    const r = check(onGicv2(happySgi), 'V3');
    assert.deepEqual([...r.oracle, ...r.sanitizer], []);
  });

  it('ITARGETSR routes an SPI to the lowest vCPU of its target mask', () => {
    const s = scenario({
      name: 'gicv2-itargetsr',
      description: 'route SPI 40 to CPUs 1 and 2',
      vm: { gic: 'v2', vcpus: 3, nrLr: 4 },
      interrupts: [{ intid: 40, priority: 0x80, enabled: true }],
      prologue: [
        { vcpu: 0, guest: [{ op: 'mmio', write: { reg: 'ITARGETSR', intid: 40, targets: [2, 1] } }] },
      ],
      actors: [
        {
          vcpu: 1,
          handler: 'simple',
          guest: [
            { op: 'igrpen', group: 0, enable: true },
            { op: 'pmr', value: 0xf8 },
            { op: 'handle', count: 1 },
          ],
        },
        { host: 'device', actions: [{ call: 'edge', intid: 40 }] },
      ],
      expect: { acks: { 1: [40] } },
    });
    const r = check(s, 'V3');
    assert.ok(r.result.stats.exhaustive);
    assert.deepEqual([...r.oracle, ...r.sanitizer], []);
    const w = r.worlds[0];
    assert.equal(peek(w.vm.spis[8], IRQ.targets), 0b110);
  });
});

describe('GICv2 in reports and on the command line', () => {
  it('a GICv2 report names the GIC in its header and dumps GICH_HCR and GICH_LRs', async () => {
    const r = await runCli([
      'check',
      'gicv2-tail-walk-vs-queue',
      '--design',
      'V3',
      '--stop-on',
      'kernel',
      '--json',
    ]);
    const f = JSON.parse(r.out).findings[0];
    assert.match(f.kernel, /Hardware name: vgic-lab model \(GICv2, 1 vCPU, nLR=2\)/);
    assert.equal(f.state.gic, 2);
    assert.match(f.state.vcpus[0].lrs[0], /^LR0: 0x[0-9a-f]{8} \d+ /);
    const text = await runCli(['check', 'gicv2-tail-walk-vs-queue', '--design', 'V3', '--stop-on', 'kernel']);
    assert.match(text.out, /GICH_HCR=0x/);
    assert.match(text.out, /GICH_LRs: LR0: 0x/);
  });

  it('compare shows GICv2 rows next to GICv3 ones', async () => {
    const r = await runCli([
      'compare',
      'head-walk-wrong-deactivation',
      'head-walk-wrong-deactivation-gicv2',
      '--designs',
      'V2,V3',
      '--json',
    ]);
    const cells = JSON.parse(r.out).cells as { scenario: string; design: string; kind: string }[];
    const kind = (s: string, d: string) => cells.find((c) => c.scenario === s && c.design === d)?.kind;
    assert.equal(kind('head-walk-wrong-deactivation-gicv2', 'V2'), 'oracle');
    assert.equal(kind('head-walk-wrong-deactivation', 'V2'), 'oracle');
    assert.equal(kind('head-walk-wrong-deactivation-gicv2', 'V3'), 'clean');
  });
});
