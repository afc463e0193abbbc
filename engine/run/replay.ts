/**
 * Deterministic replay. The sandbox has no IO, clock or randomness, so a run
 * is a pure function of (code, inputs, results of external calls): feeding
 * the recorded results back from the start reaches any earlier pause exactly,
 * without keeping a snapshot dump per call.
 */
import { Monty, MontyComplete, MontyNameLookup, type MontySnapshot } from '@pydantic/monty';
import type { SandboxTask } from '../extract/tasks.ts';
import { sandboxException } from '../values/exceptions.ts';
import type { CallRecord } from './outcome.ts';

/** The snapshot paused at top-level call `seq`, or undefined if the replay does not get there the same way. */
export function replayToCall(task: SandboxTask, inputs: Record<string, unknown>, records: readonly CallRecord[], seq: number): MontySnapshot | undefined {
  const monty = new Monty(task.code, { scriptName: task.module.path, ...(task.inputNames.length ? { inputs: task.inputNames } : {}) });
  const topLevel = records.filter(r => r.mapParent === undefined);
  const printCallback = () => undefined;
  let progress = monty.start({ ...(task.inputNames.length ? { inputs } : {}), printCallback });
  for (const record of topLevel) {
    while (progress instanceof MontyNameLookup) progress = progress.resume();
    if (progress instanceof MontyComplete || progress.functionName !== record.function) return undefined;
    if (record.seq === seq) return progress;
    if (record.status === 'returned') progress = progress.resume({ returnValue: record.result });
    else if (record.status === 'raised' && record.error) progress = progress.resume({ exception: sandboxException(record.error.type, record.error.message) });
    else return undefined;
  }
  return undefined;
}
