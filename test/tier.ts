/**
 * `npm test` runs the quick tier; `npm run test:full` (VGIC_LAB_TESTS=full) also runs the long
 * explorations: the whole catalogue baseline and the design × conformance matrix at every LR count.
 */
export const FULL = process.env.VGIC_LAB_TESTS === 'full';
