import { Command, CommanderError, Option } from 'commander';
import { InternalError } from '../explore/explorer.ts';
import { DEFAULT_SPLIT_DEPTH } from '../explore/split.ts';
import type { Stop } from '../explore/stop.ts';
import { ScenarioError } from '../scenario/error.ts';
import { DESIGNS } from '../vgic/designs.ts';
import {
  type CheckOptions,
  check,
  MINIMISE,
  type Minimise,
  STOP_ON,
  STRATEGIES,
  type StopOn,
} from './check.ts';
import { ablation, type Column, compare, OUTCOMES, type Outcome } from './compare.ts';
import { type CommonOptions, checkHtmlTarget, checkWritable, parseIntOption, say } from './context.ts';
import { preloadDesignModules } from './design-module.ts';
import { EXIT, UsageError } from './errors.ts';
import { list } from './list.ts';
import { merge } from './merge.ts';
import { OutputError, stderr, stdout } from './output.ts';
import { defaultJobs } from './parallel.ts';
import { Progress } from './progress.ts';
import { replay } from './replay.ts';
import { catalogueNames, packageVersion, resolveDesign, resolveScenario, withConfig } from './resolve.ts';
import { printRun, runOnce } from './run.ts';
import { parseShard, runShard } from './shard.ts';

const CONFIG_HELP =
  "the kernel configuration: debug or production, options turned on (+) or off (-), e.g. production+KASAN (default: the scenario's kernel: section, else debug)";

const HTML_HELP =
  "also write the report as one offline HTML page: swimlanes, each step's reads, writes, locks and state (docs/html.md)";

const PROGRESS_HELP = 'progress lines on stderr even when it is not a terminal, the first as the work starts';

/** What a command needs from the thread that runs it: the signals as a Stop, and when it started. */
interface Context {
  stop: Stop;
  started: number;
  /** The command line being run (process.argv's shape): `--jobs` workers preload its design modules. */
  argv: string[];
  /** The exit code the command's action decided. */
  exit: number;
}

function common(cmd: Command): Command {
  return cmd
    .hook('preAction', (_, action) => {
      const o = action.opts();
      if (o.json && o.quiet)
        throw new UsageError(
          '--json and --quiet contradict each other',
          'keep --json for the document, or --quiet for the exit code alone',
        );
    })
    .option('--json', 'print one JSON document on stdout (docs/cli.md describes its schema)')
    .option('--perfetto <file>', 'write the interleaving as a Chrome trace-event file for ui.perfetto.dev')
    .option('--quiet', 'print nothing but errors; the exit code tells the result')
    .option('--progress', PROGRESS_HELP)
    .option('--verbose', 'interleavings show every step, also those that only take and release locks')
    .option('--no-color', 'no colours (also when NO_COLOR is set or stdout is not a terminal)');
}

function examples(cmd: Command, lines: string[]): Command {
  return cmd.addHelpText('after', `\nExamples:\n${lines.map((l) => `  $ ${l}`).join('\n')}\n`);
}

