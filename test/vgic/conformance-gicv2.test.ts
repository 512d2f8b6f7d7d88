import { conformanceFor } from './conformance.ts';
import { knownRaces } from './util.ts';

// The conformance suite on a GICv2 VM and host (docs/scenarios.md, "Conformance suite"): in the quick
// tier V3's reduced matrix, V4b and V2 (the head walk) in overflow (nLR 1); npm run test:full, all.
conformanceFor('V3', [], 'reduced', 'v2');
conformanceFor('V4b', [], 'overflow', 'v2');
conformanceFor('V2', knownRaces('V2'), 'overflow', 'v2');
