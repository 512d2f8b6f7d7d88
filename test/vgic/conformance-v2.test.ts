import { conformanceFor } from './conformance.ts';
import { knownRaces } from './util.ts';

conformanceFor('V2', knownRaces('V2'));
