import { writeSync } from 'node:fs';

/**
 * The command's output, written straight to file descriptors 1 and 2. On the worker thread,
 * process.stdout is a stream that hands its data to the main thread only when the worker's event
 * loop turns, which a long synchronous search never lets it do: progress lines would arrive after
 * the work. A write here is on its way when the call returns.
 *
 * A reader that went away (EPIPE) is not an error: the rest of that stream is dropped and the command
 * ends with the status it would have had. Any other failure (a full disk) is an OutputError.
 */
export class OutputError extends Error {}

type Sink = (fd: 1 | 2, text: string) => void;

const closed = new Set<number>();

function toFd(fd: 1 | 2, text: string): void {
  if (closed.has(fd)) return;
  const buf = Buffer.from(text);
  for (let off = 0; off < buf.length; ) {
    try {
      off += writeSync(fd, buf, off);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EAGAIN') continue;
      closed.add(fd);
      if (code === 'EPIPE') return;
      throw new OutputError(code === 'ENOSPC' ? 'no space left on device' : (e as Error).message);
    }
  }
}

let sink: Sink = toFd;

export function stdout(text: string): void {
  sink(1, text);
}

export function stderr(text: string): void {
  sink(2, text);
}

/** Routes the output elsewhere while `body` runs (tests run commands in-process). */
export async function capturing<T>(to: Sink, body: () => Promise<T>): Promise<T> {
  const saved = sink;
  sink = to;
  try {
    return await body();
  } finally {
    sink = saved;
  }
}
