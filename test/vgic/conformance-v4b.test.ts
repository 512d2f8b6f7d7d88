import { conformanceFor } from './conformance.ts';

conformanceFor('V4b');
