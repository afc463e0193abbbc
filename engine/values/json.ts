/**
 * JSON in and out of the Monty value domain.
 *
 * Parsing keeps key order (objects become Maps, as Python dicts keep insertion
 * order; JS objects would move integer-like keys first) and keeps integers
 * beyond 2^53 exact (bigint). Writing is the `--json` shape of the CLI:
 * tuples and sets become arrays, IO handles stay tagged dicts.
 */
import { dictEntries, isDict, isExceptionValue, pyRepr } from './python.ts';

export class JsonSyntaxError extends Error {
  constructor(message: string, readonly line: number, readonly column: number) {
    super(message);
  }
}

/**
 * Deeper nesting is refused: Python's own json module (and so Flyte, reading
 * the same inputs) raises RecursionError before 1000 levels, and every
 * recursive walk of a value on our side stays far from its stack limit.
 */
export const MAX_JSON_DEPTH = 990;

const SPACE = 0x20, TAB = 0x09, CR = 0x0d, LF = 0x0a, QUOTE = 0x22, BACKSLASH = 0x5c;
const DIGIT0 = 0x30, DIGIT9 = 0x39, MINUS = 0x2d, PLUS = 0x2b, DOT = 0x2e, LOWER_E = 0x65, UPPER_E = 0x45;
/** A number is read from at most this many characters (a longer one ends there). */
const NUMBER_WINDOW = 400;

function isDigit(c: number): boolean {
  return c >= DIGIT0 && c <= DIGIT9;
}

/** Character codes, not one-character strings or a regex per token: a 50 MB inputs file is parsed in seconds. */
export function parseJson(text: string): unknown {
  let i = 0;
  let depth = 0;
  const n = text.length;
  const fail = (what: string): never => {
    const before = text.slice(0, i);
    const line = before.split('\n').length;
    const column = i - before.lastIndexOf('\n');
    throw new JsonSyntaxError(`${what} at line ${line} column ${column}`, line, column);
  };
  const ws = () => {
    for (let c = text.charCodeAt(i); c === SPACE || c === LF || c === CR || c === TAB; c = text.charCodeAt(++i));
  };
  /** The end of `-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?` from i within the window, or i when there is none; `integer` when it has neither fraction nor exponent. */
  let integer = true;
  const numberEnd = (): number => {
    const limit = Math.min(n, i + NUMBER_WINDOW);
    let j = i;
    if (j < limit && text.charCodeAt(j) === MINUS) j++;
    if (j >= limit || !isDigit(text.charCodeAt(j))) return i;
    if (text.charCodeAt(j) === DIGIT0) j++;
    else while (j < limit && isDigit(text.charCodeAt(j))) j++;
    integer = true;
    if (j + 1 < limit && text.charCodeAt(j) === DOT && isDigit(text.charCodeAt(j + 1))) {
      integer = false;
      j += 2;
      while (j < limit && isDigit(text.charCodeAt(j))) j++;
    }
    const e = text.charCodeAt(j);
    if (j < limit && (e === LOWER_E || e === UPPER_E)) {
      let k = j + 1;
      const sign = text.charCodeAt(k);
      if (k < limit && (sign === PLUS || sign === MINUS)) k++;
      if (k < limit && isDigit(text.charCodeAt(k))) {
        integer = false;
        while (k < limit && isDigit(text.charCodeAt(k))) k++;
        j = k;
      }
    }
    return j;
  };
  const str = (): string => {
    const start = i;
    i++;
    let plain = true;
    for (; i < n; i++) {
      const c = text.charCodeAt(i);
      if (c === QUOTE) break;
      if (c === BACKSLASH) {
        plain = false;
        i++;
      } else if (c < SPACE) plain = false;
    }
    if (i >= n) fail('unterminated string');
    i++;
    if (plain) return text.slice(start + 1, i - 1);
    try {
      return JSON.parse(text.slice(start, i)) as string;
    } catch {
      i = start;
      return fail('invalid string');
    }
  };
  const value = (): unknown => {
    ws();
    const c = text.charCodeAt(i);
    if ((c === 0x7b || c === 0x5b) && ++depth > MAX_JSON_DEPTH) fail(`the value is nested more than ${MAX_JSON_DEPTH} levels deep (Python's json module cannot read it either)`);
    if (c === 0x7b) { // {
      i++;
      const map = new Map<string, unknown>();
      ws();
      if (text.charCodeAt(i) === 0x7d) { i++; depth--; return map; }
      for (;;) {
        ws();
        if (text.charCodeAt(i) !== QUOTE) fail('expected a string key');
        const key = str();
        ws();
        if (text.charCodeAt(i) !== 0x3a) fail("expected ':'");
        i++;
        map.set(key, value());
        ws();
        const d = text.charCodeAt(i);
        if (d === 0x2c) { i++; continue; }
        if (d === 0x7d) { i++; depth--; return map; }
        fail("expected ',' or '}'");
      }
    }
    if (c === 0x5b) { // [
      i++;
      const arr: unknown[] = [];
      ws();
      if (text.charCodeAt(i) === 0x5d) { i++; depth--; return arr; }
      for (;;) {
        arr.push(value());
        ws();
        const d = text.charCodeAt(i);
        if (d === 0x2c) { i++; continue; }
        if (d === 0x5d) { i++; depth--; return arr; }
        fail("expected ',' or ']'");
      }
    }
    if (c === QUOTE) return str();
    if (c === 0x74 && text.startsWith('true', i)) { i += 4; return true; }
    if (c === 0x66 && text.startsWith('false', i)) { i += 5; return false; }
    if (c === 0x6e && text.startsWith('null', i)) { i += 4; return null; }
    const end = numberEnd();
    if (end === i) return fail(i >= n ? 'unexpected end of JSON' : `unexpected character ${JSON.stringify(text[i])}`);
    const literal = text.slice(i, end);
    i = end;
    if (integer) {
      const v = Number(literal);
      return Number.isSafeInteger(v) ? v : BigInt(literal);
    }
    return Number(literal);
  };
  const result = value();
  ws();
  if (i < n) fail(`unexpected ${JSON.stringify(text[i])} after the JSON value`);
  return result;
}

