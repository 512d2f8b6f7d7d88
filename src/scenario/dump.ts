import { Document, isScalar, type Node, visit } from 'yaml';
import type { Handler } from '../gic/guest.ts';
import type { ActorSpec, PrologueStep, ScenarioSpec } from './builder.ts';

function handlerName(h: Handler | undefined): string | undefined {
  if (!h) return undefined;
  if (h.kind === 'vgic') return h.level ? 'vgic-level' : 'vgic';
  return h.kind;
}

function clean<T extends Record<string, unknown>>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

/** The scenario file text of a builder spec (the inverse of load.ts's toSpec), for the catalogue. */
export function dumpScenario(s: ScenarioSpec, header = ''): string {
  const doc = {
    name: s.name.toLowerCase(),
    description: s.description,
    vm: clean({
      vcpus: s.vm.vcpus,
      nrLr: s.vm.nrLr,
      spis: s.vm.spis,
      its: s.vm.its || undefined,
      hostTdir: s.vm.hostTdir ? undefined : false,
      maxMiDelay: s.vm.maxMiDelay,
    }),
    interrupts: [
      ...s.irqs.map((i) =>
        clean({
          intid: i.intid,
          trigger: i.trigger,
          priority: i.priority,
          group: i.group,
          enabled: i.enabled,
          target: i.vcpu,
        }),
      ),
      ...s.lpis.map((l) =>
        clean({
          intid: l.intid,
          priority: l.priority,
          lpi: { device: l.device, event: l.event, collection: l.collection },
        }),
      ),
    ],
    lpisEnabled: s.lpisEnabledOn.length ? s.lpisEnabledOn : undefined,
    resamplers: s.resamplers?.length ? s.resamplers : undefined,
    prologue: s.prologue.length
      ? s.prologue.map((p: PrologueStep) =>
          'host' in p
            ? { host: p.host }
            : clean({ vcpu: p.vcpu, handler: handlerName(p.handler), guest: p.guest }),
        )
      : undefined,
    actors: s.actors.map((a: ActorSpec) =>
      a.kind === 'vcpu'
        ? clean({ vcpu: a.vcpu, handler: handlerName(a.handler), guest: a.guest })
        : { host: a.name ?? 'vmm', actions: a.host ?? [] },
    ),
    expect: clean({
      acks:
        s.expect.acks && Object.keys(s.expect.acks).length
          ? Object.fromEntries(Object.entries(s.expect.acks).map(([k, v]) => [k, v.ordered ? v : v.intids]))
          : undefined,
      ackPriorityOrder: s.expect.ackPriorityOrder,
      final: s.expect.finalState,
    }),
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
