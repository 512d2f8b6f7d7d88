import { workerData } from 'node:worker_threads';
import { Stop } from '../explore/stop.ts';
import { runCommand } from './command.ts';
import type { UnitWorkerSetup } from './parallel.ts';
import { serveUnits } from './unit-worker.ts';

/**
 * What main.ts hands the worker: the command line, the cell it notes signals in, the terminal; or, for
 * a worker of `--jobs`, what it needs to explore units (parallel.ts).
 */
export interface WorkerData {
  argv: string[];
  signal: Int32Array;
  units?: UnitWorkerSetup;
}

// The worker thread: it runs the command while the main thread stays free to receive signals. The
// bundle's loader waits for `done` (scripts/worker-loader.mjs), so there is no top-level await.
const data = workerData as WorkerData;
export const done = data.units
  ? serveUnits(data.units)
  : runCommand(data.argv, new Stop(data.signal)).then((code) => {
      process.exitCode = code;
    });
