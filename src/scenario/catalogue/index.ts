import { MODELINE } from '../json-schema.ts';
import type { ScenarioSpec } from '../schema.ts';
import { fail, inj, kutIpi, pre, rst } from './conformance.ts';
import { kutActiveGicv2, kutIpiGicv2, onGicv2, tailWalkVsQueueGicv2 } from './gicv2.ts';
import { happyLpi, happyPpi, happySgi, happySpiEdge, happySpiLevel } from './happy.ts';
import { headWalk } from './head-walk.ts';
import { lrOverflow } from './lr-overflow.ts';
import { levelResample } from './resample.ts';
import { seedRace, seedRaceDiscarded, seedRaceDiscardedNoEoi } from './seed-race.ts';
import { SWITCH_SCENARIOS } from './switches.ts';
import { timerHwEoimode1 } from './timer.ts';

/** The comment lines a catalogue file starts with: the schema it follows, and where it comes from. */
export function fileHeader(s: ScenarioSpec): string {
  return `${MODELINE}\n# ${s.name}: generated from src/scenario/catalogue by "npm run catalogue"; copy it to write your own.\n`;
}

/**
 * The built-in catalogue. `scenarios/*.yaml` are generated from it (npm run catalogue) so that every
 * scenario also exists as a file to read, copy and edit.
 */
export function catalogue(): ScenarioSpec[] {
  const conf: ScenarioSpec[] = [];
  for (const trigger of ['edge', 'level'] as const) {
    for (const eoimode of [0, 1] as const) {
      const c = { trigger, eoimode, nrLr: 4 };
      const m = trigger === 'edge' ? 'EDGE_IRQ_LINE' : 'SET_IRQ_LINE_HIGH';
      conf.push(
        inj('INJ-SPI-1', [32], m, c),
        pre('PRE-SPI-4', 32, 4, [], m, c),
        rst('RST-SPI-4', 32, 4, c),
        fail(m, c),
      );
    }
  }
  conf.push(inj('INJ-SGI-ALL', [...Array(16).keys()], 'ISPENDR', { trigger: 'edge', eoimode: 0, nrLr: 4 }));
  conf.push(kutIpi('self', 4, 4), kutIpi('target-list', 4, 4), kutIpi('broadcast', 4, 4));
  // GICv2: the selftest's SPI cases (its SGI case injects through ISPENDR, which ignores a GICv2 VM's
  // SGIs) and kvm-unit-tests' gicv2-ipi and gicv2-active.
  const gicv2 = [
    onGicv2(headWalk),
    onGicv2(lrOverflow(0)),
    onGicv2(lrOverflow(1)),
    tailWalkVsQueueGicv2,
    onGicv2(happySgi),
    onGicv2(happySpiEdge),
    onGicv2(happySpiLevel),
    ...conf.filter((s) => !s.name.startsWith('inj-sgi') && !s.name.startsWith('kut-')).map(onGicv2),
    kutIpiGicv2('self', 4, 4),
    kutIpiGicv2('target-list', 4, 4),
    kutIpiGicv2('broadcast', 4, 4),
    kutActiveGicv2(4),
  ];
  return [
    seedRace,
    seedRaceDiscarded,
    seedRaceDiscardedNoEoi,
    headWalk,
    lrOverflow(0),
    lrOverflow(1),
    levelResample,
    timerHwEoimode1,
    happySgi,
    happyPpi,
    happySpiEdge,
    happySpiLevel,
    happyLpi,
    ...conf,
    ...SWITCH_SCENARIOS,
    ...gicv2,
  ];
}
