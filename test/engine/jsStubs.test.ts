import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { SandboxRun, UsageError, type CallOutcome, type ExternalCall, type Resolver } from '../../engine/index.ts';
import { JsStubResolver } from '../../engine/resolvers/jsStub.ts';
import { pyRepr, tuple } from '../../engine/values/python.ts';
import { flow, program, writeTree } from '../helpers.ts';

const FIXTURES = fileURLToPath(new URL('../fixtures/jsStubs/', import.meta.url));
const fixture = (name: string) => join(FIXTURES, name);

function call(fn: string, args: unknown[] = [], kwargs: Record<string, unknown> = {}): ExternalCall {
  return { seq: 1, function: fn, args, kwargs, entry: undefined as never, mapParent: undefined, mapIndex: undefined, mapSize: undefined, signal: new AbortController().signal };
}

/** The outcome of a call the stubs must answer, synchronously. */
function answer(stubs: JsStubResolver, fn: string, args: unknown[] = [], kwargs: Record<string, unknown> = {}): CallOutcome {
  const outcome = stubs.resolve(call(fn, args, kwargs));
  assert.ok(outcome, `${fn} is answered`);
  assert.equal(typeof (outcome as { then?: unknown }).then, 'undefined', 'answered synchronously');
  return outcome;
}

/** Python's repr of what a stub returned. */
function returned(stubs: JsStubResolver, fn: string, args: unknown[] = [], kwargs: Record<string, unknown> = {}): string {
  const outcome = answer(stubs, fn, args, kwargs);
  if (outcome.kind !== 'return') assert.fail(`${fn} raised ${outcome.type}: ${outcome.message}`);
  assert.equal(outcome.source, 'stub');
  return pyRepr(outcome.value);
}

function raised(stubs: JsStubResolver, fn: string, args: unknown[] = []): Extract<CallOutcome, { kind: 'raise' }> {
  const outcome = answer(stubs, fn, args);
  if (outcome.kind !== 'raise') assert.fail(`${fn} returned ${pyRepr(outcome.value)}`);
  return outcome;
}

let values: JsStubResolver;
const printed: string[] = [];
before(async () => {
  values = await JsStubResolver.load(fixture('values.js'), { output: text => printed.push(text) });
});
after(() => values.dispose());

test('each exported function answers the calls to its name; kwargs are this.kwargs, positions never shift', () => {
  assert.deepEqual(values.names().filter(n => ['fib', 'add', 'echo', 'NOT_A_FUNCTION'].includes(n)).sort(), ['add', 'echo', 'fib']);
  assert.equal(returned(values, 'fib', [20]), '6765');
  assert.equal(returned(values, 'add', [1, 2], { scale: 10 }), '30');
  assert.equal(returned(values, 'add', [1, 2]), '3');
  assert.equal(returned(values, 'kwargs_seen', [1], { a: 2 }), "{'args': [1], 'kwargs': {'a': 2}}");
  assert.equal(returned(values, 'kwargs_seen', [1, 2]), "{'args': [1, 2], 'kwargs': {}}");
  assert.equal(values.resolve(call('not_exported')), undefined, 'passed on to the next resolver');
  assert.equal(values.resolve(call('NOT_A_FUNCTION')), undefined, 'only functions answer');
});

test('values round-trip through the wire encoding', () => {
  const file = new Map<string, unknown>([['__flyte_io_type__', 'File'], ['path', 's3://b/a.csv']]);
  const nested = new Map<unknown, unknown>([['a', [1, null, true, false, 1.5, -0.25, 'x']], ['d', new Map([['k', [new Map([['deep', 'yes']])]]])], ['file', file], ['none', null]]);
  assert.equal(returned(values, 'echo', [nested]), pyRepr(nested));
  for (const value of [tuple([1, 'x', tuple([2])]), tuple([]), Buffer.from([0, 104, 255]), 2n ** 80n, -(2n ** 64n), new Set([1, 'a']), NaN, Infinity, -Infinity, new Map<unknown, unknown>([[1, 'one'], [tuple([1, 2]), 'pair'], ['$x', 3]])]) {
    assert.equal(returned(values, 'echo', [value]), pyRepr(value));
  }
  assert.equal(returned(values, 'echo', [{ __monty_type__: 'Exception', excType: 'ValueError', message: 'm' }]), "ValueError('m')");
  assert.equal(returned(values, 'echo', [new Map([['2', 'b'], ['1', 'a']])]), "{'1': 'a', '2': 'b'}", 'string keys make a JS object, which puts integer-like keys first');
});

