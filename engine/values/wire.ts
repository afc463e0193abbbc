/**
 * The wire encoding of Monty values: plain JSON that keeps what JSON cannot
 * carry (tuples, sets, bytes, big ints, non-finite floats, dicts with
 * non-string keys or integer-like keys whose order JSON objects would lose,
 * exception values). Used wherever a value leaves this process: the sandbox
 * child process, the Python worker, cassettes.
 *
 *   {"$tuple": [...]}  {"$set": [...]}  {"$bytes": "<base64>"}  {"$int": "123"}
 *   {"$float": "nan" | "inf" | "-inf"}  {"$dict": [[k, v], ...]}
 *   {"$exception": "ValueError", "message": "..."}
 * Lists are arrays; a dict whose keys are all plain strings is an object.
 */
import { dictEntries, isDict, isExceptionValue, isTuple, tuple } from './python.ts';

export type Wire = null | boolean | number | string | Wire[] | { [k: string]: Wire };

const INTEGER_LIKE = /^(0|-?[1-9]\d*)$/;

function plainKeys(entries: [unknown, unknown][]): boolean {
  return entries.every(([k]) => typeof k === 'string' && !INTEGER_LIKE.test(k) && !k.startsWith('$'));
}

export function toWire(value: unknown): Wire {
  if (value === null || value === undefined) return null;
  switch (typeof value) {
    case 'boolean':
    case 'string':
      return value;
    case 'number':
      if (Number.isFinite(value)) return value;
      return { $float: Number.isNaN(value) ? 'nan' : value > 0 ? 'inf' : '-inf' };
    case 'bigint':
      return { $int: value.toString() };
    default:
      break;
  }
  if (Buffer.isBuffer(value) || value instanceof Uint8Array) return { $bytes: Buffer.from(value).toString('base64') };
  if (Array.isArray(value)) return isTuple(value) ? { $tuple: value.map(toWire) } : value.map(toWire);
  if (value instanceof Set) return { $set: [...value].map(toWire) };
  if (isExceptionValue(value)) return { $exception: value.excType, message: value.message };
  if (isDict(value)) {
    const entries = dictEntries(value);
    if (plainKeys(entries)) {
      const out: { [k: string]: Wire } = {};
      for (const [k, v] of entries) out[k as string] = toWire(v);
      return out;
    }
    return { $dict: entries.map(([k, v]) => [toWire(k), toWire(v)]) };
  }
  throw new TypeError(`cannot encode a ${Object.prototype.toString.call(value)} for the wire`);
}

/** A call's arguments for another process, or why they cannot go there (`to`: "Python", "the cluster"). */
export function callToWire(call: { function: string; args: unknown[]; kwargs: Record<string, unknown> }, to: string): { args: Wire; kwargs: Wire } | { error: string } {
  try {
    return { args: toWire(call.args), kwargs: toWire(call.kwargs) };
  } catch (e) {
    return { error: `the arguments of ${call.function}() cannot be sent to ${to}: ${(e as Error).message}` };
  }
}

export function fromWire(wire: Wire): unknown {
  if (wire === null || typeof wire !== 'object') return wire;
  if (Array.isArray(wire)) return wire.map(fromWire);
  const keys = Object.keys(wire);
  if (keys.length === 1 || (keys.length === 2 && '$exception' in wire)) {
    const k = keys[0]!;
    const v = wire[k]!;
    switch (k) {
      case '$tuple': return tuple((v as Wire[]).map(fromWire));
      case '$set': return new Set((v as Wire[]).map(fromWire));
      case '$bytes': return Buffer.from(v as string, 'base64');
      case '$int': return BigInt(v as string);
      case '$float': return v === 'nan' ? NaN : v === 'inf' ? Infinity : -Infinity;
      case '$dict': return new Map((v as [Wire, Wire][]).map(([a, b]) => [fromWire(a), fromWire(b)]));
      case '$exception': return { __monty_type__: 'Exception', excType: v as string, message: (wire.message as string) ?? '' };
      default: break;
    }
  }
  return new Map(keys.map(k => [k, fromWire(wire[k]!)]));
}

function plain(v: unknown): boolean {
  return v === null || typeof v === 'string' || typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v));
}

/**
 * `toWire` for a value about to be serialised at once (IPC): a primitive or a
 * list of primitives is its own wire form and goes as is, without a copy.
 * Never for a wire value that will be kept or changed (cassettes redact theirs).
 */
export function toWireNow(value: unknown): Wire {
  if (plain(value)) return value as Wire;
  if (Array.isArray(value) && !isTuple(value) && value.every(plain)) return value as Wire[];
  return toWire(value);
}

/** `fromWire` for a freshly parsed message: a list of primitives is kept as the value itself. */
export function fromWireOwned(wire: Wire): unknown {
  if (wire === null || typeof wire !== 'object') return wire;
  if (Array.isArray(wire)) return wire.every(plain) ? wire : fromWire(wire);
  // a flyte_map item's arguments: a tuple of plain values
  const t = (wire as { $tuple?: Wire }).$tuple;
  if (Array.isArray(t) && t.every(plain) && Object.keys(wire).length === 1) return tuple(t);
  return fromWire(wire);
}
