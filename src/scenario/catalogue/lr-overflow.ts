import type { GuestStep } from '../../gic/guest.ts';
import { type ScenarioSpec, scenario } from '../schema.ts';
import { GUEST_SETUP } from './common.ts';

/**
 * More active interrupts than LRs under EOImode `eoimode`: three SPIs made active by userspace
 * (ISACTIVER, as after a migration), their priorities restored into AP1R0, then EOId (and DIRd) in
 * reverse priority order. Before the LR-overflow rework (V0) the deactivation of the one outside the
 * LRs is lost when the guest reaches it before the underflow exit refills the LRs.
 */
export function lrOverflow(eoimode: 0 | 1): ScenarioSpec {
  const ids = [32, 33, 34];
  const prio = (k: number) => (ids.length - 1 - k) * 8;
  return scenario({
    name: `lr-overflow-eoimode${eoimode}`,
    description: `three active interrupts, two LRs, EOImode ${eoimode}`,
    vm: { vcpus: 1, nrLr: 2, maxMiDelay: 2 },
    interrupts: ids.map((intid, k) => ({ intid, priority: prio(k), enabled: true, target: 0 })),
    prologue: [
      {
        vcpu: 0,
        guest: [
          ...GUEST_SETUP,
          { op: 'eoimode', value: eoimode },
          ...ids.flatMap((intid, k): GuestStep[] => [
            { op: 'hvc', call: { call: 'uaccess', write: { reg: 'ISACTIVER', intid } } },
            { op: 'apr', value: 1 << k, or: true },
          ]),
        ],
      },
    ],
    actors: [
      {
        vcpu: 0,
        guest: [
          ...[...ids]
            .reverse()
            .flatMap((intid): GuestStep[] => [
              { op: 'eoi', intid },
              ...(eoimode ? [{ op: 'dir' as const, intid }] : []),
            ]),
          { op: 'expect', apr: 0 },
        ],
      },
    ],
    expect: { final: ids.map((intid) => ({ intid, active: false })) },
  });
}
