// The worker thread of `vgic-lab` when it runs from the TypeScript sources (no bundle): register tsx
// in this thread, then load the worker module main.ts names.
import { workerData } from 'node:worker_threads';

const { register } = await import('tsx/esm/api');
register();
await import(workerData.entry);
