import { Execution, Session } from '../../src/explore/execution.ts';
import { ReplayScheduler } from '../../src/explore/schedule.ts';
import type { Violation } from '../../src/explore/violation.ts';
import { Kernel, type KernelConfig } from '../../src/kernel/kernel.ts';
import { listFields } from '../../src/kernel/list.ts';
import { StructType } from '../../src/kernel/mem.ts';
import { Fn } from '../../src/kernel/stack.ts';

export const T = new StructType('thing', 256, [
  { name: 'irq_lock', size: 4 },
  { name: 'val' },
  { name: 'refcount', size: 4 },
  { name: 'lock2', size: 4 },
  { name: 'mtx', size: 8 },
  ...listFields('ap_list', 72),
  ...listFields('head', 96),
]);

export const FN = new Fn('test_fn', 0x10, 'arch/arm64/kvm/vgic/vgic.c', { 3: 741 });
export const TAIL = [new Fn('kvm_vcpu_ioctl', 3), new Fn('kvm_arch_vcpu_ioctl_run', 0x2a)];

/** Runs one execution of `setup` under the default schedule (or `decisions`), in `session`. */
export function runOnce(
  setup: (k: Kernel) => void,
  opts: { decisions?: number[]; session?: Session; index?: number; config?: Partial<KernelConfig> } = {},
): { exec: Execution; k: Kernel; violations: Violation[]; texts: string[] } {
  const exec = new Execution(
    opts.index ?? 1,
    opts.session ?? new Session(),
    new ReplayScheduler(opts.decisions ?? []),
    {
      maxSteps: 10_000,
    },
  );
  let kernel: Kernel | undefined;
  exec.run((e) => {
    kernel = new Kernel(e, {
      version: '6.19.0',
      design: 'V3',
      scenario: 'unit',
      hardware: 'vgic-lab model (GICv3, 2 vCPUs, nLR=4)',
      ...opts.config,
    });
    setup(kernel);
  });
  return { exec, k: kernel!, violations: exec.violations, texts: exec.violations.map((v) => v.text()) };
}

export function vcpu(i: number) {
  return { comm: `CPU ${i}/KVM`, pid: 1000 + i, cpu: i, kind: 'vcpu' as const, tail: TAIL };
}
