// Until the vgic-lab command exists: explores one corpus program and prints what it finds.
import { explore } from './explore/explorer.ts';
import { minimise } from './explore/minimise.ts';
import { BoundedStrategy } from './explore/strategies/bounded.ts';
import { DporStrategy } from './explore/strategies/dpor.ts';
import { PctStrategy } from './explore/strategies/pct.ts';
import { RandomStrategy } from './explore/strategies/random.ts';
import type { Strategy } from './explore/strategy.ts';
import { CORPUS } from './kernel/corpus/programs.ts';
import { renderFinding, verdict } from './report/text.ts';

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1] : def;
}

const names = CORPUS.map((p) => p.name);
const name = arg('program', 'rcu-guest-window-uaf');
const program = CORPUS.find((p) => p.name === name);
if (!program) {
  console.error(`unknown program "${name}"; the corpus has: ${names.join(', ')}`);
  process.exit(2);
}
const seed = Number(arg('seed', '1'));
const strategyName = arg('strategy', 'dpor');
const strategies: Record<string, () => Strategy> = {
  dpor: () => new DporStrategy(),
  bounded: () => new BoundedStrategy(),
  pct: () => new PctStrategy(seed, 3),
  random: () => new RandomStrategy(seed),
};
const make = strategies[strategyName];
if (!make || !Number.isInteger(seed)) {
  console.error(
    `usage: npm start -- [--program NAME] [--strategy ${Object.keys(strategies).join('|')}] [--seed N]`,
  );
  process.exit(2);
}
const strategy = make();
const result = explore(program, strategy, { maxExecutions: 100_000 });
console.log(`program ${program.name}: ${program.description}`);
console.log(`strategy ${strategy.name}: ${verdict(result.stats, result.findings)}`);
for (const note of result.stats.notes) console.log(note);
for (const f of result.findings) {
  const small = minimise(program, f.decisions, f.violation.title);
  if (small) {
    f.decisions = small.decisions;
    f.token = small.token;
    f.preemptions = small.preemptions;
    f.violation.step = small.step;
  }
  console.log('');
  console.log(renderFinding(f, { design: 'corpus', scenario: program.name }));
  console.log(`minimised: ${f.preemptions} preemptions, violation at step ${f.violation.step}`);
}
process.exit(result.findings.length > 0 ? 1 : 0);
