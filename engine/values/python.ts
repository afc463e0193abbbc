/**
 * Monty values as the JS binding hands them over, and their Python meaning.
 *
 * Python → JS: None→null, bool→boolean, int→number|bigint, float→number,
 * str→string, bytes→Buffer, tuple→Array with a non-enumerable `__tuple__`,
 * list→Array, dict→Map (or a plain object when we build one), set→Set,
 * exception value→{__monty_type__: 'Exception', excType, message}.
 */

export type MontyValue = unknown;

export interface MontyExceptionValue {
  __monty_type__: 'Exception';
  excType: string;
  message: string;
}

export function tuple<T>(items: T[]): T[] {
  Object.defineProperty(items, '__tuple__', { value: true, enumerable: false });
  return items;
}

export function isTuple(value: unknown): value is unknown[] {
  return Array.isArray(value) && (value as { __tuple__?: boolean }).__tuple__ === true;
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object') return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

export function isExceptionValue(value: unknown): value is MontyExceptionValue {
  return isPlainObject(value) && value.__monty_type__ === 'Exception';
}

/** Entries of a Python dict, whichever JS shape carries it. */
export function dictEntries(value: Map<unknown, unknown> | Record<string, unknown>): [unknown, unknown][] {
  return value instanceof Map ? [...value.entries()] : Object.entries(value);
}

export function isDict(value: unknown): value is Map<unknown, unknown> | Record<string, unknown> {
  return value instanceof Map || (isPlainObject(value) && !isExceptionValue(value));
}

export function dictGet(value: Map<unknown, unknown> | Record<string, unknown>, key: string): unknown {
  return value instanceof Map ? value.get(key) : value[key];
}

export function dictHas(value: Map<unknown, unknown> | Record<string, unknown>, key: string): boolean {
  return value instanceof Map ? value.has(key) : Object.prototype.hasOwnProperty.call(value, key);
}

/** Python's `type(x).__name__` for a Monty value. */
export function pyTypeName(value: unknown): string {
  if (value === null || value === undefined) return 'NoneType';
  switch (typeof value) {
    case 'boolean': return 'bool';
    case 'bigint': return 'int';
    case 'number': return Number.isInteger(value) ? 'int' : 'float';
    case 'string': return 'str';
    default: break;
  }
  if (Buffer.isBuffer(value)) return 'bytes';
  if (Array.isArray(value)) return isTuple(value) ? 'tuple' : 'list';
  if (value instanceof Set) return 'set';
  if (isExceptionValue(value)) return value.excType;
  if (isDict(value)) return 'dict';
  return typeof value;
}

/** Iterate a Monty value the way Python's `iter()` would, or undefined if it is not iterable here. */
export function pyIterate(value: unknown): unknown[] | undefined {
  if (Array.isArray(value)) return value;
  if (typeof value === 'string') return [...value];
  if (value instanceof Map) return [...value.keys()];
  if (value instanceof Set) return [...value];
  if (Buffer.isBuffer(value)) return [...value];
  if (isDict(value)) return Object.keys(value);
  return undefined;
}

const STRING_ESCAPES: Record<string, string> = { '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t' };

function reprString(s: string): string {
  const quote = s.includes("'") && !s.includes('"') ? '"' : "'";
  let out = quote;
  for (const ch of s) {
    const code = ch.codePointAt(0) ?? 0;
    if (STRING_ESCAPES[ch] !== undefined) out += STRING_ESCAPES[ch];
    else if (ch === quote) out += '\\' + ch;
    else if (code < 0x20 || code === 0x7f) out += '\\x' + code.toString(16).padStart(2, '0');
    else out += ch;
  }
  return out + quote;
}

function reprBytes(b: Buffer): string {
  const quote = b.includes(0x27) && !b.includes(0x22) ? '"' : "'";
  let out = 'b' + quote;
  for (const byte of b) {
    const ch = String.fromCharCode(byte);
    if (ch === quote || ch === '\\') out += '\\' + ch;
    else if (byte === 10) out += '\\n';
    else if (byte === 13) out += '\\r';
    else if (byte === 9) out += '\\t';
    else if (byte < 0x20 || byte >= 0x7f) out += '\\x' + byte.toString(16).padStart(2, '0');
    else out += ch;
  }
  return out + quote;
}

function reprFloat(n: number): string {
  if (Number.isNaN(n)) return 'nan';
  if (!Number.isFinite(n)) return n > 0 ? 'inf' : '-inf';
  if (Number.isInteger(n)) return String(n);
  const s = String(n);
  // Python writes exponents with at least two digits: 1e-07, not 1e-7.
  return s.replace(/e([+-])(\d)$/, 'e$10$2');
}

/** repr() of a value Python knows to be a float (JS keeps 13.0 as 13). */
export function pyFloatRepr(n: number): string {
  if (!Number.isInteger(n)) return reprFloat(n);
  if (Object.is(n, -0)) return '-0.0';
  if (Math.abs(n) >= 1e16) return n.toExponential().replace(/e\+?(-?)(\d)$/, 'e+$10$2').replace('e+-', 'e-').replace(/\.0+e/, 'e');
  return `${n}.0`;
}

/** Types whose values Monty hands to the host as their repr text (not data). */
const OPAQUE_TYPES = new Set(['function', 'builtin_function_or_method', 'range', 'type', 'method', 'coroutine', 'module']);

/**
 * repr() of a value whose Python type name the sandbox reported: a float
 * holding a whole number keeps its `.0`, a function shows as itself (Monty
 * hands it over as its repr text).
 */
export function typedRepr(value: unknown, typeName: string | undefined): string {
  if (typeName === 'float' && typeof value === 'number') return pyFloatRepr(value);
  if (typeName && OPAQUE_TYPES.has(typeName) && typeof value === 'string') return value.replace(/^<(\w+) '([^']*)' at 0x[0-9a-f]+>$/, '<$1 $2>');
  return pyRepr(value);
}

