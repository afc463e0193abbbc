/**
 * The same run again on the task's own (uninstrumented) code, every call
 * answered from the records: Monty's tracebacks lose frames where an
 * exception passes the instrumented code's handlers, so a failure seen in
 * the instrumented run is replayed plainly for its exact frames. It is also
 * a fidelity check: both runs must fail the same way.
 */
import type { SandboxTask } from '../extract/tasks.ts';
import type { CallOutcome, CallRecord } from '../run/outcome.ts';
import type { Resolver } from '../run/resolvers.ts';
import { SandboxRun, type RunOptions, type RunResult } from '../run/sandboxRun.ts';

export function recordsResolver(records: readonly CallRecord[]): Resolver {
  return {
    source: 'interactive',
    resolve(call): CallOutcome | undefined {
      const r = records[call.seq - 1];
      if (!r || r.function !== call.function) return undefined;
      const source = r.source ?? 'interactive';
      const ref = r.ref ? { ref: r.ref } : {};
      if (r.status === 'returned') return { kind: 'return', value: r.result, source, ...ref };
      if (r.status === 'raised' && r.error) return { kind: 'raise', ...r.error, source, ...ref };
      return undefined;
    },
  };
}

export function replayToEnd(task: SandboxTask, records: readonly CallRecord[], options: Pick<RunOptions, 'inputs' | 'limits' | 'raiseInSandbox' | 'externals'>): Promise<RunResult> {
  return new SandboxRun(task, { ...options, resolvers: [recordsResolver(records)] }).execute();
}
