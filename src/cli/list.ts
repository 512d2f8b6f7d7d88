import { DESIGNS } from '../vgic/designs.ts';
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
        })),
      );
    else
      for (const d of DESIGNS)
        say(o, `${d.id.padEnd(4)} ${`(${d.aliases.join(', ')})`.padEnd(40)} ${d.description}`);
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
