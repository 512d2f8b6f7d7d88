/**
 * The three classes of finding, defined once for every command, the matrix and the benchmark
 * (docs/findings.md):
 *
 * - `kernel`: what the modelled kernel itself would print on a debug build: oops and paging faults,
 *   BUG, KASAN, DEBUG_LIST corruption, refcount_t warnings, lockdep (wait context included), KCSAN,
 *   deadlocks and lockups, might_sleep, and the WARN/BUG_ON sites of the design's own source.
 * - `functional`: vgic-lab's oracles of guest-visible behaviour (`oracle`) and of KVM's own
 *   invariants (`invariant`), each a named property; a scenario's expectations, guest assertions
 *   and CPU-interface findings.
 * - `note`: lock-discipline notes, vgic-lab's own check that an access held the lock the data needs
 *   (P-LOCK). A note is a hint, not a failure: alone it does not make the exit status 1.
 */
export type FindingClass = 'kernel' | 'functional' | 'note';

const FUNCTIONAL_ORDER = ['oracle', 'expect', 'guest', 'arch', 'invariant'];
const FUNCTIONAL: ReadonlySet<string> = new Set(FUNCTIONAL_ORDER);

export function findingClass(checker: string): FindingClass {
  if (checker === 'note') return 'note';
  return FUNCTIONAL.has(checker) ? 'functional' : 'kernel';
}

export function isKernelReport(checker: string): boolean {
  return findingClass(checker) === 'kernel';
}

/**
 * Kernel checkers from most to least severe: a dead CPU, then memory corruption, then broken lists
 * and counts, then locking and data races, then plain warnings. Unknown kernel checkers rank with
 * the warnings.
 */
const KERNEL_ORDER = [
  'fault',
  'bug',
  'deadlock',
  'kasan',
  'list',
  'refcount',
  'lockdep',
  'might_sleep',
  'kcsan',
];

/** Rank of a finding: lower is more severe. Fatal kernel reports come before non-fatal ones. */
export function severity(f: { checker: string; fatal: boolean }): number {
  switch (findingClass(f.checker)) {
    case 'kernel': {
      const i = KERNEL_ORDER.indexOf(f.checker);
      return (f.fatal ? 0 : 100) + (i < 0 ? KERNEL_ORDER.length : i);
    }
    case 'functional':
      return 200 + FUNCTIONAL_ORDER.indexOf(f.checker);
    case 'note':
      return 300;
  }
}

/** Most severe first; findings of equal rank keep their order (the order they were found in). */
export function bySeverity<T>(items: readonly T[], of: (x: T) => { checker: string; fatal: boolean }): T[] {
  return [...items].sort((a, b) => severity(of(a)) - severity(of(b)));
}

/** Findings that count as a failure (exit status 1): kernel reports and functional findings, and
 * lock-discipline notes too with `strict`. */
export function fails(f: { checker: string }, strict: boolean): boolean {
  return strict || findingClass(f.checker) !== 'note';
}
