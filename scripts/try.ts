import { CORPUS } from '../src/kernel/corpus/programs.ts';
import { explore } from '../src/explore/explorer.ts';
import { DporStrategy } from '../src/explore/strategies/dpor.ts';
import { BoundedStrategy } from '../src/explore/strategies/bounded.ts';
for (const p of CORPUS) {
  for (const s of [new DporStrategy(), new BoundedStrategy()]) {
    const r = explore(p, s, { allViolations: true, maxExecutions: 20000 });
    console.log(p.name.padEnd(28), s.name.padEnd(8), r.stats.executions, 'sb=' + r.stats.sleepBlocked, r.stats.exhaustive, r.findings.map(f => f.violation.title).join(' | '));
  }
}