function program(ctx: Context): Command {
  const p = new Command('vgic-lab')
    .description('Explore a KVM/arm64 vGIC design under a scenario with the kernel sanitizers')
    .version(packageVersion(), '--version', 'print the version')
    .exitOverride()
    .configureOutput({ writeOut: (s) => stdout(s), writeErr: (s) => stderr(s) })
    .showHelpAfterError('(run with --help for usage)');

  examples(
    common(
      p
        .command('list')
        .argument('<what>', 'designs | scenarios')
        .description('list the designs or the built-in scenarios'),
    ),
    ['vgic-lab list designs', 'vgic-lab list scenarios --json'],
  ).action((what: string, o: CommonOptions) => {
    ctx.exit = list(what, o);
  });

  examples(
    common(
      p
        .command('run')
        .argument('<scenario>', 'a scenario file or a catalogue name')
        .description(
          'run one execution (the default schedule, or a seeded random one) and show what the guest saw',
        )
        .option('-d, --design <design>', 'design id, alias or expression', 'V3')
        .option('--config <config>', CONFIG_HELP)
        .option('--seed <n>', 'run one random schedule with this seed instead of the default schedule'),
    ),
    [
      'vgic-lab run happy-spi-edge',
      'vgic-lab run scenarios/head-walk-wrong-deactivation.yaml --design V2 --seed 7',
    ],
  ).action(async (ref: string, o: CommonOptions & { design: string; config?: string; seed?: string }) => {
    const d = await resolveDesign(o.design);
    const s = withConfig(await resolveScenario(ref), o.config);
    const seed = o.seed === undefined ? undefined : parseIntOption('seed', o.seed, 0, 0xffffffff);
    if (o.perfetto) checkWritable(o.perfetto);
    new Progress(o.progress ? 'lines' : 'off', () => 0).begin(`${s.loaded.spec.name} on ${d.id}`, 'running');
    const r = runOnce(s.loaded, d, seed === undefined ? [] : null, seed, ctx.stop);
    ctx.exit = printRun(
      r,
      s,
      d,
      o,
      'run',
      seed === undefined ? 'default schedule' : `random schedule, seed ${seed}`,
    );
  });

  examples(
    common(
      p
        .command('check')
        .argument('<scenario>', 'a scenario file or a catalogue name')
        .description(
          'explore the scenario; print the minimised counterexample of each violation, or what was proven',
        )
        .option('-d, --design <design>', 'design id, alias or expression', 'V3')
        .option('--config <config>', CONFIG_HELP)
        .addOption(
          new Option('--strategy <strategy>', "search strategy (default: the scenario's, else dpor)").choices(
            STRATEGIES,
          ),
        )
        .option('--preemptions <n>', 'preemption bound (dpor, bounded)')
        .option('--max-executions <n>', 'stop after this many executions')
        .option('--time-limit <seconds>', 'stop after this many seconds')
        .option('--seed <n>', "seed of pct and random (default: the scenario's, else 1)")
        .addOption(
          new Option(
            '--stop-on <when>',
            'end the search at the first fatal kernel report, at the first kernel report, or never',
          )
            .choices(STOP_ON)
            .default('fatal'),
        )
        .option('--all-violations', 'explore everything and report every distinct finding (--stop-on never)')
        .option('--strict', 'lock-discipline notes count as failures (exit status 1)')
        .addOption(
          new Option(
            '--minimise <which>',
            'minimise kernel reports in full and other findings briefly, every finding in full, or none',
          )
            .choices(MINIMISE)
            .default('kernel'),
        )
        .option('-j, --jobs <n>', 'threads that share the exploration (default: the number of CPUs)')
        .option('--html <file>', HTML_HELP)
        .option('--shard <K/N>', 'explore only shard K of N and print it as JSON for `vgic-lab merge`')
        .option(
          '--split-depth <n>',
          `depth of the split into units (default ${DEFAULT_SPLIT_DEPTH}; 0: plain DPOR)`,
        ),
    ),
    [
      'vgic-lab check lpi-disable-vs-eoicount-replay --design V3',
      'vgic-lab check lpi-disable-vs-eoicount-replay --design locked-fold --all-violations',
      'vgic-lab check lr-overflow-eoimode0 --design V3 --strict',
      'vgic-lab check lpi-disable-vs-eoicount-replay --design V3 --html seed-race.html',
      'vgic-lab check my-scenario.yaml --strategy pct --max-executions 10000 --json',
    ],
  ).action(async (ref: string, o: Record<string, string | boolean | undefined>) => {
    const d = await resolveDesign(String(o.design));
    const s = withConfig(await resolveScenario(ref), o.config === undefined ? undefined : String(o.config));
    const shard = o.shard === undefined ? undefined : parseShard(String(o.shard));
    if (shard && o.html !== undefined)
      throw new UsageError(
        '--html and --shard contradict each other: a shard prints its part as JSON',
        'give --html to `vgic-lab merge`, which joins the shards and reports them',
      );
    const checkOptions: CheckOptions = {
      ...(o as CommonOptions),
      strategy: String(o.strategy ?? s.loaded.explore.strategy ?? 'dpor'),
      preemptions:
        o.preemptions === undefined
          ? undefined
          : parseIntOption('preemptions', String(o.preemptions), 0, 1000),
      maxExecutions:
        o.maxExecutions === undefined
          ? undefined
          : parseIntOption('max-executions', String(o.maxExecutions), 1),
      timeLimit: o.timeLimit === undefined ? undefined : parseIntOption('time-limit', String(o.timeLimit), 1),
      seed:
        o.seed === undefined
          ? (s.loaded.explore.seed ?? 1)
          : parseIntOption('seed', String(o.seed), 0, 0xffffffff),
      stopOn: o.allViolations === true ? 'never' : (o.stopOn as StopOn),
      strict: o.strict === true,
      minimise: o.minimise as Minimise,
      jobs: o.jobs === undefined ? defaultJobs() : parseIntOption('jobs', String(o.jobs), 1, 256),
      splitDepth:
        o.splitDepth === undefined ? undefined : parseIntOption('split-depth', String(o.splitDepth), 0, 64),
      origin: {
        argv: ctx.argv,
        scenario: s.tokenRef,
        design: String(o.design),
        config: o.config === undefined ? undefined : String(o.config),
      },
    };
    ctx.exit = shard
      ? await runShard(s, d, checkOptions, shard, ctx.stop, ctx.started)
      : await check(s, d, checkOptions, ctx.stop, ctx.started);
  });

  examples(
    common(
      p
        .command('merge')
        .argument('<files...>', 'the shard documents that `check … --shard K/N` printed, one per shard')
        .description('join the shards of one check into its result, reported as check reports it')
        .option('--html <file>', HTML_HELP),
    ),
    [
      'vgic-lab check kut-ipi-broadcast-4cpus-nlr4 --shard 1/2 > s1.json   # and 2/2 > s2.json',
      'vgic-lab merge s1.json s2.json',
    ],
  ).action(async (files: string[], o: CommonOptions & { html?: string }) => {
    ctx.exit = await merge(files, o, ctx.stop);
  });

  examples(
    common(
      p
        .command('replay')
        .argument(
          '<token>',
          'design@scenario@S1.… as printed by check (or only S1.… with --scenario and --design)',
        )
        .description('re-run exactly one recorded schedule')
        .option('-s, --scenario <scenario>', 'the scenario, when the token carries only a schedule')
        .option('-d, --design <design>', 'the design, when the token carries only a schedule')
        .option('--config <config>', 'the kernel configuration, when the token carries only a schedule'),
    ),
    [
      'vgic-lab replay V3@lpi-disable-vs-eoicount-replay@S1.MScB',
      'vgic-lab replay S1.MScB --scenario my.yaml --design V3',
    ],
  ).action(
    async (token: string, o: CommonOptions & { scenario?: string; design?: string; config?: string }) => {
      ctx.exit = await replay(token, o, ctx.stop);
    },
  );

  examples(
    common(
      p
        .command('compare')
        .argument('[scenarios...]', 'scenario files or catalogue names (default: the whole catalogue)')
        .description('the matrix designs × scenarios: each cell the verdict and the number of executions')
        .option(
          '--designs <list>',
          `comma-separated designs (default: ${DESIGNS.map((d) => d.id).join(',')})`,
        )
        .option(
          '--ablate <design>',
          'the design, then the design with each of its fields and fix switches flipped, one row each',
        )
        .option('--config <config>', CONFIG_HELP)
        .option('--max-executions <n>', 'execution budget per cell', '300')
        .option(
          '--time-limit <seconds>',
          'also a time budget per cell (off by default: cells it cuts depend on the machine)',
        )
        .option('--html <file>', HTML_HELP)
        .option(
          '--expect <list>',
          `what each design must give in every cell, e.g. V3=kernel,V4b=clean (${OUTCOMES.join(', ')}); exit 1 otherwise`,
        ),
    ),
    [
      'vgic-lab compare',
      'vgic-lab compare lpi-disable-vs-eoicount-replay head-walk-wrong-deactivation --designs V2,V3,V4b',
      'vgic-lab compare --max-executions 50 --json',
      'vgic-lab compare lpi-disable-vs-eoicount-replay --designs V3,V4b,V5 --html matrix.html',
      'vgic-lab compare lpi-disable-vs-eoicount-replay --designs V3,V3+HALT_ON_LPI_DISABLE,V5',
      'vgic-lab compare lpi-disable-vs-eoicount-replay --ablate V4b',
      'vgic-lab compare lpi-disable-vs-eoicount-replay --designs V3,V4b --expect V3=kernel,V4b=clean   # a CI gate',
    ],
  ).action(
    async (
      refs: string[],
      o: CommonOptions & {
        designs?: string;
        ablate?: string;
        config?: string;
        maxExecutions: string;
        timeLimit?: string;
        expect?: string;
        html?: string;
      },
    ) => {
      if (o.html !== undefined) checkHtmlTarget(o.html);
      if (o.ablate !== undefined && o.designs !== undefined)
        throw new UsageError(
          '--ablate and --designs contradict each other',
          '--ablate DESIGN compares the design with its own variants; --designs names the columns',
        );
      const designs = await inTurn(
        (o.designs ?? DESIGNS.map((d) => d.id).join(','))
          .split(',')
          .map((x) => x.trim())
          .filter(Boolean),
        resolveDesign,
      );
      if (designs.length === 0)
        throw new UsageError(
          `--designs "${o.designs}" names no design`,
          `for example --designs ${DESIGNS.map((d) => d.id).join(',')}`,
        );
      const scenarios = await inTurn(refs.length > 0 ? refs : catalogueNames(), async (r) =>
        withConfig(await resolveScenario(r), o.config),
      );
      if (scenarios.length === 0)
        throw new UsageError('no scenario to compare', 'name scenarios, or run from a clone with scenarios/');
      const columns =
        o.ablate !== undefined
          ? ablation(await resolveDesign(o.ablate))
          : designs.map((d) => ({ id: d.id, design: d, problem: null }));
      ctx.exit = compare(
        scenarios,
        columns,
        {
          ...o,
          maxExecutions: parseIntOption('max-executions', o.maxExecutions, 1),
          timeLimit: o.timeLimit === undefined ? undefined : parseIntOption('time-limit', o.timeLimit, 1),
          expect: o.expect === undefined ? undefined : parseExpect(o.expect, columns),
        },
        ctx.stop,
        o.ablate !== undefined,
      );
      // The whole catalogue is what `npm start` shows a newcomer: say what to run next.
      if (refs.length === 0 && o.ablate === undefined && ctx.exit !== EXIT.INTERRUPTED)
        for (const line of NEXT_STEPS) say(o, line);
    },
  );
  return p;
}

