import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DesignExpressionError, parseDesignExpression } from '../../src/vgic/design-expr.ts';

function error(text: string): DesignExpressionError {
  try {
    parseDesignExpression(text);
  } catch (e) {
    if (e instanceof DesignExpressionError) return e;
    throw e;
  }
  assert.fail(`"${text}" was accepted`);
}

describe('design expressions', () => {
  it('a bare id or alias is the design of the table', () => {
    assert.equal(parseDesignExpression('v4B').id, 'V4b');
    assert.equal(parseDesignExpression('mainline-6.19').id, 'V2');
  });

  it('switches and fields turn on and off, with their canonical spelling in the id', () => {
    const d = parseDesignExpression('V3-prune_check_still_ours+HALT_ON_LPI_DISABLE');
    assert.equal(d.id, 'V3-PRUNE_CHECK_STILL_OURS+HALT_ON_LPI_DISABLE');
    assert.equal(d.base, 'V3');
    assert.equal(d.fixes.PRUNE_CHECK_STILL_OURS, false);
    assert.equal(d.fixes.HALT_ON_LPI_DISABLE, true);
    assert.equal(d.fixes.PRUNE_REF_ACROSS_MIGRATION, true, 'the rest as in V3');
    const nodefer = parseDesignExpression('locked-fold-deferNotify');
    assert.equal(nodefer.id, 'V4b-deferNotify');
    assert.equal(nodefer.deferNotify, false);
    assert.equal(nodefer.foldLocked, true);
    assert.equal(nodefer.version, '7.1.0');
  });

  it('an alias with a hyphen is not read as a change', () => {
    assert.equal(parseDesignExpression('tail-walk').id, 'V3');
    assert.equal(parseDesignExpression('tail-walk-PRUNE_CHECK_STILL_OURS').id, 'V3-PRUNE_CHECK_STILL_OURS');
  });

  it('unknown names, changes that change nothing and inconsistent designs are refused with the reason', () => {
    assert.match(error('V9').message, /^unknown design "V9"/);
    assert.match(
      error('V3-FOO').message,
      /"FOO" in the design "V3-FOO" is neither a design field nor a fix switch/,
    );
    assert.match(error('V3-FOO').hint, /switches: PRUNE_REF_ACROSS_MIGRATION, .*PAUSE_IS_COUNTER/);
    assert.match(error('V3+PRUNE_CHECK_STILL_OURS').message, /V3 already has PRUNE_CHECK_STILL_OURS on/);
    assert.match(error('V3-PRUNE_CHECK_STILL_OURS+prune_check_still_ours').message, /changed twice/);
    assert.match(
      error('V4b-foldLocked').message,
      /V4b-foldLocked is not a consistent design: deferring the irqfd notification needs the fold that holds ap_list_lock/,
    );
    assert.match(error('V3-').message, /"" in the design "V3-"/);
  });
});
