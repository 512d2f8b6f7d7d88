import {
  DEBUG_CONFIG,
  KCONFIG_OPTIONS,
  KCONFIG_PRESETS,
  type KconfigOption,
  type KernelConfig,
  kernelConfig,
} from '../kernel/kconfig.ts';
import type { ScenarioSpec } from './schema.ts';

// Apart from schema.ts, which needs zod: a check of a built-in scenario never loads zod (resolve.ts).
/** The kernel configuration a scenario asks for: its `kernel:` section, debug when it has none. */
export function kernelConfigOf(s: ScenarioSpec): KernelConfig {
  const k = s.kernel;
  if (!k) return DEBUG_CONFIG;
  const preset = KCONFIG_PRESETS[k.config];
  const changes: [KconfigOption, boolean][] = [];
  for (const o of KCONFIG_OPTIONS) {
    const v = k[o];
    if (v !== undefined && v !== preset[o]) changes.push([o, v]);
  }
  return kernelConfig(k.config, changes);
}
