import { explore } from '../src/explore/explorer.ts';
import { DporStrategy } from '../src/explore/strategies/dpor.ts';
import { ReplayStrategy } from '../src/explore/strategies/replay.ts';
import { buildProgram } from '../src/scenario/builder.ts';
import * as C from '../src/scenario/catalogue/conformance.ts';
import { designById } from '../src/vgic/designs.ts';
import { renderFinding } from '../src/report/text.ts';
const cfg = { trigger: (process.env.TRIG ?? 'edge') as any, eoimode: Number(process.env.EOI ?? 0) as 0|1, nLr: Number(process.env.NLR ?? 4) };
const which = process.argv[2];
const sc = which === 'inj' ? C.inj('INJ-SPI-ALL', [...Array(32).keys()].map(i => i + 32), (process.env.M ?? 'EDGE_IRQ_LINE') as any, cfg)
  : which === 'inj1' ? C.inj('INJ-SPI-1', [32], (process.env.M ?? 'EDGE_IRQ_LINE') as any, cfg)
  : which === 'pre' ? C.pre('PRE-SPI', 32, Number(process.env.NUM ?? 31), [], (process.env.M ?? 'EDGE_IRQ_LINE') as any, cfg)
  : which === 'fail' ? C.fail((process.env.M ?? 'EDGE_IRQ_LINE') as any, cfg)
  : which === 'rst' ? C.rst('RST-SPI', 32, Number(process.env.NUM ?? 31), cfg)
  : C.kutIpi((process.env.K ?? 'broadcast') as any, 4, cfg.nLr);
const d = designById(process.argv[3] ?? 'V3')!;
const p = buildProgram(sc, d, (w, exec) => { if (process.env.EV) exec.atEnd(() => console.log(w.vm.events.map(e => `v${e.vcpu} ${e.text}`).join('\n'))); });
const s = process.argv[4] === 'dpor' ? new DporStrategy() : new ReplayStrategy({ decisions: [] });
const r = explore(p, s, { allViolations: true, maxExecutions: Number(process.env.MAX ?? 20000), maxSteps: 100000 });
console.log(sc.name, r.stats.executions, r.stats.steps, r.stats.exhaustive, 'bound', r.stats.boundHits, 'sb', r.stats.sleepBlocked, Math.round(r.stats.elapsedMs) + 'ms');
for (const f of r.findings) console.log(f.execution, f.violation.title);
if (process.env.SHOW) for (const f of r.findings) console.log(renderFinding(f, { design: d.id, scenario: sc.name }));