/** What `npm start` (compare over the catalogue) suggests under the matrix. */
const NEXT_STEPS = [
  '',
  'Next: vgic-lab check lpi-disable-vs-eoicount-replay --design V3   # the June 2026 race: oops, interleaving, state',
  '      vgic-lab replay <the token check prints>                    # that one interleaving again; --json for tools',
  '      vgic-lab list scenarios                                     # and docs/scenarios.md to write your own',
];

/** `--expect V3=kernel,V4b=clean`: each named design must be a column of the matrix. */
function parseExpect(text: string, columns: readonly Column[]): Map<string, Outcome> {
  const out = new Map<string, Outcome>();
  for (const part of text
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)) {
    const [design, outcome] = part.split('=').map((x) => x.trim());
    if (!(OUTCOMES as readonly string[]).includes(outcome ?? ''))
      throw new UsageError(
        `--expect "${part}": the outcome is one of ${OUTCOMES.join(', ')}`,
        'for example --expect V3=kernel,V4b=clean',
      );
    const named = (n: string) => n.toLowerCase() === design.toLowerCase();
    const column = columns.find((c) => named(c.id) || c.design?.aliases.some(named));
    if (!column)
      throw new UsageError(
        `--expect "${part}": ${design} is not a column of the matrix`,
        `columns: ${columns.map((c) => c.id).join(', ')}`,
      );
    out.set(column.id, outcome as Outcome);
  }
  if (out.size === 0)
    throw new UsageError(`--expect "${text}" names no design`, 'for example --expect V3=kernel,V4b=clean');
  return out;
}