test('what a stub sees: tuples are arrays, bytes Uint8Array, big ints BigInt, sets Set, other dicts Map', () => {
  const seen = returned(values, 'kinds', [tuple([1, 2]), [3], Buffer.from('hi'), 2n ** 80n, 7, new Set([1]), new Map([[1, 2]]), new Map([['k', 2]]), NaN, null, { __monty_type__: 'Exception', excType: 'KeyError', message: 'm' }]);
  assert.equal(seen, "['Array(2)', 'Array(1)', 'Uint8Array(104,105)', 'bigint(1208925819614629174706176)', 'number(7)', 'Set(1)', 'Map(number)', 'object(k)', 'number(NaN)', 'null', 'KeyError(m)']");
});

test('stubs return tuples (tuple([...])), bytes, big ints, sets, non-finite floats, other dicts, File dicts and exception values', () => {
  assert.equal(returned(values, 'make_tuple'), "(1, 'a', [2])");
  assert.equal(returned(values, 'make_bytes'), "b'hi\\x00\\xff'");
  assert.equal(returned(values, 'make_big'), '1180591620717411303424');
  assert.equal(returned(values, 'make_set'), '{1, 2}');
  assert.equal(returned(values, 'make_floats'), '[nan, inf, -inf, 0.5]');
  assert.equal(returned(values, 'make_dict'), "{1: 'one', '$ref': 'x'}");
  assert.equal(returned(values, 'make_error_value'), "KeyError('missing')");
  assert.equal(returned(values, 'load', ['s3://b/a.csv'], { format: 'csv' }), "{'__flyte_io_type__': 'File', 'path': 's3://b/a.csv', 'format': 'csv'}");
});

test('a thrown Python exception class keeps its type; any other throw is Exception (JS TypeError is TypeError)', () => {
  const boom = raised(values, 'boom', ['x']);
  assert.deepEqual(pick(boom), { type: 'ValueError', message: 'bad input: x' });
  assert.match(boom.traceback!, /^JS stub traceback \(most recent call first\):\n {2}at boom \(.*values\.js:\d+:\d+\)$/);
  const plain = raised(values, 'plain');
  assert.deepEqual(pick(plain), { type: 'Exception', message: 'plain failure' });
  assert.match(plain.traceback!, /at plain \(.*values\.js:\d+:\d+\)/);
  assert.doesNotMatch(plain.traceback!, /prelude|apply/);
  assert.deepEqual(pick(raised(values, 'range_error')), { type: 'Exception', message: 'RangeError: out of range' });
  assert.deepEqual(pick(raised(values, 'bug')), { type: 'TypeError', message: "cannot read property 'field' of undefined" });
  assert.deepEqual(pick(raised(values, 'throws_string')), { type: 'Exception', message: 'just a string' });
  assert.equal(returned(values, 'lookup'), "[True, True, 'KeyError']", 'the classes follow Python\'s hierarchy');
  assert.deepEqual(pick(raised(values, 'later')), { type: 'TypeError', message: 'later() returned a Promise: JS stubs run synchronously (no async function, no await)' });
  assert.deepEqual(pick(raised(values, 'a_function')), { type: 'TypeError', message: 'a JS stub cannot return a function to Python' });
});

test('console.log and print write to the output option only', () => {
  printed.length = 0;
  assert.equal(returned(values, 'loud', [3]), '3');
  assert.deepEqual(printed, ['loud got 3 {"y":1}', 'and printed']);
});

function pick(o: { type: string; message: string }): { type: string; message: string } {
  return { type: o.type, message: o.message };
}

test('an endless loop is stopped at the time limit (even inside try/catch) and the next call still works', async () => {
  const stubs = await JsStubResolver.load(fixture('limits.js'), { timeLimitMs: 150 });
  try {
    for (const fn of ['spin', 'stubborn']) {
      const started = performance.now();
      const outcome = raised(stubs, fn);
      const elapsed = performance.now() - started;
      assert.deepEqual(pick(outcome), { type: 'TimeoutError', message: `JS stub ${fn}() ran longer than 150 ms and was stopped` });
      assert.ok(elapsed >= 145 && elapsed < 1000, `stopped after ${elapsed} ms`);
      assert.equal(returned(stubs, 'ok'), "'still fine'");
    }
  } finally {
    stubs.dispose();
  }
});

