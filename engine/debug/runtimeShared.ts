/**
 * What the debug runtime's layers share: a call waiting for the client, a
 * stop between statements, a position a replay goes to, and how a call is
 * described to the user.
 */
import type { ProbeAnswer, ProbeHit } from '../instrument/probes.ts';
import type { CallOutcome, ExternalCall } from '../run/outcome.ts';
import type { ProbeResult } from '../run/probe.ts';
import { pyReprBounded } from '../values/python.ts';
import type { StoppedInfo } from './api.ts';

/** A call (or a flyte_map gate) waiting for the client. */
export interface Pending {
  threadId: number;
  call: ExternalCall;
  kind: 'call' | 'map';
  stop: StoppedInfo;
  raised?: Extract<CallOutcome, { kind: 'raise' }>;
  needsResult?: boolean;
  probe?: ProbeResult;
  settle(outcome: CallOutcome | undefined): void;
}

/** A stop between statements (a probe of the instrumented run), or at `breakpoint()` in the task. */
export interface LineStop {
  stop: StoppedInfo;
  hit?: ProbeHit;
  settle(answer: ProbeAnswer): void;
}

export type State = 'idle' | 'entry' | 'running' | 'exception' | 'ended';

/** A place a run is taken back (or forward) to, by replaying what it recorded. */
export type Position = { kind: 'call'; seq: number } | { kind: 'line'; count: number; callsBefore: number; stdoutLength: number };

export function itemThread(seq: number): number {
  return seq + 1;
}

export function signature(fn: string, args: readonly unknown[], kwargs: Record<string, unknown>, max = 80): string {
  const text = [...args.map(a => pyReprBounded(a, max)), ...Object.entries(kwargs).map(([k, v]) => `${k}=${pyReprBounded(v, max)}`)].join(', ');
  return `${fn}(${text.length > max ? text.slice(0, max - 1) + '…' : text})`;
}

export function describe(call: ExternalCall): string {
  const sig = signature(call.function, call.args, call.kwargs);
  return call.mapIndex === undefined ? sig : `${sig} · flyte_map item ${call.mapIndex + 1}/${call.mapSize ?? '?'}`;
}

export function breakpointBuiltin(production: string): string {
  return `breakpoint() in the task: the debug session stops here. Production refuses this call and ends the run (${production})`;
}
