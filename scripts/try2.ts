import { corpusProgram } from '../src/kernel/corpus/programs.ts';
import { explore } from '../src/explore/explorer.ts';
import { DporStrategy } from '../src/explore/strategies/dpor.ts';
const p = corpusProgram(process.argv[2]);
const r = explore(p, new DporStrategy(), { allViolations: true, onExecution: (e) => {
  console.log(e.index, e.outcome, e.decisions.join(','), e.trace.map(ev => `${ev.tid}:${ev.op.label()} r[${ev.fp.r}] w[${ev.fp.w}]`).join(' ; '), e.violations.map(v=>v.title));
}});