function keyString(key: unknown): string {
  if (typeof key === 'string') return key;
  if (key === null) return 'null';
  if (typeof key === 'boolean') return key ? 'true' : 'false';
  return pyRepr(key);
}

/**
 * Serialise a Monty value as JSON text (indent 0 = compact), as if nested
 * `level` deep. Scalars return before any padding is made, and each level's
 * padding is made once: a list of 10,000 numbers (a flyte_map's inputs) is
 * written without 20,000 padding strings.
 */
export function toJson(value: unknown, indent = 0, level = 0): string {
  const pads: string[] = [];
  const pad = (l: number): string => (pads[l] ??= ' '.repeat(indent * l));
  const sep = indent ? ': ' : ':';
  const list = (items: string[], open: string, close: string, l: number): string => {
    if (items.length === 0) return open + close;
    if (!indent) return `${open}${items.join(',')}${close}`;
    const inner = pad(l + 1);
    return `${open}\n${inner}${items.join(',\n' + inner)}\n${pad(l)}${close}`;
  };
  const write = (v: unknown, l: number): string => {
    if (v === null || v === undefined) return 'null';
    switch (typeof v) {
      case 'boolean': return v ? 'true' : 'false';
      case 'bigint': return v.toString();
      case 'number': return Number.isFinite(v) ? JSON.stringify(v) : JSON.stringify(pyRepr(v));
      case 'string': return JSON.stringify(v);
      default: break;
    }
    if (Buffer.isBuffer(v)) return write(new Map([['__bytes__', v.toString('base64')]]), l);
    if (Array.isArray(v)) {
      const items = new Array<string>(v.length);
      for (let i = 0; i < v.length; i++) items[i] = write(v[i], l + 1);
      return list(items, '[', ']', l);
    }
    if (v instanceof Set) return list([...v].map(x => write(x, l + 1)), '[', ']', l);
    if (isExceptionValue(v)) return write(new Map([['__exception__', v.excType], ['message', v.message]]), l);
    if (isDict(v)) return list(dictEntries(v).map(([k, x]) => JSON.stringify(keyString(k)) + sep + write(x, l + 1)), '{', '}', l);
    return JSON.stringify(String(v));
  };
  return write(value, level);
}
