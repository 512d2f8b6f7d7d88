import { Document, isScalar, type Node, visit } from 'yaml';
import type { ScenarioSpec } from './schema.ts';

function clean<T extends Record<string, unknown>>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

/**
 * The file text of a scenario, for the catalogue's generated files: keys in the format's order,
 * defaults left out (the VM's gic when v3, its and hostTdir, empty lists, the exploration bounds).
 */
export function dumpScenario(s: ScenarioSpec, header = ''): string {
  const doc = {
    name: s.name,
    description: s.description,
    vm: clean({
      gic: s.vm.gic === 'v2' ? 'v2' : undefined,
      vcpus: s.vm.vcpus,
      nrLr: s.vm.nrLr,
      spis: s.vm.spis,
      its: s.vm.its || undefined,
      hostTdir: s.vm.hostTdir ? undefined : false,
      maxMiDelay: s.vm.maxMiDelay,
    }),
    interrupts: s.interrupts.map((i) =>
      clean({
        intid: i.intid,
        trigger: i.trigger,
        priority: i.priority,
        group: i.group,
        enabled: i.enabled,
        target: i.target,
        timer: i.timer,
        lpi: i.lpi,
      }),
    ),
    lpisEnabled: s.lpisEnabled.length ? s.lpisEnabled : undefined,
    resamplers: s.resamplers.length ? s.resamplers : undefined,
    prologue: s.prologue.length
      ? s.prologue.map((p) =>
          'host' in p ? { host: p.host } : clean({ vcpu: p.vcpu, handler: p.handler, guest: p.guest }),
        )
      : undefined,
    actors: s.actors.map((a) =>
      'vcpu' in a
        ? clean({ vcpu: a.vcpu, handler: a.handler, guest: a.guest })
        : { host: a.host, actions: a.actions },
    ),
    expect: clean({
      acks: s.expect.acks,
      ackPriorityOrder: s.expect.ackPriorityOrder,
      sgiSources: s.expect.sgiSources,
      final: s.expect.final,
    }),
    kernel: s.kernel,
  };
  const d = new Document(clean(doc), { aliasDuplicateObjects: false });
  // Small leaf mappings and lists read best on one line; priorities in hex, as kernel people write them.
  visit(d, {
    Map(_, node) {
      if (node.items.every((i) => isScalar(i.value)) && node.items.length <= 6) node.flow = true;
    },
    Seq(_, node) {
      if (node.items.every((i) => isScalar(i))) node.flow = true;
    },
    Pair(_, pair) {
      const key = isScalar(pair.key) ? String(pair.key.value) : '';
      if (
        (key === 'priority' || key === 'value') &&
        isScalar(pair.value) &&
        typeof pair.value.value === 'number'
      ) {
        (pair.value as Node & { format?: string }).format = 'HEX';
      }
    },
  });
  return `${header}${d.toString({ lineWidth: 120, flowCollectionPadding: false })}`;
}
