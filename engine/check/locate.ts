/**
 * Where each call of a recorded run was made, for showing results in the
 * code. A call to a function the task calls from one place only is placed
 * there. For the others the run is replayed (a run is a pure function of
 * code, inputs and call results) and each of their pauses is probed: only
 * when the recording was made from this exact code, and within a budget.
 */
import { Monty, MontyComplete, MontyNameLookup, type MontySnapshot } from '@pydantic/monty';
import type { CallSite, SandboxTask } from '../extract/tasks.ts';
import { probe } from '../run/probe.ts';
import { sandboxException } from '../values/exceptions.ts';

export interface RecordedCall {
  seq: number;
  function: string;
  mapParent?: number;
  /** What went back into the sandbox, as a Monty value; absent when unknown. */
  result?: { value: unknown } | { error: { type: string; message: string } };
}

export interface LocateOptions {
  /** Replay to place calls from several sites (only for a recording of this exact code). */
  replay: boolean;
  inputs?: Record<string, unknown>;
  /** Probes at most this many pauses. */
  maxProbes?: number;
  maxDurationSecs?: number;
}

/** Call sites by `seq`; a map item goes where its flyte_map is. */
export function locateCalls(task: SandboxTask, calls: readonly RecordedCall[], options: LocateOptions): Map<number, CallSite> {
  const byName = new Map<string, CallSite[]>();
  for (const s of task.callSites) (byName.get(s.name) ?? byName.set(s.name, []).get(s.name)!).push(s);
  const out = new Map<number, CallSite>();
  const top = calls.filter(c => c.mapParent === undefined).sort((a, b) => a.seq - b.seq);
  for (const c of top) {
    const sites = byName.get(c.function);
    if (sites?.length === 1) out.set(c.seq, sites[0]!);
  }
  const ambiguous = top.some(c => (byName.get(c.function)?.length ?? 0) > 1);
  if (ambiguous && options.replay) replayAndProbe(task, top, byName, out, options);
  for (const c of calls) {
    if (c.mapParent === undefined) continue;
    const parent = out.get(c.mapParent);
    if (parent) out.set(c.seq, parent);
  }
  return out;
}

function replayAndProbe(task: SandboxTask, top: RecordedCall[], byName: Map<string, CallSite[]>, out: Map<number, CallSite>, options: LocateOptions): void {
  let budget = options.maxProbes ?? 500;
  const printCallback = () => undefined;
  try {
    const monty = new Monty(task.code, { scriptName: task.module.path, ...(task.inputNames.length ? { inputs: task.inputNames } : {}) });
    const inputs = { ...task.implicitInputs, ...(options.inputs ?? {}) };
    let progress: MontySnapshot | MontyNameLookup | MontyComplete = monty.start({ ...(task.inputNames.length ? { inputs } : {}), limits: { maxDurationSecs: options.maxDurationSecs ?? 2 }, printCallback });
    for (const call of top) {
      while (progress instanceof MontyNameLookup) progress = progress.resume();
      if (progress instanceof MontyComplete || progress.functionName !== call.function) return;
      const sites = byName.get(call.function) ?? [];
      if (sites.length > 1) {
        if (budget-- <= 0) return;
        const frame = probe(task, progress).frames.at(-1);
        const here = frame && sites.filter(s => s.file.line === frame.line).sort((a, b) => Math.abs(a.file.column - frame.column) - Math.abs(b.file.column - frame.column))[0];
        if (here) out.set(call.seq, here);
      }
      if (!call.result) return;
      progress = 'value' in call.result
        ? progress.resume({ returnValue: call.result.value })
        : progress.resume({ exception: sandboxException(call.result.error.type, call.result.error.message) });
    }
  } catch {
    // The replay went another way than the recording (or hit its time limit): the calls placed so far stand.
  }
}
