/**
 * Kernel functions a design module may replace (docs/designs.md, "Design modules"). Each is called
 * through `replaceable`, which runs the design's replacement when it has one, so that a user's
 * version is explored and checked exactly like the built-in one.
 */
import type { Task } from '../kernel/task.ts';
import type { Vm } from './vm.ts';

export const REPLACEABLE = [
  'vgic_fold_state',
  'vgic_v3_fold_lr_state',
  'vgic_v2_fold_lr_state',
  'vgic_flush_pending_lpis',
  'vgic_prune_ap_list',
  'vgic_flush_lr_state',
  'vgic_v3_deactivate',
  'vgic_v2_deactivate',
  'vgic_put_irq',
] as const;
export type Replaceable = (typeof REPLACEABLE)[number];

// biome-ignore lint/suspicious/noExplicitAny: any kernel function's parameters after (t, vm)
type ModelFn = (t: Task, vm: Vm, ...args: any[]) => unknown;

/** A replaceable kernel function: `builtin` is the model's own, for a replacement to call. */
export type ReplaceableFn<F extends ModelFn> = F & {
  readonly builtin: F;
  readonly replaceableName: Replaceable;
};

/** Calls the design's replacement of `name` when it has one, else `builtin` (keeping its frame data). */
export function replaceable<F extends ModelFn>(name: Replaceable, builtin: F): ReplaceableFn<F> {
  type Run = (t: Task, vm: Vm, a?: unknown, b?: unknown, c?: unknown, d?: unknown) => unknown;
  const run = builtin as unknown as Run;
  const dispatch = (t: Task, vm: Vm, a?: unknown, b?: unknown, c?: unknown, d?: unknown): unknown => {
    const own = vm.design.replace?.[name] as Run | undefined;
    return (own ?? run)(t, vm, a, b, c, d);
  };
  const fn = (builtin as { fn?: unknown }).fn;
  return Object.assign(
    dispatch,
    { builtin, replaceableName: name },
    fn ? { fn } : {},
  ) as unknown as ReplaceableFn<F>;
}
