import {
  DEFAULT_MAX_STEPS,
  type Execution,
  type Program,
  type Session,
} from '../../src/explore/execution.ts';
import { runExecution } from '../../src/explore/record.ts';
import { ReplayScheduler } from '../../src/explore/schedule.ts';
import type { Violation } from '../../src/explore/violation.ts';
import { Kernel, type KernelConfig } from '../../src/kernel/kernel.ts';
import { listFields } from '../../src/kernel/list.ts';
import { StructType } from '../../src/kernel/mem.ts';
import { defineFn, type Fn } from '../../src/kernel/stack.ts';

export const T = new StructType('thing', 256, [
  { name: 'irq_lock', size: 4 },
  { name: 'val' },
  { name: 'refcount', size: 4 },
  { name: 'lock2', size: 4 },
  { name: 'mtx', size: 8 },
  ...listFields('ap_list', 72),
  ...listFields('head', 96),
]);

/**
 * A function for sanitizer tests whose offsets are set by number: steps `s1`…`s<length-1>`, so
 * `t.at('s3')` prints `+0x3/0x<length>` as the expected report texts say.
 */
export function testFn(name: string, file: string, length: number, lines: Record<string, number> = {}): Fn {
  const steps = Array.from({ length: length - 1 }, (_, i) => `s${i + 1}`);
  return defineFn({ name, file, steps, lines });
}

export const FN = testFn('test_fn', 'arch/arm64/kvm/vgic/vgic.c', 0x10, { s3: 741 });
export const TAIL = [testFn('kvm_vcpu_ioctl', '', 3), testFn('kvm_arch_vcpu_ioctl_run', '', 0x2a)];

/** Runs one execution of `setup` under the default schedule (or `decisions`), in `session`. */
export function runOnce(
  setup: (k: Kernel) => void,
  opts: { decisions?: number[]; session?: Session; index?: number; config?: Partial<KernelConfig> } = {},
): { exec: Execution; k: Kernel; violations: Violation[]; texts: string[] } {
  const program: Program<Kernel> = {
    name: 'unit',
    build(e) {
      const k = new Kernel(e, {
        version: '6.19.0',
        design: 'V3',
        scenario: 'unit',
        hardware: 'vgic-lab model (GICv3, 2 vCPUs, nLR=4)',
        ...opts.config,
      });
      setup(k);
      return { world: k, observer: k.observer() };
    },
  };
  const { exec, world: k } = runExecution(
    program,
    new ReplayScheduler(opts.decisions ?? []),
    { maxSteps: DEFAULT_MAX_STEPS },
    opts,
  );
  return { exec, k, violations: exec.violations, texts: exec.violations.map((v) => v.text()) };
}

export function vcpu(i: number) {
  return { comm: `CPU ${i}/KVM`, pid: 1000 + i, cpu: i, kind: 'vcpu' as const, tail: TAIL };
}
