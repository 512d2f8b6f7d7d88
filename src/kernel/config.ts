import type { Switches } from './switches.ts';

/**
 * The kernel configuration a report assumes, as one line (syzbot prints the config its kernel was
 * built with; a report is only as good as that assumption). The RCU one matters most: the
 * use-after-free reports need guest mode to be an RCU extended quiescent state, which holds only
 * when the vCPU's CPU is nohz_full (CONFIG_NO_HZ_FULL with context tracking). Otherwise entering the
 * guest merely notes a quiescent state, flush → guest → fold runs with IRQs off, and no grace period
 * ends while a vCPU is in the guest. docs/findings.md explains each item.
 */
export function kernelConfigLine(release: string, s: Readonly<Switches>, preset = 'debug'): string {
  const on = (name: string, yes: boolean) => (yes ? [`CONFIG_${name}=y`] : []);
  const items = [
    'arm64',
    'CONFIG_PREEMPT=y',
    ...on('PREEMPT_RT', s.PREEMPT_RT),
    s.NO_HZ_FULL
      ? 'CONFIG_NO_HZ_FULL=y with the vCPU CPUs nohz_full (guest mode is an RCU extended quiescent state)'
      : 'no nohz_full CPU (a grace period waits for a vCPU in the guest)',
    ...on('PROVE_LOCKING', s.LOCKDEP),
    ...on('PROVE_RAW_LOCK_NESTING', s.LOCKDEP && s.LOCKDEP_RAW_LOCK_NESTING),
    ...on('PROVE_RCU', s.PROVE_RCU),
    ...on('KASAN=y CONFIG_KASAN_GENERIC', s.KASAN),
    ...(s.LIST_CHECKS === 'debug' ? ['CONFIG_DEBUG_LIST=y'] : []),
    ...(s.LIST_CHECKS === 'hardened' ? ['CONFIG_LIST_HARDENED=y'] : []),
    ...on('BUG_ON_DATA_CORRUPTION', s.BUG_ON_DATA_CORRUPTION),
    ...on('KCSAN', s.KCSAN),
    ...(s.PANIC_ON_WARN ? ['panic_on_warn=1'] : []),
  ];
  const assumed = preset === 'debug' ? 'assumed config' : `config ${preset}`;
  return `kernel ${release}, ${assumed}: ${items.join(', ')}`;
}
