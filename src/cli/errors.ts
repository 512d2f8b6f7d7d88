/** A usage or input error: printed without a stack trace, exit code 2. */
export class UsageError extends Error {
  constructor(
    message: string,
    readonly hint = '',
  ) {
    super(message);
  }
}

export const EXIT = { OK: 0, VIOLATION: 1, USAGE: 2, INTERNAL: 3, INTERRUPTED: 130 } as const;