test('a memory bomb is stopped at the memory limit (the wasm memory, not the host, runs out) and the next call still works', async () => {
  const stubs = await JsStubResolver.load(fixture('limits.js'), { memoryLimitBytes: 16 * 1024 * 1024 });
  try {
    const rssBefore = process.memoryUsage().rss;
    assert.deepEqual(pick(raised(stubs, 'bomb')), { type: 'MemoryError', message: 'JS stub bomb() ran out of memory (limit 16 MB) and was stopped' });
    assert.ok(process.memoryUsage().rss - rssBefore < 200 * 1024 * 1024, 'the host did not grow by the bomb');
    assert.equal(returned(stubs, 'ok'), "'still fine'");
  } finally {
    stubs.dispose();
  }
});

test('runaway recursion is a RecursionError with a folded traceback', async () => {
  const stubs = await JsStubResolver.load(fixture('limits.js'));
  try {
    const outcome = raised(stubs, 'deep', [0]);
    assert.deepEqual(pick(outcome), { type: 'RecursionError', message: 'JS stub deep() overflowed the JS stack (256 KB): recursion too deep' });
    assert.match(outcome.traceback!, /^JS stub traceback \(most recent call first\):\n {2}at deep \(.*limits\.js:\d+:\d+\)\n {2}\[previous line repeated \d+ more times\]$/);
    assert.equal(returned(stubs, 'ok'), "'still fine'");
  } finally {
    stubs.dispose();
  }
});

test('when Node\'s own stack overflows under the interpreter, only that resolver stops answering', async () => {
  // A QuickJS stack limit far above what Node's stack holds: the recursion overflows Node's stack first.
  const stubs = await JsStubResolver.load(fixture('limits.js'), { stackLimitBytes: 4 * 1024 * 1024 });
  const first = raised(stubs, 'deep', [0]);
  assert.equal(first.type, 'RecursionError');
  assert.match(first.message, /^JS stub deep\(\) failed in the host \(Maximum call stack size exceeded\): the JS stubs answer no more calls$/);
  assert.equal(raised(stubs, 'ok').type, 'RuntimeError');
  stubs.dispose();
  const fresh = await JsStubResolver.load(fixture('limits.js'));
  assert.equal(returned(fresh, 'ok'), "'still fine'");
  fresh.dispose();
});

test('a stub reaches nothing of the host: no require, process, timers, fetch, imports', async () => {
  const stubs = await JsStubResolver.load(fixture('escape.js'));
  try {
    assert.equal(returned(stubs, 'probe'), "{'require': 'undefined', 'process': 'undefined', 'setTimeout': 'undefined', 'setInterval': 'undefined', 'fetch': 'undefined', 'globalProcess': 'undefined', 'Buffer': 'undefined', 'XMLHttpRequest': 'undefined'}");
    assert.equal(raised(stubs, 'dynamic_import').type, 'TypeError', 'import() is a Promise that a synchronous stub cannot wait for');
  } finally {
    stubs.dispose();
  }
  for (const name of ['import-static.js', 'import-dynamic.js']) {
    await assert.rejects(JsStubResolver.load(fixture(name)), (e: Error) => {
      assert.ok(e instanceof UsageError);
      assert.equal(e.message, `${fixture(name)}: JS stubs cannot import modules (import 'fs'): a stubs file is one self-contained module without host access`);
      return true;
    });
  }
});

