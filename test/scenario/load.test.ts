import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { explore } from '../../src/explore/explorer.ts';
import { ReplayStrategy } from '../../src/explore/strategies/replay.ts';
import { buildProgram, finalState, type World } from '../../src/scenario/builder.ts';
import { catalogue } from '../../src/scenario/catalogue/index.ts';
import { dumpScenario } from '../../src/scenario/dump.ts';
import { parseScenario, ScenarioError } from '../../src/scenario/load.ts';
import { designById } from '../../src/vgic/designs.ts';

const GOOD = `name: tiny
description: one SPI
vm: {vcpus: 1, nrLr: 4}
interrupts:
  - {intid: 40, priority: 0x80, enabled: true, target: 0}
actors:
  - vcpu: 0
    handler: simple
    guest:
      - {op: igrpen, group: 1, enable: true}
      - {op: pmr, value: 0xf8}
      - {op: handle, count: 1}
  - host: device
    actions:
      - {call: edge, intid: 40}
expect:
  acks: {0: [40]}
`;

function err(text: string): ScenarioError {
  try {
    parseScenario(text, 'scenarios/x.yaml');
  } catch (e) {
    if (e instanceof ScenarioError) return e;
    throw e;
  }
  assert.fail('expected a ScenarioError');
}

describe('scenario files', () => {
  it('a valid file loads into the builder spec and runs', () => {
    const s = parseScenario(GOOD, 'tiny.yaml');
    assert.equal(s.spec.vm.nLr, 4);
    assert.deepEqual(s.spec.expect.acks, { 0: { intids: [40] } });
    const r = explore(buildProgram(s.spec, designById('V3')!), new ReplayStrategy({ decisions: [] }), {
      allViolations: true,
    });
    assert.deepEqual(r.findings, []);
  });

  it('a bad value names file:line:column, the path and the valid range', () => {
    const e = err(GOOD.replace('priority: 0x80', 'priority: 300'));
    assert.equal(
      e.message.split('\n')[0],
      'scenarios/x.yaml:5:27: interrupts[0].priority: 300 is not a priority (0–255)',
    );
  });

  it('an unknown key is an error with the closest valid key', () => {
    const e = err(GOOD.replace('priority: 0x80', 'prority: 0x80'));
    assert.match(e.message, /^scenarios\/x\.yaml:5:17: interrupts\[0\]\.prority: unknown key "prority"/);
    assert.match(e.message, /hint: did you mean "priority"\?/);
  });

  it('nrLr outside 1–16 is rejected', () => {
    assert.match(
      err(GOOD.replace('nrLr: 4', 'nrLr: 17')).message,
      /vm\.nrLr: 17 is not a number of list registers \(1–16\)/,
    );
    assert.match(err(GOOD.replace('nrLr: 4', 'nrLr: 0')).message, /3:\d+: vm\.nrLr: 0 is not/);
  });

  it('INTIDs out of range for their kind, duplicates, LPIs without an ITS', () => {
    assert.match(
      err(GOOD.replace('intid: 40,', 'intid: 99,')).message,
      /interrupts\[0\]\.intid: 99 is not an INTID of this VM/,
    );
    assert.match(err(GOOD.replace('intid: 40,', 'intid: 1021,')).message, /1021 is not an INTID of this VM/);
    const dup = GOOD.replace(
      '  - {intid: 40, priority: 0x80, enabled: true, target: 0}',
      '  - {intid: 40}\n  - {intid: 40}',
    );
    assert.match(err(dup).message, /:6:\d+: interrupts\[1\]\.intid: INTID 40 is configured twice/);
    const lpi = GOOD.replace(
      '  - {intid: 40, priority: 0x80, enabled: true, target: 0}',
      '  - {intid: 8192, lpi: {device: 0, event: 0, collection: 0}}',
    );
    assert.match(err(lpi).message, /interrupts\[0\]\.lpi: an LPI needs an ITS/);
    assert.match(err(lpi).message, /hint: set vm\.its: true/);
  });

  it('vCPUs that do not exist: a collection, a guest action, an actor', () => {
    const col = GOOD.replace('vm: {vcpus: 1, nrLr: 4}', 'vm: {vcpus: 1, nrLr: 4, its: true}').replace(
      '  - {intid: 40, priority: 0x80, enabled: true, target: 0}',
      '  - {intid: 8192, lpi: {device: 0, event: 0, collection: 3}}',
    );
    assert.match(err(col).message, /interrupts\[0\]\.lpi\.collection: vCPU 3 does not exist/);
    assert.match(
      err(GOOD.replace('  - vcpu: 0', '  - vcpu: 2')).message,
      /actors\[0\]\.vcpu: vCPU 2 does not exist/,
    );
    const sgi = GOOD.replace('{op: handle, count: 1}', '{op: sgi, intid: 1, targets: [5]}');
    assert.match(err(sgi).message, /actors\[0\]\.guest\[2\]\.targets\[0\]: vCPU 5 does not exist/);
  });

  it('invalid YAML and a missing required key are reported with a position and a hint', () => {
    const e = err('name: x\n  bad: [\n');
    assert.match(e.message, /^scenarios\/x\.yaml:\d+:\d+: invalid YAML/);
    const m = err(GOOD.replace('description: one SPI\n', ''));
    assert.match(m.message, /missing required key "description"/);
  });

  it('an unknown guest action lists the valid ones', () => {
    const e = err(GOOD.replace('{op: handle, count: 1}', '{op: hnadle, count: 1}'));
    assert.match(e.message, /actors\[0\]\.guest\[2\]\.op: .*unknown guest action/);
  });
});

describe('the catalogue', () => {
  const files = readdirSync('scenarios').filter((f) => f.endsWith('.yaml'));

  it('scenarios/*.yaml are exactly what npm run catalogue generates', () => {
    const want = new Map(catalogue().map((s) => [`${s.name}.yaml`, s]));
    assert.deepEqual(files.sort(), [...want.keys()].sort());
    for (const [f, s] of want) {
      const header = `# ${s.name}: generated from src/scenario/catalogue by "npm run catalogue"; copy it to write your own.\n`;
      assert.equal(
        readFileSync(`scenarios/${f}`, 'utf8'),
        dumpScenario(s, header),
        `${f} is stale: run npm run catalogue`,
      );
    }
  });

  it('each file loads and behaves as the builder spec it came from', () => {
    for (const s of catalogue()) {
      const loaded = parseScenario(readFileSync(`scenarios/${s.name}.yaml`, 'utf8'), s.name);
      const run = (spec: typeof s) => {
        let w: World | null = null;
        const r = explore(
          buildProgram(spec, designById('V3')!, (x) => (w = x)),
          new ReplayStrategy({ decisions: [] }),
          {
            allViolations: true,
            maxSteps: 100_000,
          },
        );
        return `${finalState(w!)} | ${r.findings.map((f) => f.violation.title).join(';')}`;
      };
      assert.equal(run(loaded.spec), run(s), s.name);
    }
  });
});
