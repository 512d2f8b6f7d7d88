import type { Execution, Program } from '../../explore/execution.ts';
import { SimpleViolation } from '../../explore/violation.ts';
import { Kernel, type KernelConfig } from '../kernel.ts';

/** A small concurrent program over the kernel runtime, with the answer the explorer must give. */
export interface CorpusProgram extends Program {
  readonly description: string;
  /** Titles (prefixes) of the findings exhaustive exploration must produce; empty means clean. */
  readonly expect: readonly string[];
}

export function kernelProgram(
  name: string,
  description: string,
  expect: readonly string[],
  setup: (k: Kernel, exec: Execution) => void,
  config: Partial<KernelConfig> = {},
): CorpusProgram {
  return {
    name,
    description,
    expect,
    build(exec: Execution): void {
      const k = new Kernel(exec, {
        version: '6.19.0',
        design: 'corpus',
        scenario: name,
        hardware: 'vgic-lab model (corpus, no GIC)',
        ...config,
      });
      setup(k, exec);
    },
  };
}

/** An end-of-execution oracle failure. */
export function oracle(exec: Execution, title: string, ok: boolean): void {
  if (!ok) exec.report(new SimpleViolation('oracle', title, false));
}
