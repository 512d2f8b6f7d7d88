import { DEFAULT_VM_CONFIG } from '../../vgic/vm.ts';
import type { ScenarioSpec } from '../builder.ts';

export const DEFAULT_VM: ScenarioSpec['vm'] = { ...DEFAULT_VM_CONFIG };
