import type { GuestStep } from '../../gic/guest.ts';
import { DEFAULT_VM_CONFIG } from '../../vgic/vm.ts';
import type { ScenarioSpec } from '../builder.ts';

// A scenario always runs the architectural CPU interface, so its VM settings leave the switches out.
const { cpuif: _cpuif, ...vmSettings } = DEFAULT_VM_CONFIG;
export const DEFAULT_VM: ScenarioSpec['vm'] = vmSettings;

/** What every guest does first: enable group 1 and open the priority mask (VMCR resets to 0). */
export const GUEST_SETUP: GuestStep[] = [
  { op: 'igrpen', group: 1, enable: true },
  { op: 'pmr', value: 0xf8 },
];
