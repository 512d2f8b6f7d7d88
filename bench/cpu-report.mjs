// Preloaded into a measured `vgic-lab` process (node --import): at exit, the CPU time of the whole
// process, all threads, on stderr's last line, for bench/targets.ts. Worker threads inherit the preload;
// only the main thread reports.
import { isMainThread } from 'node:worker_threads';

if (isMainThread)
  process.on('exit', () => {
    const u = process.cpuUsage();
    process.stderr.write(
      `\nbench-cpu ${JSON.stringify({ userMs: u.user / 1000, systemMs: u.system / 1000 })}\n`,
    );
  });
