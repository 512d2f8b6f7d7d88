import type { Execution, ExecutionObserver, Program } from '../../src/explore/execution.ts';
import { SimpleViolation } from '../../src/explore/violation.ts';
import { Kernel, type KernelConfig } from '../../src/kernel/kernel.ts';

/** A small concurrent program over the kernel runtime, with the answer the explorer must give. */
export interface CorpusProgram extends Program<Kernel> {
  readonly description: string;
  /** Titles (prefixes) of the findings exhaustive exploration must produce; empty means clean. */
  readonly expect: readonly string[];
}

export function kernelProgram(
  name: string,
  description: string,
  expect: readonly string[],
  /** Builds the program's world; returns its end checks and final-state summary, if it has any. */
  // biome-ignore lint/suspicious/noConfusingVoidType: most setups check nothing at the end and return nothing.
  setup: (k: Kernel, exec: Execution) => Pick<ExecutionObserver, 'atEnd' | 'finalState'> | void,
  config: Partial<KernelConfig> = {},
): CorpusProgram {
  return {
    name,
    description,
    expect,
    build(exec: Execution) {
      const k = new Kernel(exec, {
        version: '6.19.0',
        design: 'corpus',
        scenario: name,
        hardware: 'vgic-lab model (corpus, no GIC)',
        ...config,
      });
      return { world: k, observer: k.observer(setup(k, exec) ?? {}) };
    },
  };
}

/** An end-of-execution oracle failure. */
export function oracle(exec: Execution, title: string, ok: boolean): void {
  if (!ok) exec.report(new SimpleViolation('oracle', title, false));
}
