import { Worker } from 'node:worker_threads';

/**
 * Starts a vgic-lab worker thread (worker.ts): the bundle's sibling, or from the sources through tsx
 * (bin/worker-source.mjs). Imports nothing heavy: main.ts starts with it.
 */
export function startWorker(data: object): Worker {
  const here = import.meta.url;
  // The worker's output comes to the starting thread as streams it forwards itself (main.ts).
  const stdio = { stdout: true, stderr: true };
  if (!here.endsWith('.ts')) return new Worker(new URL('./worker.mjs', here), { workerData: data, ...stdio });
  const entry = new URL('./worker.ts', here).href;
  return new Worker(new URL('../../bin/worker-source.mjs', here), {
    workerData: { ...data, entry },
    ...stdio,
  });
}
