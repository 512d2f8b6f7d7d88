/**
 * A problem in a scenario file, with where it is and how to fix it: the CLI prints it without a stack
 * and exits 2. It lives apart from the loader so that the builder, which finds prologue problems only
 * when it runs the prologue, can raise the same error without pulling in the YAML parser.
 */
export class ScenarioError extends Error {
  constructor(
    readonly file: string,
    readonly line: number,
    readonly col: number,
    readonly path: string,
    readonly problem: string,
    readonly hint = '',
  ) {
    super(`${file}:${line}:${col}: ${path ? `${path}: ` : ''}${problem}${hint ? `\n  hint: ${hint}` : ''}`);
  }
}
