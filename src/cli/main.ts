import { setFlagsFromString } from 'node:v8';
import { startWorker } from './spawn.ts';
import { terminalHere } from './tty.ts';
import { V8_FLAGS } from './v8-flags.ts';

/**
 * The vgic-lab command's main thread. The work runs on a worker thread (worker.ts) so that this
 * thread stays free to receive signals: JavaScript sees a signal only when its event loop turns,
 * which a long execution, a minimisation or a report would hold up. The first SIGINT, SIGTERM or
 * SIGHUP is noted in a shared cell that the worker's loops poll: it stops and prints what it found
 * (exit 130, 143 or 129). A second one ends the process at once. This module imports nothing heavy,
 * so the main thread starts in a few milliseconds.
 */

for (const flag of V8_FLAGS) setFlagsFromString(flag);

const SIGNALS = { SIGINT: 2, SIGTERM: 15, SIGHUP: 1 } as const;
/** How long the worker may take to stop after a signal before the process ends without it. */
const GRACE_MS = 1500;
const INTERNAL = 3;

function main(): void {
  const signal = new Int32Array(new SharedArrayBuffer(4));
  const worker = startWorker({ argv: process.argv, signal, terminal: terminalHere() });
  let received = 0;

  // The worker writes its output to the file descriptors itself (output.ts). Anything else it
  // writes to process.stdout or process.stderr arrives here and is passed on; those streams are read
  // to their end, so that a worker never waits for a reader.
  const forward = (from: NodeJS.ReadableStream, to: () => NodeJS.WriteStream) => {
    let open = true;
    let watched = false;
    from.on('data', (chunk) => {
      if (!open) return;
      const stream = to();
      if (!watched) {
        watched = true;
        stream.once('error', () => {
          open = false;
        });
      }
      stream.write(chunk);
    });
  };
  forward(worker.stdout, () => process.stdout);
  forward(worker.stderr, () => process.stderr);

  for (const [name, no] of Object.entries(SIGNALS)) {
    process.on(name, () => {
      if (received !== 0) process.exit(128 + received);
      received = no;
      Atomics.store(signal, 0, no);
      setTimeout(() => {
        process.stderr.write(
          `vgic-lab: ${name}: the work did not stop within ${GRACE_MS / 1000} s; ending it\n`,
        );
        process.exit(128 + no);
      }, GRACE_MS).unref();
    });
  }

  let crashed = false;
  worker.on('error', (e) => {
    process.stderr.write(`vgic-lab: internal error (a bug in vgic-lab, please report it): ${e.stack ?? e}\n`);
    crashed = true;
  });
  worker.on('exit', (code) => {
    // A worker that died of an uncaught error (out of memory, say) exits 1: that is not a finding.
    // The worker says 130 for any interruption; the signal that caused it decides the status.
    process.exitCode = crashed ? INTERNAL : received !== 0 && code === 130 ? 128 + received : code;
    // Signal handlers would keep the process alive: they are no longer needed.
    for (const name of Object.keys(SIGNALS)) process.removeAllListeners(name);
  });
}

main();
