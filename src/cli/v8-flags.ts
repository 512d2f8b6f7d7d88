/**
 * Two V8 settings for the way vgic-lab works, measured on the commands it runs (docs/bench.md). main.ts
 * sets them before the worker starts: they are process-wide and read as the worker's heap is made and
 * as functions warm up, so they cover all the work. The bench starts its measured processes with them.
 * - V8 optimises a function once it has run through this much bytecode (default 67,584). Most commands
 *   are short: a check that finds the seed race runs a few dozen executions, and optimising the
 *   model's functions then costs more CPU than it saves. Long explorations reach the larger budget
 *   within their first second and run as fast as before.
 * - Executions allocate many short-lived objects: a young generation of 2 MiB semi-spaces (V8 grows
 *   them to 16) is collected more often, but stays in the processor's caches and touches fewer pages,
 *   which is faster for short and long explorations alike.
 */
export const V8_FLAGS = ['--interrupt-budget=400000', '--max-semi-space-size=2'] as const;
