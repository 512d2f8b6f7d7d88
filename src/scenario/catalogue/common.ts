import type { ScenarioSpec } from '../builder.ts';

export const DEFAULT_VM: Omit<ScenarioSpec['vm'], 'design'> = {
  nrVcpus: 1,
  nLr: 4,
  nrSpis: 32,
  its: false,
  hostTdir: true,
  maxMiDelay: 1,
};
