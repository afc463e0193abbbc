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

function hasKeys(o: object): boolean {
  for (const _ in o) return true;
  return false;
}

/**
 * One of these goes to the client per call: empty parts are left out. Built
 * field by field in a fixed order (the JSON the client gets): a run of a
 * million calls builds a million of them.
 */
export function callSummary(r: CallRecord, withValues = false): CallSummary {
  let io: { path: string; view: IoView }[] | undefined;
  const args = new Array<string>(r.args.length);
  for (let i = 0; i < r.args.length; i++) {
    const a = r.args[i];
    if (a !== null && typeof a === 'object') collectIo(a, `args[${i}]`, (io ??= []));
    args[i] = pyReprBounded(a, MAX);
  }
  const s = { seq: r.seq, function: r.function, status: r.status, args } as CallSummary;
  if (hasKeys(r.kwargs)) {
    const kwargs: Record<string, string> = {};
    for (const [k, v] of Object.entries(r.kwargs)) {
      collectIo(v, `kwargs['${k}']`, (io ??= []));
      kwargs[k] = pyReprBounded(v, MAX);
    }
    s.kwargs = kwargs;
  }
  const returned = r.status === 'returned';
  if (returned) {
    if (r.result !== null && typeof r.result === 'object') collectIo(r.result, 'result', (io ??= []));
    s.result = pyReprBounded(r.result, MAX);
  }
  if (withValues) s.values = returned ? { args: toWire(r.args), kwargs: toWire(r.kwargs), result: toWire(r.result) } : { args: toWire(r.args), kwargs: toWire(r.kwargs) };
  if (r.error) s.error = r.error;
  if (r.source) s.source = r.source;
  if (r.ref) s.ref = r.ref;
  if (r.durationUs >= 0) s.durationMs = r.durationUs / 1000;
  s.startedMs = r.startedUs / 1000;
  if (r.mapParent !== undefined) {
    s.mapParent = r.mapParent;
    s.mapIndex = r.mapIndex!;
  }
  if (io?.length) s.io = io;
  if (r.site) {
    s.line = r.site.line;
    s.column = r.site.column;
  }
  return s;
}
