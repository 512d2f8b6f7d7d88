import type { ScenarioSpec } from '../schema.ts';
import {
  type Config,
  fail,
  inj,
  kutIpi,
  METHODS,
  type Method,
  methodApplies,
  pre,
  rst,
  TIMER_PPIS,
} from './conformance.ts';

const range = (a: number, b: number) => [...Array(b - a + 1).keys()].map((i) => a + i);

/**
 * Every conformance case for the given nLR values (N = 64). PRE and RST come in the selftest's sizes
 * (`full`) and/or with 4 interrupts (`legacy-4`, names ending in -4).
 */
export function conformanceSuite(
  nLrs: readonly number[],
  sizes: readonly ('full' | 'legacy-4')[] = ['full'],
): ScenarioSpec[] {
  const out: ScenarioSpec[] = [];
  for (const nrLr of nLrs) {
    for (const trigger of ['edge', 'level'] as const) {
      for (const eoimode of [0, 1] as const) {
        const c: Config = { trigger, eoimode, nrLr };
        const methods = METHODS[trigger].map((m) => m.method);
        const injSets: [string, number[]][] =
          trigger === 'edge'
            ? [
                ['INJ-SGI-1', [0]],
                ['INJ-SGI-ALL', range(0, 15)],
                ['INJ-SPI-1', [32]],
                ['INJ-SPI-LAST', [63]],
                ['INJ-SPI-ALL', range(32, 63)],
              ]
            : [
                ['INJ-PPI-1', [16]],
                ['INJ-SPI-1', [32]],
                ['INJ-SPI-LAST', [63]],
                ['INJ-SPI-ALL', range(32, 63)],
              ];
        for (const [id, set] of injSets) {
          for (const m of methods)
            if (set.every((i) => methodApplies(trigger, m, i))) out.push(inj(id, set, m, c));
        }
        for (const size of sizes) {
          const pres: [string, number, number, number[]][] =
            trigger === 'edge'
              ? [
                  ['PRE-SGI', 0, size === 'full' ? 16 : 4, []],
                  ['PRE-SPI', 32, size === 'full' ? 31 : 4, []],
                ]
              : [
                  ['PRE-PPI', 16, size === 'full' ? 16 : 4, size === 'full' ? TIMER_PPIS : []],
                  ['PRE-SPI', 32, size === 'full' ? 31 : 4, []],
                ];
          for (const [id, first, num, exclude] of pres) {
            for (const m of methods as Method[])
              if (methodApplies(trigger, m, first))
                out.push(pre(size === 'full' ? id : `${id}-4`, first, num, exclude, m, c));
          }
          for (const [id, first, num] of [
            ['RST-SGI', 0, size === 'full' ? 16 : 4],
            ['RST-PPI', 16, size === 'full' ? 16 : 4],
            ['RST-SPI', 32, size === 'full' ? 31 : 4],
          ] as const) {
            out.push(rst(size === 'full' ? id : `${id}-4`, first, num, c));
          }
        }
        for (const m of methods) out.push(fail(m, c));
      }
    }
    for (const kind of ['self', 'target-list', 'broadcast'] as const) out.push(kutIpi(kind, 4, nrLr));
  }
  return out;
}
