import { conformanceFor } from './conformance.ts';
import { knownRaces } from './util.ts';

// V2 is the merged head walk, superseded by V3: the quick tier checks it where it differs, in overflow.
conformanceFor('V2', knownRaces('V2'), 'overflow');
