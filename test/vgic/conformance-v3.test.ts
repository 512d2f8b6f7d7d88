import { conformanceFor } from './conformance.ts';

conformanceFor('V3');
