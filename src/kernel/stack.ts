/**
 * Model functions and call stacks. A frame names a modelled kernel function and the model step inside
 * it; printed the kernel's way as `symbol+0x<step>/0x<length>`. Frames are immutable and shared, so a
 * sanitizer can keep "the stack at this access" by holding one pointer.
 */
export class Fn {
  constructor(
    readonly name: string,
    /** Number of model steps the function has (the `/0x<length>` part). */
    readonly length: number,
    /** Kernel source file, for WARN/BUG locations. */
    readonly file = '',
    /** Kernel source line of each check site, by model step (0 when unknown). */
    readonly lines: Readonly<Record<number, number>> = {},
  ) {}
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
    return `${this.fn.file}:${this.fn.lines[this.pc] ?? 0}`;
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

/** Pushes out-of-line helper frames (`kfree`, `refcount_warn_saturate`) on top of a stack. */
export function withFrame(top: Frame | null, fn: Fn, pc: number): Frame {
  return new Frame(fn, pc, top);
}
