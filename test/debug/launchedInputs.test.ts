import assert from 'node:assert/strict';
import { test } from 'node:test';
import { largerThan, launchedInputs, MAX_INPUT_BYTES } from '../../debug-adapter/launchedInputs.ts';

test('the size check stops as soon as the budget is passed and counts every kind of value', () => {
  assert.equal(largerThan({ a: 'x'.repeat(100) }, 200), false);
  assert.equal(largerThan({ a: 'x'.repeat(300) }, 200), true);
  assert.equal(largerThan(new Map([['k', ['y'.repeat(150), Buffer.alloc(150)]]]), 300), true);
  assert.equal(largerThan(new Set(Array.from({ length: 40 }, (_, i) => i)), 300), true);
  assert.equal(launchedInputs({ n: 1 }).inputs !== null, true);
  const big = launchedInputs({ rows: Array.from({ length: MAX_INPUT_BYTES / 8 }, (_, i) => `row ${i}`) });
  assert.equal(big.inputs, null);
  assert.match(big.inputsOmitted!, /larger than 2 MB/);
});
