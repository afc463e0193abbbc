/** A run as the panel saw it, written as a cassette (the same format `record` writes). */
import { dirname, relative } from 'node:path';
import type { Cassette } from '../engine/cassette/format.ts';
import { CASSETTE_VERSION, formatCassette } from '../engine/cassette/format.ts';
import type { RunModel } from './sessionModel.ts';

export function cassetteOf(run: RunModel, path: string): { text: string; missing: number } {
  const launched = run.launched;
  if (!launched) throw new Error('this run did not get far enough to know its task');
  if (launched.inputs === null) throw new Error(`${launched.inputsOmitted ?? 'the inputs did not come over DAP'}: record the run instead ("record" in the launch configuration, or --record on the CLI)`);
  const calls = [...run.calls.values()].filter(c => c.status === 'returned' || c.status === 'raised').sort((a, b) => a.seq - b.seq);
  const missing = calls.filter(c => !c.values).length;
  const cassette: Cassette = {
    version: CASSETTE_VERSION,
    task: launched.task,
    flyteName: launched.flyteName,
    file: relative(dirname(path), launched.file),
    codeHash: launched.codeHash,
    inputs: launched.inputs,
    recordedAt: new Date().toISOString(),
    status: run.result ? (run.result.status === 'ok' ? 'ok' : 'error') : 'incomplete',
    output: (run.result as { outputValue?: Cassette['output'] } | undefined)?.outputValue ?? null,
    error: run.result?.error ? { type: run.result.error.type, message: run.result.error.message } : null,
    calls: calls.filter(c => c.values).map(c => ({
      seq: c.seq,
      function: c.function,
      args: c.values!.args,
      kwargs: c.values!.kwargs,
      ...(c.values!.result !== undefined ? { result: c.values!.result } : {}),
      ...(c.error ? { error: c.error } : {}),
      ...(c.source ? { source: c.source } : {}),
      ...(c.durationMs !== undefined ? { durationMs: c.durationMs } : {}),
      ...(c.mapParent !== undefined ? { mapParent: c.mapParent, mapIndex: c.mapIndex! } : {}),
      ...(c.ref ? { ref: c.ref } : {}),
    })),
  };
  return { text: formatCassette(cassette), missing };
}