/** `f` of each item, one after the other: the first that fails is the one the user hears of. */
async function inTurn<T, R>(items: readonly T[], f: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = [];
  for (const item of items) out.push(await f(item));
  return out;
}

function fail(message: string, hint = ''): number {
  stderr(`vgic-lab: ${message}\n${hint ? `  hint: ${hint}\n` : ''}`);
  return EXIT.USAGE;
}

/**
 * Runs the command line `argv` (process.argv's shape) and returns the exit code. Runs on the worker
 * thread (worker.ts); `stop` is how the main thread passes on the signals it receives.
 */
export async function runCommand(argv: string[], stop: Stop): Promise<number> {
  const ctx: Context = { stop, started: performance.now(), argv, exit: EXIT.OK };
  try {
    const p = program(ctx);
    // Without a command there is nothing to do: the usage, on stderr, is the error message.
    if (argv.length <= 2) {
      p.outputHelp({ error: true });
      return EXIT.USAGE;
    }
    await preloadDesignModules(argv);
    await p.parseAsync(argv);
    return ctx.exit;
  } catch (e) {
    if (e instanceof CommanderError)
      return ['commander.helpDisplayed', 'commander.version', 'commander.help'].includes(e.code)
        ? EXIT.OK
        : EXIT.USAGE;
    if (e instanceof OutputError) {
      stderr(`vgic-lab: cannot write the output: ${e.message}\n`);
      return EXIT.USAGE;
    }
    if (e instanceof UsageError) return fail(e.message, e.hint);
    if (e instanceof ScenarioError) return fail(e.message);
    if (e instanceof InternalError) {
      stderr(
        `vgic-lab: internal error (a bug in vgic-lab, please report it): ${e.message}\n  execution ${e.execution}, schedule ${e.token}\n`,
      );
      if (e.original instanceof Error && e.original.stack) stderr(`${e.original.stack}\n`);
      return EXIT.INTERNAL;
    }
    stderr(
      `vgic-lab: internal error (a bug in vgic-lab, please report it): ${(e as Error).stack ?? String(e)}\n`,
    );
    return EXIT.INTERNAL;
  }
}
