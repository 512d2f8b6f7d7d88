/** Sanitizer switches (docs/model.md, Glossary). Defaults are those of a debug kernel. */
export interface Switches {
  LOCKDEP: boolean;
  LOCKDEP_RAW_LOCK_NESTING: boolean;
  LOCKDEP_SCOPE: 'run' | 'execution';
  LOCKDEP_ONE_SHOT: boolean;
  KASAN: boolean;
  KASAN_ONE_SHOT: boolean;
  LIST_CHECKS: 'debug' | 'hardened' | 'none';
  BUG_ON_DATA_CORRUPTION: boolean;
  REFCOUNT_CHECKS: boolean;
  PROVE_RCU: boolean;
  KCSAN: boolean;
  KCSAN_STRICT: boolean;
  /** vgic-lab's lock-discipline notes (P-LOCK); not a kernel option. */
  LOCK_DISCIPLINE_NOTES: boolean;
  PREEMPT_RT: boolean;
  /** The vCPU CPUs are nohz_full: guest mode is an RCU extended quiescent state. */
  NO_HZ_FULL: boolean;
  WARN_FORMAT: 'classic' | 'comm';
  PANIC_ON_WARN: boolean;
}

export const DEFAULT_SWITCHES: Readonly<Switches> = {
  LOCKDEP: true,
  LOCKDEP_RAW_LOCK_NESTING: true,
  LOCKDEP_SCOPE: 'run',
  LOCKDEP_ONE_SHOT: false,
  KASAN: true,
  KASAN_ONE_SHOT: false,
  LIST_CHECKS: 'debug',
  BUG_ON_DATA_CORRUPTION: false,
  REFCOUNT_CHECKS: true,
  PROVE_RCU: true,
  KCSAN: true,
  KCSAN_STRICT: false,
  LOCK_DISCIPLINE_NOTES: true,
  PREEMPT_RT: false,
  NO_HZ_FULL: true,
  WARN_FORMAT: 'classic',
  PANIC_ON_WARN: false,
};
