/**
 * Is an untrusted value (a cassette's) well-formed in the wire encoding
 * (`wire.ts`)? Checked before decoding, which trusts its input: a
 * `{"$tuple": 5}` or a value nested thousands deep must be a clear error
 * naming where it is, not a TypeError or a stack overflow. Iterative, so
 * depth costs no stack.
 */
import { MAX_JSON_DEPTH } from './json.ts';

export function wireProblem(value: unknown, maxDepth = MAX_JSON_DEPTH): string | undefined {
  const stack: { v: unknown; at: string; depth: number }[] = [{ v: value, at: '', depth: 0 }];
  while (stack.length) {
    const { v, at, depth } = stack.pop()!;
    if (v === null || typeof v === 'boolean' || typeof v === 'string') continue;
    if (typeof v === 'number') {
      if (!Number.isFinite(v)) return `${at || 'the value'}: a number JSON cannot hold`;
      continue;
    }
    if (typeof v !== 'object') return `${at || 'the value'}: not a JSON value`;
    if (depth >= maxDepth) return `${at || 'the value'}: nested more than ${maxDepth} levels deep`;
    const child = (x: unknown, step: string) => stack.push({ v: x, at: `${at}${step}`, depth: depth + 1 });
    if (Array.isArray(v)) {
      v.forEach((x, i) => child(x, `[${i}]`));
      continue;
    }
    const o = v as Record<string, unknown>;
    const keys = Object.keys(o);
    const tag = keys.find(k => k.startsWith('$') && !k.startsWith('$$'));
    const where = at || 'the value';
    if (tag && (keys.length === 1 || (tag === '$exception' && keys.length === 2))) {
      const x = o[tag];
      switch (tag) {
        case '$tuple':
        case '$set':
          if (!Array.isArray(x)) return `${where}: "${tag}" must hold a list`;
          x.forEach((y, i) => child(y, `[${i}]`));
          continue;
        case '$bytes':
          if (typeof x !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(x)) return `${where}: "$bytes" must hold base64 text`;
          continue;
        case '$int':
          if (typeof x !== 'string' || !/^-?\d+$/.test(x)) return `${where}: "$int" must hold the digits of an integer`;
          continue;
        case '$float':
          if (x !== 'nan' && x !== 'inf' && x !== '-inf') return `${where}: "$float" must be "nan", "inf" or "-inf"`;
          continue;
        case '$dict':
          if (!Array.isArray(x) || !x.every(e => Array.isArray(e) && e.length === 2)) return `${where}: "$dict" must hold [key, value] pairs`;
          x.forEach((e, i) => {
            child((e as unknown[])[0], `{key ${i}}`);
            child((e as unknown[])[1], `[${i}]`);
          });
          continue;
        case '$exception':
          if (typeof x !== 'string' || (o.message !== undefined && typeof o.message !== 'string')) return `${where}: "$exception" must name a type, with a text "message"`;
          continue;
        case '$redacted':
          if (x !== true) return `${where}: "$redacted" must be true`;
          continue;
        default:
          break;
      }
    }
    for (const k of keys) child(o[k], at ? `${at}.${k}` : k);
  }
  return undefined;
}

/** How deeply `value` nests (lists, objects, Maps), counted without recursion; stops counting past `limit`. */
export function nestingDepth(value: unknown, limit = MAX_JSON_DEPTH + 1): number {
  let deepest = 0;
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length) {
    const [v, depth] = stack.pop()!;
    if (v === null || typeof v !== 'object' || Buffer.isBuffer(v)) continue;
    const d = depth + 1;
    if (d > deepest) deepest = d;
    if (deepest >= limit) return deepest;
    const children = v instanceof Map ? [...v.values()] : Array.isArray(v) ? v : v instanceof Set ? [...v] : Object.values(v);
    for (const c of children) stack.push([c, d]);
  }
  return deepest;
}
