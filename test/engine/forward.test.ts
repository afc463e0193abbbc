import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { after, test } from 'node:test';
import { Monty } from '@pydantic/monty';
import { loadProgram, SandboxRun, type CallOutcome, type ExternalCall } from '../../engine/index.ts';
import { ForwardResolver, type ForwardOptions } from '../../engine/resolvers/forward.ts';
import { pyRepr, tuple } from '../../engine/values/python.ts';

const FIXTURES = fileURLToPath(new URL('../fixtures/forward/', import.meta.url));
const MODULE = FIXTURES + 'forwarded.py';

const resolvers: ForwardResolver[] = [];
after(() => resolvers.forEach(r => r.dispose()));

function forwarder(options: Partial<ForwardOptions> = {}): ForwardResolver {
  const r = new ForwardResolver({ module: MODULE, names: 'all', ...options });
  resolvers.push(r);
  return r;
}

/** 1-based line of the first line of a fixture containing `text`. */
function lineOf(file: string, text: string): number {
  return readFileSync(file, 'utf8').split('\n').findIndex(l => l.includes(text)) + 1;
}

function call(fn: string, args: unknown[] = [], kwargs: Record<string, unknown> = {}): ExternalCall {
  return {
    seq: 1, function: fn, args, kwargs, mapParent: undefined, mapIndex: undefined, mapSize: undefined, signal: new AbortController().signal,
    entry: { name: fn, category: 'task', taskTemplate: true, what: 'Flyte task (@env.task)', reason: 'test' },
  };
}

function returned(o: CallOutcome): unknown {
  assert.equal(o.kind, 'return', o.kind === 'raise' ? `${o.type}: ${o.message}\n${o.traceback ?? ''}` : '');
  assert.equal(o.source, 'forward');
  return (o as Extract<CallOutcome, { kind: 'return' }>).value;
}

function raised(o: CallOutcome): Extract<CallOutcome, { kind: 'raise' }> {
  assert.equal(o.kind, 'raise', `expected a raise, got ${pyRepr((o as { value?: unknown }).value)}`);
  assert.equal(o.source, 'forward');
  return o as Extract<CallOutcome, { kind: 'raise' }>;
}

/** The value as the sandbox would hold it: Monty takes it and hands back the same thing. */
function throughMonty(value: unknown): unknown {
  return new Monty('x', { inputs: ['x'] }).run({ inputs: { x: value } });
}

test('a sync function, an async function, and an object whose .aio returns a coroutine returning a coroutine', async () => {
  const f = forwarder();
  assert.equal(returned(await f.forward(call('add', [2, 3]))), 5);
  assert.equal(returned(await f.forward(call('square_later', [7]))), 49);
  assert.equal(pyRepr(returned(await f.forward(call('nested', [4])))), "('awaited twice', 4)");
});

test('kwargs reach the function as keyword arguments', async () => {
  const f = forwarder();
  const value = returned(await f.forward(call('greet', ['ada'], { greeting: 'hi', b: 2, a: 1 })));
  assert.equal(pyRepr(value), "('hi ada', [('a', 1), ('b', 2)])");
});

test('values JSON cannot carry arrive in Python exactly, come back exactly, and Monty takes them', async () => {
  const f = forwarder();
  const value = new Map<unknown, unknown>([
    ['tuple', tuple([1, 'a'])],
    ['bytes', Buffer.from([0, 255, 10])],
    ['big', 2n ** 70n],
    ['set', new Set([1, 2])],
    [1, 'int key'],
    [tuple([1, 2]), 'tuple key'],
    ['10', 'integer-like key'],
    ['$dollar', 'marker-like key'],
    ['nested', [new Map([['inner', tuple([null, true, 1.5, -(2n ** 64n)])]]), NaN, -Infinity]],
  ]);
  const expected = "{'tuple': (1, 'a'), 'bytes': b'\\x00\\xff\\n', 'big': 1180591620717411303424, 'set': {1, 2}, 1: 'int key', (1, 2): 'tuple key', '10': 'integer-like key', '$dollar': 'marker-like key', 'nested': [{'inner': (None, True, 1.5, -18446744073709551616)}, nan, -inf]}";
  assert.equal(pyRepr(value), expected);
  assert.equal(returned(await f.forward(call('python_repr', [value]))), expected, "Python's own repr of what it received");
  const back = returned(await f.forward(call('echo', [value])));
  assert.equal(pyRepr(back), expected);
  assert.equal(pyRepr(throughMonty(back)), expected);
});

