/**
 * The task's inputs as the `flyteSandbox/launched` event carries them (the
 * panel exports them into cassettes). DAP clients read a message by joining
 * every chunk received so far (VS Code's StreamDebugAdapter and the test
 * client alike), so one message of 50 MB costs them minutes and holds up
 * every response behind it: inputs past MAX_BYTES are left out, and the
 * event says so.
 */
import { dictEntries, isDict } from '../engine/values/python.ts';
import { toWire, type Wire } from '../engine/values/wire.ts';

export const MAX_INPUT_BYTES = 2 * 1024 * 1024;

/** Whether `value` takes more than `budget` bytes as JSON, roughly; stops walking once it does. */
export function largerThan(value: unknown, budget: number): boolean {
  const stack: unknown[] = [value];
  let size = 0;
  while (stack.length) {
    const v = stack.pop();
    // a value and the comma or colon after it
    if (typeof v === 'string') size += v.length + 3;
    else if (v instanceof Uint8Array) size += Math.ceil(v.length / 3) * 4 + 13;
    else if (Array.isArray(v) || v instanceof Set) {
      size += 3;
      for (const x of v) stack.push(x);
    } else if (v !== null && typeof v === 'object' && isDict(v)) {
      size += 3;
      for (const [k, x] of dictEntries(v)) stack.push(k, x);
    } else size += 8;
    if (size > budget) return true;
  }
  return false;
}

export function launchedInputs(inputs: Record<string, unknown>): { inputs: Wire | null; inputsOmitted?: string } {
  if (largerThan(inputs, MAX_INPUT_BYTES)) return { inputs: null, inputsOmitted: `the inputs are larger than ${MAX_INPUT_BYTES / 2 ** 20} MB` };
  return { inputs: toWire(inputs) };
}
