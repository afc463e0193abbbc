/**
 * Call records across a process boundary, a batch at a time and by column: a
 * run sends one record per call, and most fields are the same for every call
 * in a batch (function, status, source, no kwargs, no flyte_map), so such a
 * column goes once (`{same: v}`) and the rest as flat arrays. This keeps the
 * message small and its parse cheap: a few arrays, not an object per call.
 * Values travel in the wire encoding (`values/wire.ts`).
 */
import { CallRecord, type CallRef, type CallStatus, type ResultSource } from '../run/outcome.ts';
import { fromWire, fromWireOwned, toWire, toWireNow, type Wire } from '../values/wire.ts';

/** Every value, or one value for all. */
export type Column<T> = T[] | { same: T };

export interface RecordBlock {
  seq: number[];
  fn: Column<string>;
  args: Wire[];
  /** 0: no keyword arguments */
  kwargs: Column<Wire | 0>;
  status: Column<CallStatus>;
  /** null unless returned */
  result: Column<Wire>;
  error: Column<NonNullable<CallRecord['error']> | 0>;
  source: Column<ResultSource | 0>;
  startedUs: number[];
  durationUs: number[];
  stdoutOffset: Column<number>;
  /** 0: not a flyte_map item (seqs count from 1) */
  mapParent: Column<number>;
  mapIndex: Column<number>;
  /** where the call was made, when known: [file, line, column], else 0 */
  site: Column<[string, number, number] | 0>;
  /** the production action or cluster run behind the result, else 0 */
  ref: Column<CallRef | 0>;
}

function column<T>(values: T[]): Column<T> {
  const first = values[0];
  if (first !== null && typeof first === 'object') return values;
  for (let i = 1; i < values.length; i++) if (values[i] !== first) return values;
  return { same: first as T };
}

function at<T>(c: Column<T>, i: number): T {
  return Array.isArray(c) ? c[i]! : c.same;
}

function hasKeys(o: object): boolean {
  for (const _ in o) return true;
  return false;
}

/**
 * The records as they are now. For a message serialised at once: lists of
 * plain values are not copied (see `toWireNow`).
 */
export function encodeRecords(records: readonly CallRecord[]): RecordBlock {
  const n = records.length;
  const seq = new Array<number>(n), fn = new Array<string>(n), args = new Array<Wire>(n), kwargs = new Array<Wire | 0>(n);
  const status = new Array<CallStatus>(n), result = new Array<Wire>(n), error = new Array<NonNullable<CallRecord['error']> | 0>(n), source = new Array<ResultSource | 0>(n);
  const startedUs = new Array<number>(n), durationUs = new Array<number>(n), stdoutOffset = new Array<number>(n), mapParent = new Array<number>(n), mapIndex = new Array<number>(n);
  const site = new Array<[string, number, number] | 0>(n), ref = new Array<CallRef | 0>(n);
  for (let i = 0; i < n; i++) {
    const r = records[i]!;
    seq[i] = r.seq;
    fn[i] = r.function;
    args[i] = toWireNow(r.args);
    kwargs[i] = hasKeys(r.kwargs) ? toWire(r.kwargs) : 0;
    status[i] = r.status;
    result[i] = r.status === 'returned' ? toWireNow(r.result) : null;
    error[i] = r.error ?? 0;
    source[i] = r.source ?? 0;
    startedUs[i] = r.startedUs;
    durationUs[i] = r.durationUs;
    stdoutOffset[i] = r.stdoutOffset;
    mapParent[i] = r.mapParent ?? 0;
    mapIndex[i] = r.mapIndex ?? 0;
    site[i] = r.site ? [r.site.file, r.site.line, r.site.column] : 0;
    ref[i] = r.ref ?? 0;
  }
  return {
    seq, fn: column(fn), args, kwargs: column(kwargs), status: column(status), result: column(result), error: column(error), source: column(source),
    startedUs, durationUs, stdoutOffset: column(stdoutOffset), mapParent: column(mapParent), mapIndex: column(mapIndex), site: column(site), ref: column(ref),
  };
}

const NO_KWARGS: Record<string, unknown> = Object.freeze({}) as Record<string, unknown>;

/** Keyword arguments are a plain object on both sides (their keys are always identifiers). */
export function kwargsFromWire(w: Wire): Record<string, unknown> {
  return Object.fromEntries(fromWire(w) as Map<string, unknown>);
}

/**
 * The block's records, each the update of the one already known by that seq
 * (the same object, so listeners keep it) or a new one.
 */
export function decodeRecords(block: RecordBlock, known: (seq: number) => CallRecord | undefined, each: (r: CallRecord, isNew: boolean) => void): void {
  for (let i = 0; i < block.seq.length; i++) {
    const seq = block.seq[i]!;
    let r = known(seq);
    const isNew = !r;
    if (!r) {
      const kw = at(block.kwargs, i);
      const parent = at(block.mapParent, i);
      r = new CallRecord(seq, at(block.fn, i), fromWireOwned(block.args[i]!) as unknown[], kw === 0 ? NO_KWARGS : kwargsFromWire(kw), block.startedUs[i]!, parent || undefined, parent ? at(block.mapIndex, i) : undefined, at(block.stdoutOffset, i));
    }
    const status = at(block.status, i);
    r.status = status;
    r.result = status === 'returned' ? fromWireOwned(at(block.result, i)) : undefined;
    const error = at(block.error, i);
    r.error = error === 0 ? undefined : error;
    const source = at(block.source, i);
    r.source = source === 0 ? undefined : source;
    r.durationUs = block.durationUs[i]!;
    const site = at(block.site, i);
    if (site !== 0) r.site = { file: site[0], line: site[1], column: site[2] };
    const ref = at(block.ref, i);
    r.ref = ref === 0 ? undefined : ref;
    each(r, isNew);
  }
}
