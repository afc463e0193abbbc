/** A call as the IO marshaling panel and other clients get it in `flyteSandbox/calls` events (plain JSON). */
import { ioView, type IoView } from '../engine/marshal.ts';
import type { CallRecord } from '../engine/run/outcome.ts';
import { pyRepr } from '../engine/values/python.ts';
import { toWire, type Wire } from '../engine/values/wire.ts';

export interface CallSummary {
  seq: number;
  function: string;
  status: CallRecord['status'];
  args: string[];
  kwargs: Record<string, string>;
  /** The same values in the wire encoding, for clients that want the data. */
  argsValue: Wire;
  kwargsValue: Wire;
  result?: string;
  resultValue?: Wire;
  error?: { type: string; message: string; traceback?: string };
  source?: string;
  durationMs?: number;
  startedMs: number;
  mapParent?: number;
  mapIndex?: number;
  /** IO handles found in the arguments and the result, by path. */
  io: { path: string; view: IoView }[];
}

function collectIo(value: unknown, path: string, out: { path: string; view: IoView }[]): void {
  const view = ioView(value);
  if (view) {
    out.push({ path, view });
    return;
  }
  if (Array.isArray(value)) value.forEach((v, i) => collectIo(v, `${path}[${i}]`, out));
  else if (value instanceof Map) for (const [k, v] of value) collectIo(v, `${path}[${pyRepr(k)}]`, out);
}

export function callSummary(r: CallRecord): CallSummary {
  const io: { path: string; view: IoView }[] = [];
  r.args.forEach((a, i) => collectIo(a, `args[${i}]`, io));
  for (const [k, v] of Object.entries(r.kwargs)) collectIo(v, `kwargs['${k}']`, io);
  if (r.status === 'returned') collectIo(r.result, 'result', io);
  return {
    seq: r.seq,
    function: r.function,
    status: r.status,
    args: r.args.map(a => pyRepr(a)),
    kwargs: Object.fromEntries(Object.entries(r.kwargs).map(([k, v]) => [k, pyRepr(v)])),
    argsValue: toWire(r.args),
    kwargsValue: toWire(r.kwargs),
    ...(r.status === 'returned' ? { result: pyRepr(r.result), resultValue: toWire(r.result) } : {}),
    ...(r.error ? { error: r.error } : {}),
    ...(r.source ? { source: r.source } : {}),
    ...(r.durationMs !== undefined ? { durationMs: r.durationMs } : {}),
    startedMs: r.startedAt,
    ...(r.mapParent !== undefined ? { mapParent: r.mapParent, mapIndex: r.mapIndex! } : {}),
    io,
  };
}
