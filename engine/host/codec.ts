/**
 * Structured values across the process boundary (JSON over Node IPC): like
 * the structured clone, but it also keeps what Monty values need (tuples,
 * non-finite floats, bigints, bytes) and rebuilds CallRecords and errors.
 * Plain objects stay plain objects; Maps are Monty dicts.
 */
import { CallRecord } from '../run/outcome.ts';
import { isTuple, tuple } from '../values/python.ts';

/** A method the runtime child serves beside DebugRuntime's own: the inputs, unless larger than a size as JSON (null then). */
export const INPUTS_IF_SMALL = 'inputsIfSmall';

type Encoded = null | boolean | number | string | Encoded[] | { [k: string]: Encoded };

export function encode(v: unknown): Encoded {
  if (v === null) return null;
  switch (typeof v) {
    case 'undefined': return { $undef: 1 };
    case 'boolean':
    case 'string': return v;
    case 'number': return Number.isFinite(v) ? v : { $float: String(v) };
    case 'bigint': return { $int: v.toString() };
    case 'function':
    case 'symbol': throw new TypeError(`cannot send a ${typeof v} to another process`);
    default: break;
  }
  if (Buffer.isBuffer(v) || v instanceof Uint8Array) return { $bytes: Buffer.from(v).toString('base64') };
  if (Array.isArray(v)) return isTuple(v) ? { $tuple: v.map(encode) } : v.map(encode);
  if (v instanceof Map) return { $map: [...v.entries()].map(([k, x]) => [encode(k), encode(x)]) };
  if (v instanceof Set) return { $set: [...v].map(encode) };
  if (v instanceof CallRecord) {
    // positional: a run sends one of these per call
    return { $record: [v.seq, v.function, encode(v.args), encode(v.kwargs), v.status, encode(v.result), encode(v.error), v.source ?? null, v.startedUs, v.durationUs, v.mapParent ?? null, v.mapIndex ?? null, v.stdoutOffset, v.site ? [v.site.file, v.site.line, v.site.column] : null, encode(v.ref)] };
  }
  if (v instanceof Error) return { $error: { name: v.name, message: v.message, ...encodeFields(v) } };
  return encodeFields(v as Record<string, unknown>);
}

function encodeFields(o: object): { [k: string]: Encoded } {
  const out: { [k: string]: Encoded } = {};
  for (const [k, x] of Object.entries(o)) if (x !== undefined) out[k.startsWith('$') ? '$' + k : k] = encode(x);
  return out;
}

export function decode(e: Encoded): unknown {
  if (e === null || typeof e !== 'object') return e;
  if (Array.isArray(e)) return e.map(decode);
  const keys = Object.keys(e);
  if (keys.length === 1 && keys[0]!.startsWith('$') && !keys[0]!.startsWith('$$')) {
    const v = e[keys[0]!]!;
    switch (keys[0]) {
      case '$undef': return undefined;
      case '$float': return Number(v);
      case '$int': return BigInt(v as string);
      case '$bytes': return Buffer.from(v as string, 'base64');
      case '$tuple': return tuple((v as Encoded[]).map(decode));
      case '$map': return new Map((v as [Encoded, Encoded][]).map(([k, x]) => [decode(k), decode(x)]));
      case '$set': return new Set((v as Encoded[]).map(decode));
      case '$record': {
        const [seq, fn, args, kwargs, status, result, error, source, startedUs, durationUs, mapParent, mapIndex, stdoutOffset, site, ref] = v as Encoded[];
        const r = new CallRecord(seq as number, fn as string, decode(args!) as unknown[], decode(kwargs!) as Record<string, unknown>, startedUs as number, (mapParent ?? undefined) as number | undefined, (mapIndex ?? undefined) as number | undefined, stdoutOffset as number);
        r.status = status as CallRecord['status'];
        r.result = decode(result!);
        r.error = decode(error!) as CallRecord['error'];
        r.source = (source ?? undefined) as CallRecord['source'];
        r.durationUs = durationUs as number;
        if (Array.isArray(site)) r.site = { file: site[0] as string, line: site[1] as number, column: site[2] as number };
        r.ref = ref === undefined ? undefined : decode(ref) as CallRecord['ref'];
        return r;
      }
      case '$error': {
        const fields = decodeFields(v as { [k: string]: Encoded });
        return Object.assign(new Error(fields.message as string), fields);
      }
      default: break;
    }
  }
  return decodeFields(e);
}

function decodeFields(o: { [k: string]: Encoded }): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(o)) out[k.startsWith('$$') ? k.slice(1) : k] = decode(x);
  return out;
}
