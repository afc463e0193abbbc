import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { RuntimeApi } from '../../engine/debug/api.ts';
import { largerThan } from '../../engine/values/jsonSize.ts';
import { launchedInputs, MAX_INPUT_BYTES } from '../../debug-adapter/launchedInputs.ts';

test('the size check stops as soon as the budget is passed and counts every kind of value', () => {
  assert.equal(largerThan({ a: 'x'.repeat(100) }, 200), false);
  assert.equal(largerThan({ a: 'x'.repeat(300) }, 200), true);
  assert.equal(largerThan(new Map([['k', ['y'.repeat(150), Buffer.alloc(150)]]]), 300), true);
  assert.equal(largerThan(new Set(Array.from({ length: 40 }, (_, i) => i)), 300), true);
});

test('the launched event carries small inputs, and says why large ones are left out, without fetching them from a child', async () => {
  const big = { rows: Array.from({ length: MAX_INPUT_BYTES / 8 }, (_, i) => `row ${i}`) };
  const inProcess = (inputs: Record<string, unknown>) => ({ inputs: async () => inputs }) as unknown as RuntimeApi;
  assert.deepEqual(await launchedInputs(inProcess({ n: 1 })), { inputs: { n: 1 } });
  const left = await launchedInputs(inProcess(big));
  assert.equal(left.inputs, null);
  assert.match(left.inputsOmitted!, /larger than 2 MB/);
  let fetched = false;
  const remote = { inputs: async () => ((fetched = true), big), inputsIfSmall: async (max: number) => (max >= MAX_INPUT_BYTES ? undefined : big) } as unknown as RuntimeApi;
  assert.equal((await launchedInputs(remote)).inputs, null);
  assert.equal(fetched, false, 'a large input is not fetched to find out it is large');
});
