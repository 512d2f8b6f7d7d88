import { DESIGN_TOGGLES, FIX_SWITCHES, settingOf } from '../vgic/design-expr.ts';
import { DESIGNS, type Design } from '../vgic/designs.ts';
import { type CommonOptions, printJson, say } from './context.ts';
import { EXIT, UsageError } from './errors.ts';
import { catalogueEntries } from './resolve.ts';

/** vgic-lab list designs|scenarios. */
export function list(what: string, o: CommonOptions): number {
  if (what === 'designs') {
    if (o.json)
      printJson(
        DESIGNS.map((d) => ({
          id: d.id,
          name: d.name,
          aliases: d.aliases,
          description: d.description,
          reference: d.reference,
          version: d.version,
          walk: d.walk,
          fields: Object.fromEntries(DESIGN_TOGGLES.map((n) => [n, d[n]])),
          fixes: d.fixes,
        })),
      );
    else {
      for (const d of DESIGNS) {
        say(o, `${d.id.padEnd(4)} ${`(${d.aliases.join(', ')})`.padEnd(40)} ${d.description}`);
        say(o, `     walk: ${d.walk}; on: ${onOf(d).join(' ') || 'nothing'}`);
      }
      say(o, '');
      say(
        o,
        `A design expression turns fields and fix switches on (+NAME) or off (-NAME): V3-PRUNE_CHECK_STILL_OURS.`,
      );
      say(o, `fields: ${DESIGN_TOGGLES.join(', ')}`);
      say(o, `fix switches: ${FIX_SWITCHES.join(', ')}`);
    }
    return EXIT.OK;
  }
  if (what === 'scenarios') {
    const entries = catalogueEntries();
    if (o.json) printJson(entries.map((e) => ({ name: e.name, description: e.description, file: e.file })));
    else for (const e of entries) say(o, `${e.name.padEnd(46)} ${e.description}`);
    return EXIT.OK;
  }
  throw new UsageError(`cannot list "${what}"`, 'vgic-lab list designs | vgic-lab list scenarios');
}

function onOf(d: Design): string[] {
  return [...DESIGN_TOGGLES, ...FIX_SWITCHES].filter((n) => settingOf(d, n));
}
