import type { KTask } from '../kernel/function.ts';
import { raw_spin_lock_irqsave, raw_spin_unlock_irqrestore } from '../kernel/locks.ts';
import type { KObj } from '../kernel/mem.ts';
import { type Gen, irqLock } from './irq.ts';
import { vgic_get_irq, vgic_put_irq } from './refs.ts';
import type { Vcpu, Vm } from './vm.ts';

export const WITH_IRQ_STEPS = ['lock', 'update', 'put_irq'] as const;
type WithIrqStep = (typeof WITH_IRQ_STEPS)[number];

/**
 * What most register writes of one interrupt do (vgic-mmio.c): runs `body` on the IRQ `intid` under
 * its irq_lock, with a reference; `body` may queue it (and so unlock).
 */
export function* withIrq(
  t: KTask<WithIrqStep>,
  vm: Vm,
  v: Vcpu,
  intid: number,
  body: (irq: KObj, flags: unknown) => Gen<boolean> | boolean,
): Gen {
  const irq = yield* vgic_get_irq(t, vm, v, intid);
  if (!irq) return;
  t.at('lock');
  const flags = yield raw_spin_lock_irqsave(t, irqLock(t, irq));
  t.at('update');
  const res = body(irq, flags);
  const unlocked = typeof res === 'boolean' ? res : yield* res;
  if (!unlocked) raw_spin_unlock_irqrestore(t, irqLock(t, irq), flags);
  t.at('put_irq');
  yield* vgic_put_irq(t, vm, irq);
}
