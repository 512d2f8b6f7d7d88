/**
 * The configuration the kernel under test was built with (docs/findings.md, "The kernel
 * configuration"): a preset, `debug` or `production`, with options turned on (`+NAME`) or off
 * (`-NAME`), e.g. `production+KASAN` or `debug-KCSAN+PREEMPT_RT`. It decides which sanitizers speak and
 * two behaviours of the kernel itself (NO_HZ_FULL, PREEMPT_RT).
 */
import type { Switches } from './switches.ts';

export const KCONFIG_OPTIONS = [
  'PROVE_LOCKING',
  'KASAN',
  'DEBUG_LIST',
  'KCSAN',
  'NO_HZ_FULL',
  'PREEMPT_RT',
] as const;
export type KconfigOption = (typeof KCONFIG_OPTIONS)[number];

export const KCONFIG_PRESETS = {
  /** Every sanitizer vgic-lab has: what a kernel developer runs a reproducer on. */
  debug: {
    PROVE_LOCKING: true,
    KASAN: true,
    DEBUG_LIST: true,
    KCSAN: true,
    NO_HZ_FULL: true,
    PREEMPT_RT: false,
  },
  /**
   * A distribution kernel: no sanitizer, so only oopses, BUG/WARN sites of the source, refcount_t
   * warnings (always built in) and hangs. The vCPU CPUs stay nohz_full, as on a host that isolates them.
   */
  production: {
    PROVE_LOCKING: false,
    KASAN: false,
    DEBUG_LIST: false,
    KCSAN: false,
    NO_HZ_FULL: true,
    PREEMPT_RT: false,
  },
} as const satisfies Record<string, Record<KconfigOption, boolean>>;
export type KconfigPreset = keyof typeof KCONFIG_PRESETS;

export interface KernelConfig {
  /** The canonical expression: the preset and the changes, as `production+KASAN`. */
  readonly name: string;
  readonly preset: KconfigPreset;
  readonly options: Readonly<Record<KconfigOption, boolean>>;
}

export class KconfigError extends Error {
  constructor(
    message: string,
    readonly hint: string,
  ) {
    super(message);
  }
}

const HINT = `presets: debug, production; options: ${KCONFIG_OPTIONS.join(', ')} (e.g. production+KASAN)`;

/** A preset with options turned on or off; a change that changes nothing is refused. */
export function kernelConfig(
  preset: KconfigPreset,
  changes: readonly [KconfigOption, boolean][] = [],
): KernelConfig {
  const options: Record<KconfigOption, boolean> = { ...KCONFIG_PRESETS[preset] };
  const seen = new Set<KconfigOption>();
  for (const [o, on] of changes) {
    if (seen.has(o)) throw new KconfigError(`${o} is changed twice`, 'name each option once');
    seen.add(o);
    if (options[o] === on)
      throw new KconfigError(`the ${preset} configuration already has ${o} ${on ? 'on' : 'off'}`, HINT);
    options[o] = on;
  }
  return { name: preset + changes.map(([o, on]) => `${on ? '+' : '-'}${o}`).join(''), preset, options };
}

/** Parses `PRESET(+OPTION|-OPTION)*`, names in any case. */
export function parseKernelConfig(text: string): KernelConfig {
  const m = /^([a-z]+)((?:[+-][A-Za-z_]*)*)$/i.exec(text.trim());
  const preset = m?.[1].toLowerCase();
  if (!m || !preset || !(preset in KCONFIG_PRESETS))
    throw new KconfigError(`unknown kernel configuration "${text}"`, HINT);
  const changes: [KconfigOption, boolean][] = [];
  for (const c of m[2].matchAll(/([+-])([A-Za-z_]*)/g)) {
    const o = KCONFIG_OPTIONS.find((x) => x.toLowerCase() === c[2].toLowerCase());
    if (!o) throw new KconfigError(`"${c[2]}" in "${text}" is not a kernel configuration option`, HINT);
    changes.push([o, c[1] === '+']);
  }
  // One spelling per configuration: the changes in the order of KCONFIG_OPTIONS.
  changes.sort((a, b) => KCONFIG_OPTIONS.indexOf(a[0]) - KCONFIG_OPTIONS.indexOf(b[0]));
  return kernelConfig(preset as KconfigPreset, changes);
}

export const DEBUG_CONFIG = kernelConfig('debug');

/** The runtime switches a configuration sets (the rest keep their defaults). */
export function switchesOf(c: KernelConfig): Partial<Switches> {
  const o = c.options;
  return {
    LOCKDEP: o.PROVE_LOCKING,
    PROVE_RCU: o.PROVE_LOCKING,
    KASAN: o.KASAN,
    LIST_CHECKS: o.DEBUG_LIST ? 'debug' : 'none',
    KCSAN: o.KCSAN,
    NO_HZ_FULL: o.NO_HZ_FULL,
    PREEMPT_RT: o.PREEMPT_RT,
  };
}

/** The scenario-file form of a configuration (its `kernel:` section). */
export function kernelSection(
  c: KernelConfig,
): { config: KconfigPreset } & Partial<Record<KconfigOption, boolean>> {
  const out: { config: KconfigPreset } & Partial<Record<KconfigOption, boolean>> = { config: c.preset };
  for (const o of KCONFIG_OPTIONS) if (c.options[o] !== KCONFIG_PRESETS[c.preset][o]) out[o] = c.options[o];
  return out;
}
