import assert from 'node:assert/strict';
import { test } from 'node:test';
import { JsonSyntaxError, parseJson, toJson } from '../../engine/values/json.ts';
import { exceptionValue } from '../../engine/values/exceptions.ts';
import { dictEntries, isDict, isExceptionValue, pyRepr, tuple } from '../../engine/values/python.ts';

/** The parser as it was before it read character codes: the reference the fast one must match, error for error. */
function referenceParse(text: string): unknown {
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


function outcome(parse: (t: string) => unknown, text: string): unknown {
  try {
    return { value: parse(text) };
  } catch (e) {
    if (e instanceof JsonSyntaxError) return { error: e.message, line: e.line, column: e.column };
    return { thrown: String(e) };
  }
}

/** A seeded generator of JSON-like text: valid documents, then cut, spliced and sprinkled with noise. */
function* cases(seed: number, count: number): Generator<string> {
  let s = seed;
  const rnd = () => ((s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const pick = <T>(xs: T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const atoms = ['0', '-0', '1', '-12', '3.25', '1e5', '1E-3', '2.5e+10', '12345678901234567890', '-98765432109876543210', '9007199254740993', '01', '1.', '.5', '-', '1e', '1e+', 'true', 'false', 'null', 'tru', 'nul', '""', '"abc"', '"a\\"b"', '"\\u00e9"', '"\\n"', '"tab\there"', '"é ü 中"', '"\\x"', '"1"', '"-0"', '"$tuple"', '"unterminated'];
  const ws = () => pick(['', '', ' ', '\n', '\t', '\r\n', '  \n  ']);
  const gen = (depth: number): string => {
    const r = rnd();
    if (depth > 3 || r < 0.4) return pick(atoms);
    if (r < 0.7) return '[' + ws() + Array.from({ length: Math.floor(rnd() * 4) }, () => ws() + gen(depth + 1) + ws()).join(',') + ']';
    return '{' + ws() + Array.from({ length: Math.floor(rnd() * 4) }, () => ws() + pick(['"a"', '"b"', '"1"', '"0"', '"10"', '"-1"', '"é"', '""', 'a', '"a" ']) + ws() + ':' + ws() + gen(depth + 1)).join(',') + ws() + '}';
  };
  for (let k = 0; k < count; k++) {
    let t = ws() + gen(0) + ws();
    const m = rnd();
    if (m < 0.15) t = t.slice(0, Math.floor(rnd() * t.length));
    else if (m < 0.3) { const at = Math.floor(rnd() * t.length); t = t.slice(0, at) + pick([',', ']', '}', ':', '"', '\\', 'x', ' ', '\u0001', '1']) + t.slice(at); }
    else if (m < 0.35) t += pick([' x', ',', ' 1', '}']);
    yield t;
  }
  yield '';
  yield '1'.repeat(450);
  yield '0.' + '1'.repeat(450);
  yield '[' + '9'.repeat(399) + ']';
  yield '"' + 'x'.repeat(10) + '\\';
}

test('the fast JSON parser gives what the reference parser gives, values and errors alike (seeded)', () => {
  let differing = 0;
  for (const text of cases(20261201, 5000)) {
    const want = outcome(referenceParse, text);
    const got = outcome(parseJson, text);
    assert.deepEqual(got, want, `for ${JSON.stringify(text)}`);
    if ('error' in (want as object)) differing++;
  }
  assert.ok(differing > 500, `only ${differing} error cases were exercised`);
});

test('order of keys, big integers and duplicate keys as before', () => {
  const v = parseJson('{"2": "a", "1": "b", "x": 12345678901234567890, "x": 1}') as Map<string, unknown>;
  assert.deepEqual([...v.entries()], [['2', 'a'], ['1', 'b'], ['x', 1]]);
  assert.equal((parseJson('[12345678901234567890]') as unknown[])[0], 12345678901234567890n);
});

function keyString(key: unknown): string {
  if (typeof key === 'string') return key;
  if (key === null) return 'null';
  if (typeof key === 'boolean') return key ? 'true' : 'false';
  return pyRepr(key);
}

/** toJson as it was before it made each padding once: the reference for the faster one. */
/** Serialise a Monty value as JSON text (indent 0 = compact), as if nested `level` deep. */
function referenceToJson(value: unknown, indent = 0, level = 0): string {
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

test('toJson writes what it wrote before, at every indent and level (seeded values of every kind)', () => {
  let s = 7;
  const rnd = () => ((s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const gen = (d: number): unknown => {
    const r = rnd();
    if (d > 3 || r < 0.35) return [0, -1.5, 1e300, NaN, Infinity, 2n ** 70n, true, false, null, undefined, '', 'q"\\é\n', Buffer.from('ab'), exceptionValue('KeyError', 'k')][Math.floor(rnd() * 14)];
    const n = Math.floor(rnd() * 4);
    const kids = Array.from({ length: n }, () => gen(d + 1));
    if (r < 0.55) return kids;
    if (r < 0.65) return tuple(kids);
    if (r < 0.72) return new Set(kids.filter(k => typeof k !== 'object'));
    if (r < 0.86) return new Map(kids.map((k, i) => [[i, 'k' + i, tuple([i]), null, true][i % 5], k]));
    return Object.fromEntries(kids.map((k, i) => ['f' + i, k]));
  };
  for (let k = 0; k < 400; k++) {
    const v = gen(0);
    for (const indent of [0, 2, 4]) for (const level of [0, 1, 3]) assert.equal(toJson(v, indent, level), referenceToJson(v, indent, level));
  }
});
