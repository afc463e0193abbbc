/**
 * The DAP fuzz with random seeds, longer (the fast suite runs fixed seeds).
 * Each seed is printed; FUZZ_SEED=<n> reruns one.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { assertNoLeftovers } from '../leftovers.ts';
import { fuzzAdapter } from '../robust/dapFuzz.ts';

after(async () => assertNoLeftovers('the long DAP fuzz'));

const seeds = process.env.FUZZ_SEED ? [Number(process.env.FUZZ_SEED)] : Array.from({ length: 4 }, () => Math.floor(Math.random() * 2 ** 31));

for (const seed of seeds) {
  test(`DAP fuzz, seed ${seed}: 2,000 steps`, { timeout: 1_200_000 }, async () => {
    process.stdout.write(`DAP fuzz seed ${seed} (rerun: FUZZ_SEED=${seed} npm run test:stress)\n`);
    const r = await fuzzAdapter(seed, 2000);
    process.stdout.write(`seed ${seed}: ${JSON.stringify(r)}\n`);
    assert.ok(r.requests > 1500, JSON.stringify(r));
  });
}
