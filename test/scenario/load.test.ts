import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { explore } from '../../src/explore/explorer.ts';
import { ReplayStrategy } from '../../src/explore/strategies/replay.ts';
import { fails } from '../../src/report/classes.ts';
import { buildProgram, finalState, type World } from '../../src/scenario/builder.ts';
import { catalogue, fileHeader } from '../../src/scenario/catalogue/index.ts';
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
    assert.equal(s.spec.vm.nrLr, 4);
    assert.deepEqual(s.spec.expect.acks, { 0: [40] });
    const r = explore(buildProgram(s.spec, designById('V3')!), new ReplayStrategy({ decisions: [] }), {
      allViolations: true,
    });
    assert.deepEqual(
      r.findings.filter((f) => fails(f.violation, false)),
      [],
    );
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

  it('nrLr outside 1–16 is rejected on GICv3, outside 1–64 on GICv2', () => {
    assert.match(
      err(GOOD.replace('nrLr: 4', 'nrLr: 17')).message,
      /3:\d+: vm\.nrLr: a GICv3 host has at most 16 list registers, got 17/,
    );
    assert.match(
      err(GOOD.replace('nrLr: 4', 'nrLr: 65')).message,
      /vm\.nrLr: 65 is not a number of list registers \(1–16; on GICv2 1–64\)/,
    );
    assert.match(err(GOOD.replace('nrLr: 4', 'nrLr: 0')).message, /3:\d+: vm\.nrLr: 0 is not/);
  });

  it('a GICv2 VM refuses what only GICv3 has, and a GICv3 VM what only GICv2 has', () => {
    const v2 = GOOD.replace('vm: {vcpus: 1, nrLr: 4}', 'vm: {gic: v2, vcpus: 2, nrLr: 4}');
    assert.equal(parseScenario(v2, 'x.yaml').spec.vm.gic, 'v2');
    const cases: [string, RegExp][] = [
      [v2.replace('nrLr: 4}', 'nrLr: 4, its: true}'), /3:\d+: vm\.its: a GICv2 VM has no ITS/],
      [v2.replace('nrLr: 4}', 'nrLr: 4, hostTdir: false}'), /vm\.hostTdir: a GICv2 host has no TDIR/],
      [
        v2.replace(
          '      - {op: handle, count: 1}',
          '      - {op: mmio, write: {reg: IROUTER, intid: 40, vcpu: 1}}',
        ),
        /reg: IROUTER is a GICv3 register[\s\S]*ITARGETSR/,
      ],
      [
        v2.replace(
          '      - {op: handle, count: 1}',
          '      - {op: mmio, write: {reg: GICR_CTLR, vcpu: 0, enableLpis: true}}',
        ),
        /GICR_CTLR is a GICv3 register/,
      ],
      [
        GOOD.replace(
          '      - {op: handle, count: 1}',
          '      - {op: mmio, write: {reg: ITARGETSR, intid: 40, targets: [0]}}',
        ),
        /ITARGETSR is a GICv2 register[\s\S]*IROUTER/,
      ],
      [
        v2.replace(
          '      - {op: handle, count: 1}',
          '      - {op: mmio, write: {reg: ITARGETSR, intid: 40, targets: [3]}}',
        ),
        /targets\[0\]: vCPU 3 does not exist/,
      ],
      [
        v2.replace('acks: {0: [40]}', 'acks: {0: [40]}\n  sgiSources: {0: [9]}'),
        /9 is not a source CPU \(0–7\)/,
      ],
      [GOOD.replace('acks: {0: [40]}', 'acks: {0: [40]}\n  sgiSources: {0: [0]}'), /GICv3 VM's IAR has none/],
      [
        GOOD.replace('{op: handle, count: 1}', '{op: eoi, intid: 1, source: 0}'),
        /source is part of the EOI and DIR values on GICv2 only/,
      ],
      [
        v2.replace('lpisEnabled', 'x').replace('expect:', 'lpisEnabled: [0]\nexpect:'),
        /lpisEnabled: a GICv2 VM has no LPIs/,
      ],
    ];
    for (const [text, re] of cases) assert.match(err(text).message, re);
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

  it('a value of the wrong type is reported where it stands, not as a missing key', () => {
    const vm = err(GOOD.replace('vm: {vcpus: 1, nrLr: 4}', 'vm: 5'));
    assert.match(vm.message, /^scenarios\/x\.yaml:3:5: vm: expected a mapping/);
    const prio = err(GOOD.replace('priority: 0x80', 'priority: "0x80"'));
    assert.match(
      prio.message,
      /^scenarios\/x\.yaml:5:27: interrupts\[0\]\.priority: expected a priority \(a number\)/,
    );
    assert.match(prio.message, /hint: write 0x80 without quotes/);
    assert.doesNotMatch(prio.message, /missing/);
    const empty = err(GOOD.replace('description: one SPI', 'description:'));
    assert.match(empty.message, /:2:\d+: description: expected text\n {2}hint: the value is empty/);
  });

  it('a union says what it accepts when no branch comes close', () => {
    const group = err(GOOD.replace('group: 1, enable', 'group: 2, enable'));
    assert.match(group.message, /:10:\d+: actors\[0\]\.guest\[0\]\.group: a group is 0 or 1, got `2`$/m);
    const mode = err(GOOD.replace('{op: pmr, value: 0xf8}', '{op: eoimode, value: 2}'));
    assert.match(mode.message, /actors\[0\]\.guest\[1\]\.value: EOImode is 0 or 1/);
    const actor = err(
      GOOD.replace('  - host: device\n    actions:\n      - {call: edge, intid: 40}', '  - 7'),
    );
    assert.match(actor.message, /actors\[1\]: an actor is \{vcpu, guest\} or \{host, actions\}/);
  });

  it('a misspelt key is reported as unknown, with the key it should be, not as a missing one', () => {
    const pmr = err(GOOD.replace('{op: pmr, value: 0xf8}', '{op: pmr, valeu: 0xf8}'));
    assert.match(pmr.message, /:11:19: actors\[0\]\.guest\[1\]\.valeu: unknown key "valeu"/);
    assert.match(pmr.message, /hint: did you mean "value"\? valid keys here: op, value$/);
    const call = err(GOOD.replace('{call: edge, intid: 40}', '{call: edge, intdi: 40}'));
    assert.match(call.message, /actors\[1\]\.actions\[0\]\.intdi: unknown key "intdi"/);
    assert.match(call.message, /did you mean "intid"\?/);
    const host = err(GOOD.replace('host: device', 'hots: device'));
    assert.match(
      host.message,
      /:13:5: actors\[1\]\.hots: unknown key "hots"\n {2}hint: did you mean "host"\?/,
    );
    const op = err(GOOD.replace('{op: pmr, value: 0xf8}', '{opp: pmr, value: 0xf8}'));
    assert.match(
      op.message,
      /actors\[0\]\.guest\[1\]\.opp: unknown key "opp"\n {2}hint: did you mean "op"\?/,
    );
    const none = err(GOOD.replace('{op: pmr, value: 0xf8}', '{value: 0xf8}'));
    assert.match(
      none.message,
      /actors\[0\]\.guest\[1\]: missing required key "op"\n {2}hint: add "op:" here, one of: ack,/,
    );
  });

  it('YAML aliases are refused with their position, even undefined ones and alias bombs', () => {
    const undef = err(GOOD.replace('description: one SPI', 'description: *x'));
    assert.match(undef.message, /^scenarios\/x\.yaml:2:14: YAML aliases \(\*x\) are not supported/);
    const rows = ['a: &a [x, x, x, x, x, x, x, x, x]'];
    for (let i = 1; i < 9; i++) {
      const prev = String.fromCharCode(96 + i);
      rows.push(
        `${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(9).fill(`*${prev}`).join(', ')}]`,
      );
    }
    assert.match(err(`${rows.join('\n')}\n${GOOD}`).message, /:2:\d+: YAML aliases \(\*a\)/);
  });

  it('a prologue step that cannot finish: idle at load, a stuck wait when the program is built', () => {
    const idle = GOOD.replace('actors:', 'prologue: [{vcpu: 0, guest: [{op: idle}]}]\nactors:');
    assert.match(err(idle).message, /:6:\d+: prologue\[0\]\.guest\[0\]\.op: idle never ends/);
    const stuck = parseScenario(
      GOOD.replace(
        'actors:',
        'prologue:\n  - host: {call: edge, intid: 40}\n  - {vcpu: 0, guest: [{op: poll}]}\nactors:',
      ),
      'scenarios/x.yaml',
    );
    assert.throws(
      () => buildProgram(stuck.spec, designById('V3')!, stuck.source),
      (e: unknown) =>
        e instanceof ScenarioError &&
        /^scenarios\/x\.yaml:8:5: prologue\[1\]: this prologue step never finishes: vCPU 0: it waits/.test(
          e.message,
        ),
    );
  });

  it('every vCPU a file names must exist', () => {
    const its = GOOD.replace('vm: {vcpus: 1, nrLr: 4}', 'vm: {vcpus: 1, nrLr: 4, its: true}');
    const bad = (from: string, to: string, where: RegExp) =>
      assert.match(err(its.replace(from, to)).message, where);
    const pmr = '{op: pmr, value: 0xf8}';
    const edge = '{call: edge, intid: 40}';
    bad(
      pmr,
      '{op: mmio, write: {reg: IROUTER, intid: 40, vcpu: 3}}',
      /guest\[1\]\.write\.vcpu: vCPU 3 does not exist/,
    );
    bad(
      pmr,
      '{op: hvc, call: {call: uaccess, vcpu: 2, write: {reg: ISPENDR, intid: 40}}}',
      /guest\[1\]\.call\.vcpu: vCPU 2/,
    );
    bad(
      edge,
      '{call: its, cmds: [{cmd: MAPC, collection: 0, vcpu: 4}]}',
      /actions\[0\]\.cmds\[0\]\.vcpu: vCPU 4/,
    );
    bad(
      edge,
      '{call: batch, calls: [{call: its, cmds: [{cmd: MOVALL, from: 0, to: 7}]}]}',
      /actions\[0\]\.calls\[0\]\.cmds\[0\]\.to: vCPU 7 does not exist/,
    );
    bad(
      'actors:',
      'prologue: [{host: {call: its, cmds: [{cmd: MOVALL, from: 5, to: 0}]}}]\nactors:',
      /prologue\[0\]\.host\.cmds\[0\]\.from: vCPU 5/,
    );
    bad(
      'acks: {0: [40]}',
      'ackPriorityOrder: [0, 1]',
      /expect\.ackPriorityOrder\[1\]: vCPU 1 does not exist/,
    );
    bad(
      'acks: {0: [40]}',
      'final: [{intid: 20, vcpu: 1, active: false}]',
      /expect\.final\[0\]\.vcpu: vCPU 1 does not exist/,
    );
    bad('expect:', 'resamplers: [40, 20]\nexpect:', /resamplers\[1\]: 20 is not an SPI of this VM/);
  });

  it('expect.final names an SGI, PPI or SPI of the VM: an entry that is never checked is an error', () => {
    const final = (entry: string) => err(GOOD.replace('acks: {0: [40]}', `final: [${entry}]`)).message;
    assert.match(
      final('{intid: 500, active: true}'),
      /expect\.final\[0\]\.intid: 500 is not an INTID of this VM/,
    );
    assert.match(final('{intid: 8200, active: true}'), /the final state of LPI 8200 cannot be checked/);
    assert.match(
      final('{intid: 40, vcpu: 0, active: true}'),
      /expect\.final\[0\]\.vcpu: SPI 40 belongs to no vCPU/,
    );
  });

  it("ackPriorityOrder reads an LPI's priority from the LPI configuration", () => {
    const text = `${readFileSync('scenarios/happy-lpi.yaml', 'utf8')}  ackPriorityOrder: [0]\n`;
    const s = parseScenario(text, 'lpi.yaml');
    const r = explore(buildProgram(s.spec, designById('V3')!), new ReplayStrategy({ decisions: [] }), {
      allViolations: true,
    });
    assert.deepEqual(
      r.findings.filter((f) => fails(f.violation, false)),
      [],
    );
  });
});

describe('the catalogue', () => {
  const files = readdirSync('scenarios').filter((f) => f.endsWith('.yaml'));

  it('scenarios/*.yaml are exactly what npm run catalogue generates', () => {
    const want = new Map(catalogue().map((s) => [`${s.name}.yaml`, s]));
    assert.deepEqual(files.sort(), [...want.keys()].sort());
    for (const [f, s] of want) {
      assert.equal(
        readFileSync(`scenarios/${f}`, 'utf8'),
        dumpScenario(s, fileHeader(s)),
        `${f} is stale: run npm run catalogue`,
      );
    }
  });

  it('each file loads and behaves as the builder spec it came from', () => {
    for (const s of catalogue()) {
      const loaded = parseScenario(readFileSync(`scenarios/${s.name}.yaml`, 'utf8'), s.name);
      const run = (spec: typeof s) => {
        let w: World | null = null;
        const r = explore(buildProgram(spec, designById('V3')!), new ReplayStrategy({ decisions: [] }), {
          allViolations: true,
          maxSteps: 100_000,
          onExecution: (_, world) => {
            w = world;
          },
        });
        return `${finalState(w!)} | ${r.findings.map((f) => f.violation.title).join(';')}`;
      };
      assert.equal(run(loaded.spec), run(s), s.name);
    }
  });
});

describe('ITS actions that can never take effect are refused at load time', () => {
  const LPI = readFileSync('scenarios/happy-lpi.yaml', 'utf8');
  const withAction = (action: string) =>
    LPI.replace('          - {cmd: INT, device: 1, event: 0}', `          - ${action}`);

  it('an INT, DISCARD, CLEAR, INV or MOVI of an event that nothing maps', () => {
    for (const cmd of ['INT', 'DISCARD', 'CLEAR', 'INV'])
      assert.match(
        err(withAction(`{cmd: ${cmd}, device: 1, event: 5}`)).message,
        new RegExp(
          `^scenarios/x\\.yaml:22:13: actors\\[1\\]\\.actions\\[0\\]\\.cmds\\[0\\]: ${cmd} names device 1 event 5, which nothing maps\\n  hint: map it with an interrupt's lpi:`,
        ),
      );
  });

  it('a MOVI to a collection that nothing maps', () => {
    const e = err(withAction('{cmd: MOVI, device: 1, event: 0, collection: 3}'));
    assert.match(e.message, /cmds\[0\]\.collection: MOVI to collection 3, which nothing maps/);
    parseScenario(
      withAction('{cmd: MOVI, device: 1, event: 0, collection: 3}').replace(
        '          - {cmd: MOVI',
        '          - {cmd: MAPC, collection: 3, vcpu: 0}\n          - {cmd: MOVI',
      ),
      'x.yaml',
    );
  });

  it('a MAPTI on a device that nothing maps; a MAPD that unmaps one', () => {
    assert.match(
      err(withAction('{cmd: MAPTI, device: 7, event: 0, intid: 8201, collection: 0}')).message,
      /cmds\[0\]\.device: MAPTI on device 7, which nothing maps/,
    );
    assert.match(
      err(withAction('{cmd: MAPD, device: 7, valid: false}')).message,
      /cmds\[0\]\.device: MAPD unmaps device 7, which nothing maps/,
    );
  });

  it('an MSI that nothing maps; one that a MAPTI maps loads and is delivered by the slow path', () => {
    const msi = (device: number, event: number) =>
      LPI.replace(
        '      - call: its\n        cmds:\n          - {cmd: INT, device: 1, event: 0}',
        `      - {call: msi, device: ${device}, event: ${event}}`,
      );
    assert.match(
      err(msi(1, 4)).message,
      /^scenarios\/x\.yaml:20:9: actors\[1\]\.actions\[0\]: this MSI can never be delivered: nothing maps device 1 event 4/,
    );
    // Nothing cached it before: the slow path resolves, caches and delivers it.
    const s = parseScenario(msi(1, 0), 'x.yaml');
    const r = explore(buildProgram(s.spec, designById('V3')!), new ReplayStrategy({ decisions: [] }), {
      allViolations: true,
    });
    assert.deepEqual(
      r.findings.filter((f) => fails(f.violation, false)),
      [],
    );
  });
});