test('loading fails with a UsageError naming the file (and the line of a syntax error or a top-level throw)', async () => {
  const dir = writeTree({
    'syntax.js': 'export function ok() {\n  return 1;\n}\n\nexport const bad = 1 +;\n',
    'throws.js': 'export function ok() { return 1; }\n\nthrow new ValueError("not configured");\n',
    'spins.js': 'for (;;) {}\nexport function ok() { return 1; }\n',
    'waits.js': 'await new Promise(() => {});\nexport function ok() { return 1; }\n',
  });
  const failure = async (path: string, options = {}) => {
    try {
      await JsStubResolver.load(path, options);
    } catch (e) {
      assert.ok(e instanceof UsageError, String(e));
      return e.message;
    }
    assert.fail(`${path} loaded`);
  };
  const syntax = join(dir, 'syntax.js');
  assert.equal(await failure(syntax), `${syntax}:5:23: syntax error: unexpected token in expression: ';'`);
  const throws = join(dir, 'throws.js');
  assert.match(await failure(throws), new RegExp(`^${escape(throws)}:3:\\d+: loading the JS stubs failed: ValueError: not configured$`));
  const spins = join(dir, 'spins.js');
  assert.equal(await failure(spins, { timeLimitMs: 100 }), `${spins}: loading the JS stubs ran longer than 100 ms and was stopped`);
  assert.match(await failure(join(dir, 'waits.js')), /waits\.js: loading the JS stubs failed: Error: the module never finished loading: its top-level await waits for something that cannot happen here/);
  assert.equal(await failure(fixture('no-functions.js')), `${fixture('no-functions.js')}: exports no function: each exported function answers the calls to the external of its name (export function fib(n) { ... })`);
  assert.match(await failure(join(dir, 'missing.js')), /missing\.js: cannot read the JS stubs file: ENOENT/);
  assert.equal(await failure(fixture('values.js'), { stackLimitBytes: 64 * 1024 * 1024 }), "JS stubs: 'stackLimitBytes' can be at most 4 MB, got 67108864");
  assert.equal(await failure(fixture('values.js'), { timeLimitMs: 0 }), "JS stubs: 'timeLimitMs' must be a positive number, got 0");
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

const PIPELINE = flow(`
  @env.task
  def fetch_rows(source: str) -> list: ...
  @env.task
  def score(row: dict) -> int: ...
  @env.task
  def sq(x: int) -> int: ...
  @env.task
  def save(rows: list) -> flyte.io.File: ...
  @env.task
  def validate(x: int) -> int: ...

  @env.sandbox.orchestrator
  def pipeline(source: str, check: int) -> dict:
      if check == 999:
          sq(0)  # flyte_map finds only the tasks the code names
      rows = fetch_rows(source)
      scores = [score(r, weight=10) for r in rows]
      squares = flyte_map("sq", scores)
      validate(check)
      return {"names": [r["name"] for r in rows], "squares": squares, "file": save(rows)}
`);

/** Passes calls to the JS stubs and records whether each answer came back synchronously. */
function watching(inner: Resolver): Resolver & { answers: { fn: string; sync: boolean }[] } {
  const answers: { fn: string; sync: boolean }[] = [];
  return {
    source: inner.source,
    answers,
    resolve(c) {
      const r = inner.resolve(c);
      answers.push({ fn: c.function, sync: typeof (r as { then?: unknown } | undefined)?.then !== 'function' });
      return r;
    },
  };
}

test('end to end: a sandboxed task whose externals and flyte_map items are answered by a JS stubs file', async () => {
  const task = (await program(PIPELINE)).findTask('pipeline');
  const stubs = await JsStubResolver.load(fixture('pipeline.js'));
  try {
    const resolver = watching(stubs);
    const r = await new SandboxRun(task, { inputs: { source: 'db', check: 1 }, resolvers: [resolver] }).execute();
    assert.equal(r.status, 'ok', JSON.stringify(r.error));
    assert.equal(pyRepr(r.output), "{'names': ['db-a', 'db-b'], 'squares': [100, 400], 'file': {'__flyte_io_type__': 'File', 'path': '/tmp/2.json', 'name': '2.json', 'format': '', 'hash': None}}");
    assert.deepEqual(r.calls.map(c => [c.function, c.mapParent === undefined ? '' : `item ${c.mapIndex}`, c.source]), [
      ['fetch_rows', '', 'stub'],
      ['score', '', 'stub'],
      ['score', '', 'stub'],
      ['flyte_map', '', 'flyte_map'],
      ['sq', 'item 0', 'stub'],
      ['sq', 'item 1', 'stub'],
      ['validate', '', 'stub'],
      ['save', '', 'stub'],
    ]);
    assert.deepEqual(r.calls.filter(c => c.function === 'score').map(c => c.kwargs), [{ weight: 10 }, { weight: 10 }]);
    assert.ok(resolver.answers.every(a => a.sync), JSON.stringify(resolver.answers));
    assert.deepEqual(resolver.answers.filter(a => a.fn === 'sq').length, 2, 'the flyte_map items went to the JS stubs');

    const failed = await new SandboxRun(task, { inputs: { source: 'db', check: -1 }, resolvers: [stubs] }).execute();
    assert.equal(failed.status, 'error');
    assert.deepEqual({ type: failed.error!.type, message: failed.error!.message, origin: failed.error!.origin }, { type: 'ValueError', message: 'negative: -1', origin: 'external' });
    assert.equal(failed.error!.frames.at(-1)!.sourceLine, 'validate(check)');
    assert.equal(failed.calls.at(-1)!.status, 'raised');
  } finally {
    stubs.dispose();
  }
});