export function isOpaqueType(typeName: string | undefined): boolean {
  return typeName !== undefined && OPAQUE_TYPES.has(typeName);
}

/** Python's `repr()` of a Monty value (ints and floats are indistinguishable in JS: 3.0 prints as 3). */
export function pyRepr(value: unknown, depth = 0): string {
  if (depth > 50) return '...';
  if (value === null || value === undefined) return 'None';
  switch (typeof value) {
    case 'boolean': return value ? 'True' : 'False';
    case 'bigint': return value.toString();
    case 'number': return reprFloat(value);
    case 'string': return reprString(value);
    default: break;
  }
  if (Buffer.isBuffer(value)) return reprBytes(value);
  if (Array.isArray(value)) {
    const items = value.map(v => pyRepr(v, depth + 1));
    if (isTuple(value)) return items.length === 1 ? `(${items[0]},)` : `(${items.join(', ')})`;
    return `[${items.join(', ')}]`;
  }
  if (value instanceof Set) return value.size === 0 ? 'set()' : `{${[...value].map(v => pyRepr(v, depth + 1)).join(', ')}}`;
  if (isExceptionValue(value)) return `${value.excType}(${reprString(value.message)})`;
  if (isDict(value)) {
    return `{${dictEntries(value).map(([k, v]) => `${pyRepr(k, depth + 1)}: ${pyRepr(v, depth + 1)}`).join(', ')}}`;
  }
  return String(value);
}

/**
 * The first `max` characters of `pyRepr(value)` (then '…'), without building
 * the whole text: a local holding a million items shows at once.
 */
export function pyReprBounded(value: unknown, max: number): string {
  if (value === null || typeof value !== 'object') {
    const text = pyRepr(value);
    return text.length > max ? text.slice(0, max - 1) + '…' : text;
  }
  let out = '';
  const full = () => out.length > max;
  const walk = (v: unknown, depth: number): void => {
    if (full()) return;
    if (depth > 50) {
      out += '...';
      return;
    }
    if (Array.isArray(v)) {
      const tupleLike = isTuple(v);
      out += tupleLike ? '(' : '[';
      for (let i = 0; i < v.length && !full(); i++) {
        if (i) out += ', ';
        walk(v[i], depth + 1);
      }
      out += tupleLike ? (v.length === 1 ? ',)' : ')') : ']';
      return;
    }
    if (v instanceof Set) {
      if (v.size === 0) {
        out += 'set()';
        return;
      }
      out += '{';
      let first = true;
      for (const x of v) {
        if (full()) break;
        if (!first) out += ', ';
        first = false;
        walk(x, depth + 1);
      }
      out += '}';
      return;
    }
    if (isDict(v) && !isExceptionValue(v)) {
      out += '{';
      let first = true;
      for (const [k, x] of dictEntries(v)) {
        if (full()) break;
        if (!first) out += ', ';
        first = false;
        walk(k, depth + 1);
        out += ': ';
        walk(x, depth + 1);
      }
      out += '}';
      return;
    }
    out += pyRepr(v, depth);
  };
  walk(value, 0);
  return out.length > max ? out.slice(0, max - 1) + '…' : out;
}

/** Python's `str()`: like repr except for strings. */
export function pyStr(value: unknown): string {
  return typeof value === 'string' ? value : pyRepr(value);
}
