/**
 * What the explorer knows of a finding: a checker name, a normalised title (equal titles are the same
 * finding), whether it ends the execution, and its text. The kernel layer fills in the rest.
 */
export interface Violation {
  readonly checker: string;
  readonly title: string;
  readonly fatal: boolean;
  /** Step (0-based index into the execution's trace) at which it fired; set by the execution. */
  step: number;
  /** Full report text as the kernel would print it, without the model trailer. */
  text(): string;
}

/** Thrown through model code to end an execution at a fatal report (oops, BUG, deadlock). */
export class FatalStop extends Error {
  constructor(readonly violation: Violation) {
    super(violation.title);
  }
}

/** A plain violation for explorer-level findings (deadlock without a kernel runtime, oracle failures). */
export class SimpleViolation implements Violation {
  step = -1;
  constructor(
    readonly checker: string,
    readonly title: string,
    readonly fatal: boolean,
    private readonly body: string = title,
  ) {}
  text(): string {
    return this.body;
  }
}
