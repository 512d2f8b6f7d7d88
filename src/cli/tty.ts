import { isatty } from 'node:tty';
import { isMainThread, workerData } from 'node:worker_threads';

/**
 * What the terminal is, as the main thread sees it: a worker's own stdout and stderr are forwarding
 * streams, never terminals, so the worker learns the truth from the main thread (main.ts).
 */
export interface Terminal {
  stdout: boolean;
  stderr: boolean;
  columns: number;
}

/**
 * Asked of the file descriptors, so that a pipe is left as it is (the worker writes to it directly);
 * only a terminal's width needs its stream.
 */
export function terminalHere(): Terminal {
  const out = isatty(1);
  // A terminal that reports no width (0, as some do) is taken as 80 columns.
  return { stdout: out, stderr: isatty(2), columns: (out && process.stdout.columns) || 80 };
}

export function terminal(): Terminal {
  if (isMainThread) return terminalHere();
  return (workerData as { terminal: Terminal }).terminal;
}
