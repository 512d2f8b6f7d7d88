import { defineFn, type Fn, type FnDef } from './stack.ts';
import type { Task } from './task.ts';

/**
 * The task as a kernel function's body sees it: `t.at(step)` accepts only that function's step names,
 * so a misspelt step is a compile error.
 */
export interface KTask<S extends string> extends Task {
  at(step: S): void;
}

/** A modelled kernel function: callable like its body, minus the bookkeeping. */
export type KernelFn<A extends unknown[], R> = ((t: Task, ...args: A) => R) & { readonly fn: Fn };

const GENERATOR_PROTO = Object.getPrototypeOf(function* () {});
/** The most arguments a kernel function takes after its task. */
const MAX_ARGS = 6;
type Body = (t: Task, ...args: unknown[]) => unknown;
// %GeneratorPrototype%: the prototype of every generator function's own prototype.
const GENERATOR_OBJECT_PROTO = GENERATOR_PROTO.prototype;

function isGenerator(x: unknown): boolean {
  if (typeof x !== 'object' || x === null) return false;
  const proto = Object.getPrototypeOf(x);
  return proto !== null && Object.getPrototypeOf(proto) === GENERATOR_OBJECT_PROTO;
}

/**
 * Defines a modelled kernel function. The body runs with the function's frame on the task's call
 * stack — pushed on entry, its step moved by `t.at('step')`, popped when the body returns, throws or
 * (for a generator body) is abandoned — so a report raised anywhere inside prints the backtrace
 * `symbol+0x<step>/0x<length>` up through its callers.
 */
export function kernelFn<const S extends string, A extends unknown[], R>(
  def: FnDef<S>,
  body: (t: KTask<S>, ...args: A) => R,
): KernelFn<A, R> {
  const fn = defineFn(def);
  if (body.length > MAX_ARGS + 1)
    throw new Error(`${def.name}: more than ${MAX_ARGS} arguments after the task`);
  // Fixed parameters rather than a rest array: no allocation per call on the explorer's hot path.
  // Arguments the caller leaves out arrive as undefined, so the body's defaults still apply.
  const run = body as unknown as Body;
  const wrapped =
    Object.getPrototypeOf(body) === GENERATOR_PROTO
      ? function* (t: Task, a?: unknown, b?: unknown, c?: unknown, d?: unknown, e?: unknown, f?: unknown) {
          t.enter(fn);
          try {
            return yield* run(t, a, b, c, d, e, f) as Generator<unknown, unknown, unknown>;
          } finally {
            t.leave();
          }
        }
      : (t: Task, a?: unknown, b?: unknown, c?: unknown, d?: unknown, e?: unknown, f?: unknown) => {
          t.enter(fn);
          try {
            const r = run(t, a, b, c, d, e, f);
            // A generator made here would run after the frame is gone: the body must be a function*.
            if (isGenerator(r)) throw new Error(`${def.name}: write a body that yields as function*`);
            return r;
          } finally {
            t.leave();
          }
        };
  return Object.assign(wrapped as unknown as (t: Task, ...args: A) => R, { fn });
}
