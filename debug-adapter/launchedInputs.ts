/**
 * The task's inputs as the `flyteSandbox/launched` event carries them (the
 * panel exports them into cassettes). DAP clients read a message by joining
 * every chunk received so far (VS Code's StreamDebugAdapter and the test
 * client alike), so one message of 50 MB costs them minutes and holds up
 * every response behind it: inputs past MAX_INPUT_BYTES are left out, and
 * the event says so. A runtime in a child process is asked for them only if
 * they are small: fetching 50 MB would hold the launch (and the adapter,
 * parsing them) for seconds.
 */
import type { RuntimeApi } from '../engine/debug/api.ts';
import { largerThan } from '../engine/values/jsonSize.ts';
import { toWire, type Wire } from '../engine/values/wire.ts';

export { largerThan };

export const MAX_INPUT_BYTES = 2 * 1024 * 1024;

/** The inputs, or undefined when they are larger than `maxBytes` as JSON. */
export interface SmallInputs {
  inputsIfSmall(maxBytes: number): Promise<Record<string, unknown> | undefined>;
}

export async function launchedInputs(runtime: RuntimeApi & Partial<SmallInputs>): Promise<{ inputs: Wire | null; inputsOmitted?: string }> {
  let inputs: Record<string, unknown> | undefined;
  if (runtime.inputsIfSmall) inputs = await runtime.inputsIfSmall(MAX_INPUT_BYTES);
  else {
    inputs = await runtime.inputs();
    if (largerThan(inputs, MAX_INPUT_BYTES)) inputs = undefined;
  }
  if (!inputs) return { inputs: null, inputsOmitted: `the inputs are larger than ${MAX_INPUT_BYTES / 2 ** 20} MB` };
  return { inputs: toWire(inputs) };
}