test('values made in Python come back exactly and Monty takes them', async () => {
  const f = forwarder();
  const value = returned(await f.forward(call('made_in_python')));
  const expected = "{'tuple': (1, 'a'), 'bytes': b'\\x00\\xff', 'big': 1180591620717411303424, 'negative big': -1180591620717411303424, 'set': {1, 2}, 1: 'int key', (1, 2): 'tuple key', 'nested': [{'$not a marker': 1, '10': None}, (None, True, 1.5, inf)]}";
  assert.equal(pyRepr(value), expected);
  assert.equal(pyRepr(throughMonty(value)), expected);
});

test("the function's exception comes back with its type, message and a traceback pointing at its line", async () => {
  const f = forwarder();
  const r = raised(await f.forward(call('explode', [4])));
  assert.equal(r.type, 'ValueError');
  assert.equal(r.message, 'cannot explode 4');
  const line = lineOf(MODULE, 'raise ValueError(f"cannot explode');
  assert.ok(r.traceback!.includes(`forwarded.py", line ${line}, in explode\n    raise ValueError(f"cannot explode {n}")`), r.traceback);
  assert.doesNotMatch(r.traceback!, /forward_worker\.py/, "the worker's own frames are left out");
});

test('an unknown name is an AttributeError, a non-callable a TypeError, like Python says them', async () => {
  const f = forwarder();
  const missing = raised(await f.forward(call('nope')));
  assert.equal(missing.type, 'AttributeError');
  assert.equal(missing.message, "module 'forwarded' has no attribute 'nope'");
  const constant = raised(await f.forward(call('CONSTANT')));
  assert.equal(constant.type, 'TypeError');
  assert.match(constant.message, /'CONSTANT' is a 'int' object, which is not callable/);
});

