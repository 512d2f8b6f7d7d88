import { corpusProgram, indexer, lastzero } from '../src/kernel/corpus/programs.ts';
import { explore } from '../src/explore/explorer.ts';
import { DporStrategy } from '../src/explore/strategies/dpor.ts';
const name = process.argv[2];
if (name.startsWith('indexer') || name.startsWith('lastzero')) {
  const n = Number(name.split('-')[1]);
  const p = name.startsWith('indexer') ? indexer(n) : lastzero(n);
  const s = new DporStrategy();
  const r = explore(p, s, { allViolations: true });
  console.log(name, r.stats.executions, r.stats.sleepBlocked, Math.round(r.stats.elapsedMs), 'ms');
} else {
  const r = explore(corpusProgram(name), new DporStrategy(), { allViolations: true });
  for (const f of r.findings) console.log(f.violation.text() + '\n---- token ' + f.token + '\n');
}
