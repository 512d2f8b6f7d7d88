import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { timerHwEoimode1 } from '../../src/scenario/catalogue/timer.ts';
import { parseScenario } from '../../src/scenario/load.ts';
import { type ScenarioSpec, scenario } from '../../src/scenario/schema.ts';
import { check, knownRaces } from './util.ts';

/** The catalogue case with the guest's first DIR left out: the physical PPI stays active. */
const noFirstDir: ScenarioSpec = scenario({
  ...timerHwEoimode1,
  name: 'timer-without-dir',
  actors: [
    {
      vcpu: 0,
      guest: [
        { op: 'poll', expect: 27 },
        { op: 'eoi', intid: 27 },
        { op: 'poll', expect: 27 },
      ],
    },
    timerHwEoimode1.actors[1],
  ],
  expect: {},
});

describe('the arch timer as a HW-mapped PPI', () => {
  for (const d of ['V0', 'V2', 'V3', 'V4b', 'V5']) {
    it(`${d}: EOImode 1 with trapped DIR; each DIR reaches the physical PPI, so the timer fires twice`, () => {
      const r = check(timerHwEoimode1, d);
      assert.ok(r.result.stats.exhaustive);
      assert.deepEqual([...r.sanitizer.filter((t) => !knownRaces(d).includes(t)), ...r.oracle], []);
      assert.equal(r.result.stats.boundHits, 0);
    });
  }

  it('without the deactivation the physical PPI stays active: the timer cannot fire again', () => {
    const r = check(noFirstDir, 'V3');
    assert.ok(r.result.stats.exhaustive);
    // The second expiry waits for the physical PPI forever; the guest waits for the interrupt.
    assert.ok(
      r.titles.some((t) => /hung|deadlock|liveness/i.test(t)),
      r.titles.join(' | ') || 'no finding',
    );
  });

  it('the timer maps a PPI, and a timer expiry needs one', () => {
    const yaml = (interrupts: string, host: string) => `name: t
description: d
vm: {vcpus: 1, nrLr: 4}
interrupts: [${interrupts}]
actors:
  - {vcpu: 0, guest: [{op: pmr, value: 0xf8}]}
  - {host: timer, actions: [${host}]}
`;
    assert.throws(
      () => parseScenario(yaml('{intid: 40, timer: true}', '{call: timer, vcpu: 0}'), 'x.yaml'),
      /x\.yaml:4:\d+: interrupts\[0\]\.timer: INTID 40 is not a PPI/,
    );
    assert.throws(
      () => parseScenario(yaml('{intid: 27}', '{call: timer, vcpu: 0}'), 'x.yaml'),
      /actors\[1\]\.actions\[0\]: no PPI is mapped to the timer/,
    );
    assert.throws(
      () => parseScenario(yaml('{intid: 27, timer: true}', '{call: timer, vcpu: 3}'), 'x.yaml'),
      /vcpu: vCPU 3 does not exist/,
    );
  });
});
