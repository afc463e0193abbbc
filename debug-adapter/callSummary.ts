/** A call as the IO marshaling panel and other clients get it in `flyteSandbox/calls` events (plain JSON). */
import { ioView, type IoView } from '../engine/marshal.ts';
import type { CallRecord, CallRef } from '../engine/run/outcome.ts';
import { pyRepr, pyReprBounded } from '../engine/values/python.ts';
import { toWire, type Wire } from '../engine/values/wire.ts';

export interface CallSummary {
  seq: number;
  function: string;
  status: CallRecord['status'];
  args: string[];
  kwargs?: Record<string, string>;
  result?: string;
  /** Exact values in the wire encoding, when the client follows values (`flyteSandbox/follow`). */
  values?: { args: Wire; kwargs: Wire; result?: Wire };
  error?: { type: string; message: string; traceback?: string };
  source?: string;
  /** The production action (imported run) or cluster run (remote) behind the result. */
  ref?: CallRef;
  durationMs?: number;
  startedMs: number;
  mapParent?: number;
  mapIndex?: number;
  /** IO handles found in the arguments and the result, by path. */
  io?: { path: string; view: IoView }[];
  /** Where the call was made (file line and column), once known. */
  line?: number;
  column?: number;
}

function collectIo(value: unknown, path: string, out: { path: string; view: IoView }[]): void {
  if (value === null || typeof value !== 'object') return;
  const view = ioView(value);
  if (view) {
    out.push({ path, view });
    return;
  }
  if (Array.isArray(value)) value.forEach((v, i) => collectIo(v, `${path}[${i}]`, out));
  else if (value instanceof Map) for (const [k, v] of value) collectIo(v, `${path}[${pyRepr(k)}]`, out);
}

const MAX = 240;

/** One of these goes to the client per call: empty parts are left out. */
export function callSummary(r: CallRecord, withValues = false): CallSummary {
  const io: { path: string; view: IoView }[] = [];
  r.args.forEach((a, i) => collectIo(a, `args[${i}]`, io));
  const kwargs = Object.entries(r.kwargs);
  for (const [k, v] of kwargs) collectIo(v, `kwargs['${k}']`, io);
  if (r.status === 'returned') collectIo(r.result, 'result', io);
  return {
    seq: r.seq,
    function: r.function,
    status: r.status,
    args: r.args.map(a => pyReprBounded(a, MAX)),
    ...(kwargs.length ? { kwargs: Object.fromEntries(kwargs.map(([k, v]) => [k, pyReprBounded(v, MAX)])) } : {}),
    ...(r.status === 'returned' ? { result: pyReprBounded(r.result, MAX) } : {}),
    ...(withValues ? { values: { args: toWire(r.args), kwargs: toWire(r.kwargs), ...(r.status === 'returned' ? { result: toWire(r.result) } : {}) } } : {}),
    ...(r.error ? { error: r.error } : {}),
    ...(r.source ? { source: r.source } : {}),
    ...(r.ref ? { ref: r.ref } : {}),
    ...(r.durationUs >= 0 ? { durationMs: r.durationUs / 1000 } : {}),
    startedMs: r.startedUs / 1000,
    ...(r.mapParent !== undefined ? { mapParent: r.mapParent, mapIndex: r.mapIndex! } : {}),
    ...(io.length ? { io } : {}),
    ...(r.site ? { line: r.site.line, column: r.site.column } : {}),
  };
}
