/**
 * The DAP fuzz with fixed seeds, so `npm test` is the same every time (the
 * stress suite runs it with random seeds, printed). FUZZ_SEED=<n> reruns
 * one seed.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { assertNoLeftovers } from '../leftovers.ts';
import { fuzzAdapter } from './dapFuzz.ts';

after(async () => assertNoLeftovers('the DAP fuzz'));

const SEEDS = process.env.FUZZ_SEED ? [Number(process.env.FUZZ_SEED)] : [1, 2, 3];

for (const seed of SEEDS) {
  test(`DAP fuzz, seed ${seed}: 150 random and malformed requests all answered, the adapter never exits`, { timeout: 240_000 }, async () => {
    const r = await fuzzAdapter(seed, 150);
    assert.ok(r.requests > 100 && r.frames > 5, JSON.stringify(r));
  });
}
