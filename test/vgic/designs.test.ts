import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DESIGNS, type Design, designById, designProblems } from '../../src/vgic/designs.ts';

function changed(id: string, change: Partial<Design>) {
  const d = designById(id);
  assert.ok(d, id);
  return designProblems({ ...d, ...change });
}

describe('designs are consistent', () => {
  it('every design of the table passes the consistency check', () => {
    for (const d of DESIGNS) assert.deepEqual(designProblems(d), [], d.id);
  });

  it('ids and aliases name one design each, whatever the case', () => {
    const names = DESIGNS.flatMap((d) => [d.id.toLowerCase(), ...d.aliases]);
    assert.equal(new Set(names).size, names.length);
    assert.equal(designById('v4B')?.id, 'V4b');
    assert.equal(designById('locked-fold')?.id, 'V4b');
    assert.equal(designById('V9'), undefined);
  });

  it('a field that needs another is refused with the reason', () => {
    assert.deepEqual(changed('V3', { lastLrIrq: false }), ['a walk from the tail needs last_lr_irq']);
    assert.deepEqual(changed('V2', { lastLrIrq: true }), [
      'last_lr_irq is kept only for a walk from the tail (walk: head)',
    ]);
    assert.deepEqual(changed('V4b', { foldLocked: false }), [
      'deferring the irqfd notification needs the fold that holds ap_list_lock',
    ]);
    assert.deepEqual(changed('V5', { walk: 'head', lastLrIrq: false }), [
      'pinning last_lr_irq needs last_lr_irq',
      'lastLrOnOverflowOnly needs last_lr_irq',
    ]);
    assert.deepEqual(changed('V4b', { walk: 'head', lastLrIrq: false, pinLastLr: false }), [
      'the locked fold re-validates last_lr_irq, which the design does not keep',
    ]);
    assert.deepEqual(changed('V0', { walk: 'head' }), [
      'an EOIcount replay (walk: head) needs the LR-overflow rework',
    ]);
    assert.deepEqual(changed('V3', { walk: 'none', lastLrIrq: false }), [
      'the LR-overflow rework always replays EOIcount (walk cannot be none)',
    ]);
  });
});
