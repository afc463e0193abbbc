import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseStubs, SandboxRun, StubResolver, type CallOutcome, type ExternalCall, type Resolver } from '../../engine/index.ts';
import { flow, program, runTask } from '../helpers.ts';

const TASKS = flow(`
  @env.task
  def sq(x: int) -> int: ...

  @env.task
  def pair(a: int, b: str) -> str: ...

  def plain(x):
      return x

  @env.sandbox.orchestrator
  def t(xs: list, code: str) -> list:
      if code == "never":
          sq(0)
          pair(0, "")
      return CODE
`);

function withCode(code: string): string {
  return TASKS.replace('return CODE', `return ${code}`);
}

function tracker(delay: (call: ExternalCall) => number, answer: (call: ExternalCall) => CallOutcome = c => ({ kind: 'return', value: (c.args[0] as number) * (c.args[0] as number), source: 'interactive' })) {
  let inFlight = 0;
  const r: Resolver & { max: number; completed: number[] } = {
    source: 'interactive',
    max: 0,
    completed: [],
    resolve(call) {
      inFlight++;
      r.max = Math.max(r.max, inFlight);
      return new Promise(res => setTimeout(() => {
        inFlight--;
        r.completed.push(call.mapIndex ?? -1);
        res(answer(call));
      }, delay(call)));
    },
  };
  return r;
}

async function runWith(code: string, resolvers: Resolver[], xs: unknown = [1, 2, 3]) {
  const p = await program(withCode(code));
  return new SandboxRun(p.findTask('t'), { inputs: { xs, code: '' }, resolvers }).execute();
}

const SQ = { sq: { python: 'args[0] * args[0]' }, pair: { python: 'str(args[0]) + args[1]' } };

test('flyte_map validation uses Flyte\'s exact messages', async () => {
  const cases: [string, string, string][] = [
    ['flyte_map("sq")', 'RuntimeError', 'flyte_map requires at least 2 arguments: flyte_map(task_name, iterable, ...)'],
    ['flyte_map(task_name="sq", xs=xs)', 'RuntimeError', 'flyte_map requires at least 2 arguments: flyte_map(task_name, iterable, ...)'],
    ['flyte_map(3, xs)', 'RuntimeError', 'flyte_map first argument must be a task name string, got int'],
    ['flyte_map("nope", xs)', 'RuntimeError', "flyte_map: task 'nope' not found in registered tasks. Available: pair, sq"],
    ['flyte_map("plain", xs)', 'RuntimeError', "flyte_map: task 'plain' not found in registered tasks. Available: pair, sq"],
    ['flyte_map("sq", 5)', 'TypeError', "'int' object is not iterable"],
    ['flyte_map("sq", xs, concurrency=None)', 'TypeError', "'>' not supported between instances of 'NoneType' and 'int'"],
  ];
  for (const [code, type, message] of cases) {
    const r = await runTask(withCode(code), SQ, { inputs: { xs: [1, 2], code: '' } });
    assert.equal(r.status, 'error', code);
    assert.deepEqual([r.error!.type, r.error!.message, r.error!.origin], [type, message, 'flyte_map'], code);
    assert.equal(r.error!.frames.at(-1)!.sourceLine, `return ${code}`);
  }
});

test('zip semantics: shortest iterable wins, strings and dicts iterate like Python, unknown kwargs are dropped', async () => {
  let r = await runTask(withCode('flyte_map("pair", xs, "abcd", group_name="g", colour="red")'), SQ, { inputs: { xs: [1, 2, 3], code: '' } });
  assert.deepEqual(r.output, ['1a', '2b', '3c']);
  const items = r.calls.filter(c => c.mapParent === 1);
  assert.deepEqual(items.map(c => [c.function, c.args, c.mapIndex]), [['pair', [1, 'a'], 0], ['pair', [2, 'b'], 1], ['pair', [3, 'c'], 2]]);
  r = await runTask(withCode('flyte_map("sq", {4: "a", 5: "b"})'), SQ, { inputs: { xs: [], code: '' } });
  assert.deepEqual(r.output, [16, 25]);
  r = await runTask(withCode('flyte_map("sq", [])'), SQ, { inputs: { xs: [], code: '' } });
  assert.deepEqual(r.output, []);
});

