import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { GUEST_SETUP } from '../../src/scenario/catalogue/common.ts';
import { switchPauseIsCounter } from '../../src/scenario/catalogue/switches.ts';
import { type ScenarioInput, type ScenarioSpec, scenario } from '../../src/scenario/schema.ts';
import { checkLpiAck, ORACLES } from '../../src/vgic/oracles.ts';
import { withVm } from './ops-util.ts';
import { check, design } from './util.ts';

/** Two vCPUs with GUEST_SETUP done, SPI 32 routed to vCPU 0. */
const SPI_32 = { intid: 32, priority: 0x20, enabled: true, target: 0 };

function twoVcpus(
  name: string,
  actors: ScenarioInput['actors'],
  extra: Partial<ScenarioInput> = {},
): ScenarioSpec {
  return scenario({
    name,
    description: name,
    vm: { vcpus: 2, nrLr: 4 },
    interrupts: [SPI_32],
    prologue: [
      { vcpu: 0, guest: GUEST_SETUP },
      { vcpu: 1, guest: GUEST_SETUP },
    ],
    actors,
    ...extra,
  });
}

describe('functional oracles', () => {
  it('P-REF: a cache entry left pointing at a freed LPI (two invalidations put the same reference)', () => {
    // Both vCPUs clear their EnableLPIs; each invalidates the translation cache. Without
    // CACHE_INVALIDATE_PUTS_ERASED_ONLY both put the cache's reference, and the LPI is freed while its
    // ITE still maps it: nothing touches it again here, so only the end check can tell.
    const s = scenario({
      name: 'two-clears',
      description: 'two EnableLPIs clears race their translation-cache invalidations',
      vm: { vcpus: 2, nrLr: 4, its: true },
      interrupts: [{ intid: 8192, priority: 0xa0, lpi: { device: 0, event: 0, collection: 0 } }],
      lpisEnabled: [0, 1],
      prologue: [{ host: { call: 'msi', device: 0, event: 0 } }],
      actors: [0, 1].map((vcpu) => ({
        vcpu,
        guest: [{ op: 'mmio' as const, write: { reg: 'GICR_CTLR' as const, vcpu, enableLpis: false } }],
      })),
    });
    const v3 = design('V3');
    const r = check(s, { ...v3, fixes: { ...v3.fixes, CACHE_INVALIDATE_PUTS_ERASED_ONLY: false } });
    assert.ok(
      r.oracle.includes('P-REF: an ITE or translation-cache entry points to a freed LPI'),
      r.titles.join(' | '),
    );
    assert.deepEqual(check(s, v3).oracle, []);
  });

  it('P-STATE-WRITE: a guest ICPENDR that the fold of an LR filled before it undoes', () => {
    // SPI 32 is pending in vCPU 0's LR while vCPU 1's guest clears its pending state: KVM does not
    // halt for ICPENDR, so the fold of the still-pending LR sets pending_latch again.
    const s = twoVcpus(
      'cpending-vs-fold',
      [
        { vcpu: 0, guest: [{ op: 'pmr', value: 0xf8 }] },
        { vcpu: 1, guest: [{ op: 'mmio', write: { reg: 'ICPENDR', intid: 32 } }] },
      ],
      {
        prologue: [
          { vcpu: 0, guest: GUEST_SETUP },
          { vcpu: 1, guest: GUEST_SETUP },
          { host: { call: 'edge', intid: 32 } },
        ],
      },
    );
    const r = check(s, 'V3');
    assert.ok(r.result.stats.exhaustive);
    assert.ok(
      r.oracle.includes('P-STATE-WRITE: the fold undid a completed guest write to ICPENDR'),
      r.titles.join(' | '),
    );
    const f = r.result.findings.find((x) => x.violation.title.startsWith('P-STATE-WRITE'))!;
    assert.equal(f.violation.checker, 'oracle', 'architectural');
    assert.match(
      f.violation.text(),
      /^vgic-lab: functional oracle P-STATE-WRITE failed \(architectural\)\n {2}rule: /,
    );
  });

  it('P-STATE-WRITE for ICACTIVER: the halt does not wait for a vCPU that left guest mode but has not folded yet', () => {
    // KVM halts the guest for ICACTIVER, but a vCPU that already set OUTSIDE_GUEST_MODE is not waited
    // for, and its fold of the stale LR (SPI 32 active) can land after the write. Setting the mode
    // only after the sync (OUTSIDE_GUEST_MODE_AFTER_SYNC) closes the window.
    const s = twoVcpus(
      'cactive-vs-fold',
      [
        {
          vcpu: 0,
          guest: [
            { op: 'ack', expect: 32 },
            { op: 'pmr', value: 0xf8 },
          ],
        },
        { vcpu: 1, guest: [{ op: 'mmio', write: { reg: 'ICACTIVER', intid: 32 } }] },
      ],
      {
        prologue: [
          { vcpu: 0, guest: GUEST_SETUP },
          { vcpu: 1, guest: GUEST_SETUP },
          { host: { call: 'edge', intid: 32 } },
        ],
      },
    );
    const v3 = design('V3');
    const r = check(s, v3);
    assert.ok(r.result.stats.exhaustive);
    assert.ok(
      r.titles.includes('P-STATE-WRITE: the fold undid a completed guest write to ICACTIVER'),
      r.titles.join(' | '),
    );
    const fixed = check(s, { ...v3, fixes: { ...v3.fixes, OUTSIDE_GUEST_MODE_AFTER_SYNC: true } });
    assert.ok(fixed.result.stats.exhaustive);
    assert.ok(!fixed.titles.some((t) => t.startsWith('P-STATE-WRITE')), fixed.titles.join(' | '));
  });

  it('P-HALT: with two halters at once a vCPU re-enters while one is still in force (pause is a flag)', () => {
    // switch-pause-is-counter: vCPU 0's guest deactivates SPI 32 through ICACTIVER (halts under
    // config_lock); vCPU 1's guest clears vCPU 0's EnableLPIs, which halts too with
    // HALT_ON_LPI_DISABLE. The first resume clears every pause flag although the other halter still
    // needs the VM stopped.
    const v3 = design('V3');
    const halting = { ...v3, fixes: { ...v3.fixes, HALT_ON_LPI_DISABLE: true } };
    const s = switchPauseIsCounter;
    const r = check(s, halting);
    assert.ok(r.result.stats.exhaustive);
    assert.ok(
      r.oracle.includes('P-HALT: a vCPU entered the guest while the VM was halted'),
      r.titles.join(' | '),
    );
    // Without the halting switch only one halter exists: nothing to report.
    assert.ok(!check(s, v3).titles.some((t) => t.startsWith('P-HALT')));
  });

  it('P-LPI-QUEUED: a cached MSI racing the EnableLPIs clear queues the LPI again', () => {
    const s = twoVcpus(
      'msi-vs-lpi-disable',
      [
        {
          vcpu: 1,
          guest: [{ op: 'mmio', write: { reg: 'GICR_CTLR', vcpu: 0, enableLpis: false } }],
        },
        { host: 'device', actions: [{ call: 'msi', device: 0, event: 0 }] },
      ],
      {
        vm: { vcpus: 2, nrLr: 4, its: true },
        interrupts: [SPI_32, { intid: 8192, priority: 0xa0, lpi: { device: 0, event: 0, collection: 0 } }],
        lpisEnabled: [0],
        // The prologue's INT would fill the translation cache; here an MSI before the actors does.
        prologue: [
          { vcpu: 0, guest: GUEST_SETUP },
          { vcpu: 1, guest: GUEST_SETUP },
          { host: { call: 'msi', device: 0, event: 0 } },
        ],
      },
    );
    const r = check(s, 'V3');
    assert.ok(r.result.stats.exhaustive);
    assert.ok(
      r.oracle.includes('P-LPI-QUEUED: an LPI is still queued after EnableLPIs was cleared'),
      r.titles.join(' | '),
    );
    const f = r.result.findings.find((x) => x.violation.title.startsWith('P-LPI-QUEUED'))!;
    assert.equal(f.violation.checker, 'invariant', 'a KVM invariant');
  });

  it('P-LPI-ACK: an LPI acknowledged after the disable that happens before it', () => {
    const r = withVm({ vm: { its: true } }, (env) => {
      const v = env.vcpu(0);
      const t = env.task(0);
      checkLpiAck(t, env.vm, v, 8192);
      // The disable completed on vCPU 1 and vCPU 0 has not synchronised with it since: no report.
      v.ghost.lpisDisabledAt = [...t.vc.map(() => 0), 1_000_000];
      checkLpiAck(t, env.vm, v, 8192);
      // vCPU 0 has seen it (its clock covers the writer's): the acknowledge is a violation.
      v.ghost.lpisDisabledAt = t.vc.slice();
      checkLpiAck(t, env.vm, v, 40);
      checkLpiAck(t, env.vm, v, 8192);
    });
    assert.deepEqual(r.titles, ['P-LPI-ACK: the guest acknowledged an LPI after EnableLPIs was cleared']);
  });

  it('docs/findings.md gives every oracle with its kind and rule', () => {
    const doc = readFileSync('docs/findings.md', 'utf8');
    for (const [id, def] of Object.entries(ORACLES)) {
      const at = doc.indexOf(`### ${id}`);
      assert.ok(at >= 0, `docs/findings.md has a section for ${id}`);
      const section = doc.slice(at, doc.indexOf('\n### ', at + 1) >>> 0 || undefined);
      assert.ok(section.includes(def.kind), `${id}: its kind`);
      assert.ok(section.includes(def.rule), `${id}: its rule, word for word`);
      assert.ok(section.includes(def.checked), `${id}: when it is checked`);
    }
  });
});
