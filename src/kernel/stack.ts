/**
 * Model functions and call stacks. A frame names a modelled kernel function and the model step inside
 * it; printed the kernel's way as `symbol+0x<step>/0x<length>`. Frames are immutable and shared, so a
 * sanitizer can keep "the stack at this access" by holding one pointer.
 */

/** How a modelled kernel function is described: its symbol, its source file and its named steps. */
export interface FnDef<S extends string> {
  /** The kernel symbol, as a backtrace prints it. */
  name: string;
  /** The kernel source file, for WARN/BUG locations (`file:line`). */
  file: string;
  /**
   * The function's model steps in source order. Step i is offset i + 1 (offset 0 is the entry), and
   * the length is one past the last step, so `+0x<offset>/0x<length>` reads as in a kernel backtrace.
   */
  steps: readonly S[];
  /** The kernel source line of the WARN or BUG at a step. */
  lines?: { readonly [K in S]?: number };
}

export class Fn<S extends string = string> {
  readonly name: string;
  readonly file: string;
  /** Number of model offsets the function has (the `/0x<length>` part). */
  readonly length: number;
  private readonly offsets = new Map<string, number>();
  private readonly lineAt: number[] = [];

  constructor(def: FnDef<S>) {
    this.name = def.name;
    this.file = def.file;
    this.length = def.steps.length + 1;
    def.steps.forEach((s, i) => {
      if (this.offsets.has(s)) throw new Error(`${def.name}: step "${s}" is named twice`);
      this.offsets.set(s, i + 1);
      this.lineAt[i + 1] = def.lines?.[s] ?? 0;
    });
  }

  /** The offset of a named step; an unknown name is a bug of the model (the type system catches it). */
  offset(step: S): number {
    const pc = this.offsets.get(step);
    if (pc === undefined) throw new Error(`${this.name} has no step "${step}"`);
    return pc;
  }

  /** The kernel source line of the check at an offset (0 when unknown). */
  line(pc: number): number {
    return this.lineAt[pc] ?? 0;
  }
}

/** The step names of a function. */
export type StepOf<F> = F extends Fn<infer S> ? S : never;

/** Describes a kernel function; `const` keeps the step names as a union of literals. */
export function defineFn<const S extends string>(def: FnDef<S>): Fn<S> {
  return new Fn(def);
}

export class Frame {
  constructor(
    readonly fn: Fn,
    readonly pc: number,
    readonly parent: Frame | null,
  ) {}

  location(): string {
    return `${this.fn.name}+0x${this.pc.toString(16)}/0x${this.fn.length.toString(16)}`;
  }

  /** `file:line` of the check at this step, as WARN and BUG print it. */
  fileLine(): string {
    return `${this.fn.file}:${this.fn.line(this.pc)}`;
  }
}

export function frames(top: Frame | null): Frame[] {
  const out: Frame[] = [];
  for (let f = top; f; f = f.parent) out.push(f);
  return out;
}

/** The `Call trace:` body: one frame a line, innermost first, indented by `indent`. */
export function traceLines(top: Frame | null, indent = ' '): string[] {
  return frames(top).map((f) => indent + f.location());
}

/**
 * Pushes an out-of-line helper's frame (`kfree`, `refcount_warn_saturate`) on top of a stack, at its
 * entry or at a named step.
 */
export function withFrame<S extends string>(top: Frame | null, fn: Fn<S>, step?: S): Frame {
  return new Frame(fn, step === undefined ? 0 : fn.offset(step), top);
}