test('Flyte tasks: concurrency bounds items in flight, 0 means unlimited; results come back in input order', async () => {
  const bounded = tracker(c => 40 - (c.mapIndex ?? 0) * 3);
  let r = await runWith('flyte_map("sq", xs, concurrency=3)', [bounded], [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  assert.equal(r.status, 'ok', JSON.stringify(r.error));
  assert.deepEqual(r.output, [1, 4, 9, 16, 25, 36, 49, 64, 81, 100]);
  assert.equal(bounded.max, 3);
  assert.notDeepEqual(bounded.completed, [...bounded.completed].sort((a, b) => a - b), 'items completed out of order');
  const unlimited = tracker(() => 10);
  r = await runWith('flyte_map("sq", xs)', [unlimited], [1, 2, 3, 4, 5, 6, 7, 8]);
  assert.equal(unlimited.max, 8);
  assert.deepEqual(r.output, [1, 4, 9, 16, 25, 36, 49, 64]);
});

test('Flyte tasks: return_exceptions defaults to True and failed items are real exception values in the sandbox', async () => {
  const r = await runTask(withCode('[(type(v).__name__, isinstance(v, Exception), str(v)) for v in flyte_map("sq", xs)]'),
    { sq: { python: 'args[0] if args[0] != 2 else int("two")' } }, { inputs: { xs: [1, 2, 3], code: '' } });
  assert.equal(r.status, 'ok', JSON.stringify(r.error));
  assert.deepEqual((r.output as unknown[][]).map(t => [...t]), [['int', false, '1'], ['ValueError', true, "invalid literal for int() with base 10: 'two'"], ['int', false, '3']]);
});

test('Flyte tasks: return_exceptions=False ends the run with the lowest-index failure, once the items before it are done', async () => {
  const r = await runWith('flyte_map("sq", xs, return_exceptions=False)', [tracker(c => (c.mapIndex === 0 ? 60 : 5), c => (c.mapIndex! >= 2 ? { kind: 'raise', type: 'ValueError', message: `item ${c.mapIndex}`, source: 'interactive' } : { kind: 'return', value: 0, source: 'interactive' }))], [1, 2, 3, 4, 5]);
  assert.equal(r.error!.type, 'ValueError');
  assert.equal(r.error!.message, 'item 2');
  assert.equal(r.error!.origin, 'external');
  assert.match(r.error!.hint!, /flyte_map item 2/);
  assert.equal(r.calls.find(c => c.mapIndex === 0)!.status, 'returned', 'item 0 finished before the failure was raised');
});

test('plain callables (tasks=[...]): sequential by default, return_exceptions defaults to False', async () => {
  const src = flow(`
    def plain(x):
        return x

    mapped = flyte.sandbox.orchestrator_from_str(
        """
        flyte_map("plain", xs, **opts)
        """,
        inputs={"xs": list, "opts": dict},
        tasks=[plain],
    )
  `);
  const p = await program(src);
  const task = p.findTask('mapped');
  const run = async (opts: Record<string, unknown>, resolver: Resolver) => new SandboxRun(task, { inputs: { xs: [1, 2, 3, 4], opts }, resolvers: [resolver] }).execute();
  const seq = tracker(() => 5);
  let r = await run({}, seq);
  assert.equal(seq.max, 1);
  assert.deepEqual(r.output, [1, 4, 9, 16]);
  const par = tracker(() => 5);
  r = await run({ concurrency: 2 }, par);
  assert.equal(par.max, 2);
  const none = tracker(() => 1);
  r = await run({ concurrency: null }, none);
  assert.equal(none.max, 1, 'concurrency=None is falsy: sequential, no TypeError for callables');
  const failing = tracker(() => 1, c => (c.mapIndex === 1 ? { kind: 'raise', type: 'KeyError', message: 'k', source: 'interactive' } : { kind: 'return', value: 1, source: 'interactive' }));
  r = await run({}, failing);
  assert.equal(r.error!.type, 'KeyError');
  assert.deepEqual(r.calls.filter(c => c.mapParent !== undefined).map(c => c.mapIndex), [0, 1], 'sequential: the first failure stops the loop');
  r = await run({ return_exceptions: true }, tracker(() => 1, c => (c.mapIndex === 1 ? { kind: 'raise', type: 'KeyError', message: 'k', source: 'interactive' } : { kind: 'return', value: 1, source: 'interactive' })));
  assert.equal(r.status, 'ok');
  assert.equal((r.output as unknown[]).length, 4);
});

test('each item is its own recorded call under its flyte_map parent; stubs answer items synchronously', async () => {
  const p = await program(withCode('flyte_map("sq", xs)'));
  const run = new SandboxRun(p.findTask('t'), { inputs: { xs: [3, 4], code: '' }, resolvers: [new StubResolver(parseStubs(SQ, 's'))] });
  const r = await run.execute();
  assert.deepEqual(r.calls.map(c => [c.seq, c.function, c.mapParent, c.mapIndex, c.result, c.source]), [
    [1, 'flyte_map', undefined, undefined, [9, 16], 'flyte_map'],
    [2, 'sq', 1, 0, 9, 'stub'],
    [3, 'sq', 1, 1, 16, 'stub'],
  ]);
});

test('an item nobody answers ends the run naming the item', async () => {
  const r = await runTask(withCode('flyte_map("sq", xs)'), {}, { inputs: { xs: [1], code: '' } });
  assert.equal(r.error!.origin, 'unresolved');
  assert.equal(r.error!.frames.at(-1)!.sourceLine, 'return flyte_map("sq", xs)');
});
