import { parentPort } from 'node:worker_threads';
import { unitExploration, unitFromJson } from '../explore/split.ts';
import { Stop } from '../explore/stop.ts';
import { endsWhen } from './check.ts';
import { programOf } from './context.ts';
import { preloadDesignModules } from './design-module.ts';
import { type FromWorker, freshToJson, type ToWorker, type UnitWorkerSetup } from './parallel.ts';
import { resolveDesign, resolveScenario, withConfig } from './resolve.ts';

/**
 * A worker of `--jobs` (parallel.ts): builds the program the command line names, then explores the
 * units it is sent, one at a time, and sends each result back.
 */
export async function serveUnits(setup: UnitWorkerSetup): Promise<void> {
  await preloadDesignModules(setup.argv);
  const design = await resolveDesign(setup.design);
  const scenario = withConfig(await resolveScenario(setup.scenario), setup.config);
  const program = programOf(scenario.loaded, design);
  // Each thread has its own clock origin: the deadline travels as epoch milliseconds.
  const deadline =
    setup.deadline === null ? Number.POSITIVE_INFINITY : setup.deadline - performance.timeOrigin;
  const stop = new Stop(setup.signal, deadline);
  const port = parentPort!;
  port.on('message', (m: ToWorker) => {
    let reply: FromWorker;
    try {
      const x = unitExploration(program, unitFromJson(m.unit), {
        maxSteps: setup.maxSteps,
        maxExecutions: m.maxExecutions,
        stop,
        ...endsWhen(setup.stopOn),
      });
      while (x.step()) {}
      reply = { index: m.index, result: freshToJson(x, m.withSession) };
    } catch (e) {
      const err = e as { message?: string; original?: unknown; token?: string; execution?: number };
      const original = err.original instanceof Error ? err.original : (e as Error);
      reply = {
        error: {
          message: String(original?.message ?? e),
          stack: original?.stack,
          token: err.token ?? '',
          execution: err.execution ?? 0,
        },
      };
    }
    port.postMessage(reply);
  });
}