test('a module that fails to import: its exception, with a traceback saying so', async () => {
  const f = forwarder({ module: FIXTURES + 'broken.py' });
  const r = raised(await f.forward(call('anything')));
  assert.equal(r.type, 'ModuleNotFoundError');
  assert.equal(r.message, "No module named 'module_that_is_not_installed'");
  assert.match(r.traceback!, /^while importing .*broken\.py:\nTraceback/);
  assert.match(r.traceback!, /broken\.py", line 2, in <module>/);
});

test('a result the sandbox cannot hold is a TypeError naming its type', async () => {
  const f = forwarder();
  const r = raised(await f.forward(call('a_date')));
  assert.equal(r.type, 'TypeError');
  assert.match(r.message, /the result holds a datetime\.date, which cannot enter the sandbox/);
});

test('what the function prints goes to onOutput, not into the protocol', async () => {
  const printed: [string, string][] = [];
  const f = forwarder({ onOutput: (text, stream) => printed.push([stream, text]) });
  assert.equal(returned(await f.forward(call('chatty', [5]))), 6);
  assert.deepEqual(printed, [['stdout', 'computing 5\n'], ['stderr', 'careful\n']]);
});

test('resolve passes calls not in names on; forward() forwards them anyway', async () => {
  const f = forwarder({ names: ['add'] });
  assert.equal(f.resolve(call('echo', [1])), undefined);
  assert.equal(returned(await f.resolve(call('add', [1, 2]))!), 3);
  assert.equal(returned(await f.forward(call('echo', [1]))), 1);
});

test('a crash is a clear ForwardError, and the next call gets a fresh worker', async () => {
  const f = forwarder();
  const r = raised(await f.forward(call('crash')));
  assert.equal(r.type, 'ForwardError');
  assert.match(r.message, /the Python worker exited with code 3 while running crash\(\)/);
  assert.equal(returned(await f.forward(call('add', [1, 1]))), 2);
});

test('a call past the timeout is a clear ForwardError, and the next call works', async () => {
  // long enough for a fresh worker to start on a loaded machine (the second call; a pyenv shim alone
  // has taken over 2 s here), short beside the 60 s nap
  const f = forwarder({ timeoutMs: 8000 });
  const started = performance.now();
  const r = raised(await f.forward(call('nap', [60])));
  assert.ok(performance.now() - started < 30_000, 'the caller is not kept waiting');
  assert.equal(r.type, 'ForwardError');
  assert.match(r.message, /nap\(\) did not return within 8 s, so the Python worker was stopped/);
  assert.equal(returned(await f.forward(call('add', [2, 2]))), 4);
});

test('a call the run no longer wants stops the worker (it may be stuck), and the next call works', async () => {
  const f = forwarder();
  const stop = new AbortController();
  const started = performance.now();
  const pending = f.forward({ ...call('nap', [30]), signal: stop.signal });
  setTimeout(() => stop.abort(), 200);
  const r = raised(await pending);
  assert.ok(performance.now() - started < 5000);
  assert.equal(r.type, 'ForwardError');
  assert.match(r.message, /the run no longer wants the result of nap\(\)/);
  assert.equal(returned(await f.forward(call('add', [5, 5]))), 10);
});

test('junk on the real stdout is a protocol error naming the junk, and the next call works', async () => {
  const f = forwarder();
  const r = raised(await f.forward(call('write_junk')));
  assert.equal(r.type, 'ForwardError');
  assert.match(r.message, /not a protocol message to its stdout: "junk"/);
  assert.equal(returned(await f.forward(call('add', [3, 3]))), 6);
});

test('a missing interpreter is a clear ForwardError naming it and the "python" setting', async () => {
  const f = forwarder({ python: '/nonexistent/python' });
  const r = raised(await f.forward(call('add', [1, 2])));
  assert.equal(r.type, 'ForwardError');
  assert.match(r.message, /the Python interpreter '\/nonexistent\/python' was not found.*"python" setting/);
});

test('concurrent calls to an async function overlap in the worker', async () => {
  const f = forwarder();
  await f.forward(call('add', [0, 0])); // the worker is up and the module imported
  const [a, b] = await Promise.all([f.forward(call('timed', [0.4])), f.forward(call('timed', [0.4]))]);
  const [startA, endA] = returned(a) as number[];
  const [startB, endB] = returned(b) as number[];
  assert.ok(startB! < endA! && startA! < endB!, `the two calls ran at the same time: [${startA}, ${endA}] and [${startB}, ${endB}]`);
});

test('without flyte, tagged IO dicts pass through unchanged and the notice comes once', async () => {
  const notices: string[] = [];
  const f = forwarder({ onNotice: text => notices.push(text) });
  const file = new Map<string, unknown>([['__flyte_io_type__', 'File'], ['path', 's3://bucket/a.csv'], ['name', 'a.csv'], ['format', ''], ['hash', null]]);
  const dir = new Map<string, unknown>([['__flyte_io_type__', 'Dir'], ['path', 's3://bucket/out']]);
  const value = [file, tuple([dir]), new Map([['frame', new Map([['__flyte_io_type__', 'DataFrame'], ['uri', 's3://df']])]])];
  const first = returned(await f.forward(call('echo', [value])));
  assert.equal(pyRepr(first), pyRepr(value));
  const second = returned(await f.forward(call('echo', [], { value: file })));
  assert.equal(pyRepr(second), pyRepr(file));
  assert.equal(notices.length, 1, notices.join('\n'));
  assert.match(notices[0]!, /flyte is not importable in this interpreter: File\/Dir\/DataFrame stay tagged dicts/);
});

test('end to end: a sandboxed task whose external tasks are forwarded to the real functions', async () => {
  const printed: string[] = [];
  const forward = new ForwardResolver({ module: FIXTURES + 'pipeline.py', names: 'all', onOutput: text => printed.push(text) });
  resolvers.push(forward);
  const task = (await loadProgram(FIXTURES + 'pipeline.py')).findTask('pipeline');

  const ok = await new SandboxRun(task, { inputs: { n: 4 }, resolvers: [forward] }).execute();
  assert.equal(ok.status, 'ok', JSON.stringify(ok.error));
  assert.equal(pyRepr(ok.output), '(8, 4, 12)');
  assert.deepEqual(ok.calls.map(c => [c.function, c.source, pyRepr(c.result)]), [
    ['double', 'forward', '8'],
    ['flyte_map', 'flyte_map', '[0, 2, 4, 6]'],
    ['double', 'forward', '0'],
    ['double', 'forward', '2'],
    ['double', 'forward', '4'],
    ['double', 'forward', '6'],
    ['summarize', 'forward', '(4, 12)'],
    ['check', 'forward', '12'],
  ]);
  assert.deepEqual(printed.join('').split('\n').filter(Boolean).sort(), ['doubling 0', 'doubling 1', 'doubling 2', 'doubling 3', 'doubling 4']);

  const failed = await new SandboxRun(task, { inputs: { n: 11 }, resolvers: [forward] }).execute();
  assert.equal(failed.status, 'error');
  const error = failed.error!;
  assert.equal(error.origin, 'external');
  assert.equal(error.type, 'ValueError');
  assert.equal(error.message, 'total too large: 110');
  const line = lineOf(FIXTURES + 'pipeline.py', 'raise ValueError(f"total too large');
  assert.ok(error.traceback!.includes(`pipeline.py", line ${line}, in check\n    raise ValueError(f"total too large: {total}")`), error.traceback);
  assert.equal(error.frames.at(-1)!.sourceLine, 'return first, count, check(total)');
});
