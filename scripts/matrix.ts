import { explore } from '../src/explore/explorer.ts';
import { ReplayStrategy } from '../src/explore/strategies/replay.ts';
import { buildProgram } from '../src/scenario/builder.ts';
import { conformanceSuite } from '../src/scenario/catalogue/suite.ts';
import { designById } from '../src/vgic/designs.ts';
const d = designById(process.argv[2] ?? 'V3')!;
const t0 = performance.now();
let n = 0, bad = 0;
for (const sc of conformanceSuite([Number(process.env.NLR ?? 4)])) {
  const r = explore(buildProgram(sc, d), new ReplayStrategy({ decisions: [] }), { allViolations: true, maxSteps: 200000 });
  n++;
  const f = r.findings.filter(x => x.violation.checker !== 'ghost');
  if (f.length || r.stats.boundHits) { bad++; console.log(sc.name, r.stats.boundHits ? 'BOUND' : '', f.map(x => x.violation.title).join(' | ')); }
}
console.log(d.id, n, 'scenarios', bad, 'failing', Math.round(performance.now() - t0), 'ms');
