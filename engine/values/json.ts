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

export function parseJson(text: string): unknown {
  let i = 0;
  const fail = (what: string): never => {
    const before = text.slice(0, i);
    const line = before.split('\n').length;
    const column = i - before.lastIndexOf('\n');
    throw new JsonSyntaxError(`${what} at line ${line} column ${column}`, line, column);
  };
  const ws = () => { while (i < text.length && ' \t\r\n'.includes(text[i]!)) i++; };
  const value = (): unknown => {
    ws();
    const c = text[i];
    if (c === '{') {
      i++;
      const map = new Map<string, unknown>();
      ws();
      if (text[i] === '}') { i++; return map; }
      for (;;) {
        ws();
        if (text[i] !== '"') fail('expected a string key');
        const key = str();
        ws();
        if (text[i] !== ':') fail("expected ':'");
        i++;
        map.set(key, value());
        ws();
        if (text[i] === ',') { i++; continue; }
        if (text[i] === '}') { i++; return map; }
        fail("expected ',' or '}'");
      }
    }
    if (c === '[') {
      i++;
      const arr: unknown[] = [];
      ws();
      if (text[i] === ']') { i++; return arr; }
      for (;;) {
        arr.push(value());
        ws();
        if (text[i] === ',') { i++; continue; }
        if (text[i] === ']') { i++; return arr; }
        fail("expected ',' or ']'");
      }
    }
    if (c === '"') return str();
    if (text.startsWith('true', i)) { i += 4; return true; }
    if (text.startsWith('false', i)) { i += 5; return false; }
    if (text.startsWith('null', i)) { i += 4; return null; }
    const m = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(i, i + 400));
    if (!m || m[0] === '' || m[0] === '-') return fail(c === undefined ? 'unexpected end of JSON' : `unexpected character ${JSON.stringify(c)}`);
    i += m[0].length;
    if (!m[2] && !m[3]) {
      const n = Number(m[0]);
      return Number.isSafeInteger(n) ? n : BigInt(m[0]);
    }
    return Number(m[0]);
  };
  const str = (): string => {
    const start = i;
    i++;
    while (i < text.length && text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
    if (i >= text.length) fail('unterminated string');
    i++;
    try {
      return JSON.parse(text.slice(start, i)) as string;
    } catch {
      i = start;
      return fail('invalid string');
    }
  };
  const result = value();
  ws();
  if (i < text.length) fail(`unexpected ${JSON.stringify(text[i])} after the JSON value`);
  return result;
}

function keyString(key: unknown): string {
  if (typeof key === 'string') return key;
  if (key === null) return 'null';
  if (typeof key === 'boolean') return key ? 'true' : 'false';
  return pyRepr(key);
}

/** Serialise a Monty value as JSON text (indent 0 = compact), as if nested `level` deep. */
export function toJson(value: unknown, indent = 0, level = 0): string {
  const nl = indent ? '\n' : '';
  const write = (v: unknown, level: number): string => {
    const pad = indent ? ' '.repeat(indent * (level + 1)) : '';
    const end = indent ? ' '.repeat(indent * level) : '';
    const sep = indent ? ': ' : ':';
    const list = (items: string[], open: string, close: string) =>
      items.length === 0 ? open + close : `${open}${nl}${items.map(s => pad + s).join(',' + nl)}${nl}${end}${close}`;
    if (v === null || v === undefined) return 'null';
    switch (typeof v) {
      case 'boolean': return v ? 'true' : 'false';
      case 'bigint': return v.toString();
      case 'number': return Number.isFinite(v) ? JSON.stringify(v) : JSON.stringify(pyRepr(v));
      case 'string': return JSON.stringify(v);
      default: break;
    }
    if (Buffer.isBuffer(v)) return write(new Map([['__bytes__', v.toString('base64')]]), level);
    if (Array.isArray(v)) return list(v.map(x => write(x, level + 1)), '[', ']');
    if (v instanceof Set) return list([...v].map(x => write(x, level + 1)), '[', ']');
    if (isExceptionValue(v)) return write(new Map([['__exception__', v.excType], ['message', v.message]]), level);
    if (isDict(v)) return list(dictEntries(v).map(([k, x]) => JSON.stringify(keyString(k)) + sep + write(x, level + 1)), '{', '}');
    return JSON.stringify(String(v));
  };
  return write(value, level);
}
