import { workerData } from 'node:worker_threads';
import { Stop } from '../explore/stop.ts';
import { runCommand } from './command.ts';

/** What main.ts hands the worker: the command line, the cell it notes signals in, the terminal. */
export interface WorkerData {
  argv: string[];
  signal: Int32Array;
}

// The worker thread: it runs the command while the main thread stays free to receive signals. The
// bundle's loader waits for `done` (scripts/worker-loader.mjs), so there is no top-level await.
const data = workerData as WorkerData;
export const done = runCommand(data.argv, new Stop(data.signal)).then((code) => {
  process.exitCode = code;
});
