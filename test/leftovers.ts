/**
 * The process-leak check inside a test file: importing this marks every
 * process the file starts from then on (children inherit the variable), and
 * `assertNoLeftovers()` fails, naming them, if any is still running after
 * the grace period (children notice a dead parent within a fraction of a
 * second; seconds later it is a leak). The whole run is checked again by
 * scripts/run-tests.mjs.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { processesWith, reapLeftovers } from '../scripts/leftovers.mjs';

export const SCOPE_VARIABLE = 'FLYTE_SANDBOX_TEST_SCOPE';
const scope = randomUUID();
process.env[SCOPE_VARIABLE] = scope;

/** Processes this test file started that are still running. */
export function leftovers(): { pid: number; cmd: string }[] {
  return processesWith(SCOPE_VARIABLE, scope);
}

export async function assertNoLeftovers(what = 'the test', withinMs = 10_000): Promise<void> {
  const left = await reapLeftovers(SCOPE_VARIABLE, scope, withinMs);
  assert.deepEqual(left.map(p => `${p.pid} ${p.cmd.slice(0, 160)}`), [], `processes still running after ${what} (killed now)`);
}
