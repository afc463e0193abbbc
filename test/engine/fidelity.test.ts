/**
 * Where the debugger used to differ from production Flyte (issue 10): each
 * case on real Monty, asserting production's exact exception type and
 * message, and the behaviour that goes with it.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { IoHandle, parseStubs, SandboxRun, StubResolver, type RunOptions, type RunResult } from '../../engine/index.ts';
import { profileById, type ProfileId } from '../../engine/profiles.ts';
import { montyLimits, NO_LIMITS, resolveLimits } from '../../engine/run/limits.ts';
import { fromMonty } from '../../engine/marshal.ts';
import type { PythonVersion } from '../../engine/extract/tasks.ts';
import { flow, program } from '../helpers.ts';

async function run(source: string, task: string | undefined, inputs: unknown, stubs: Record<string, unknown> = {}, options: RunOptions & { profile?: ProfileId; pythonVersion?: PythonVersion } = {}): Promise<RunResult> {
  const p = await program(source, { ...(options.profile ? { profile: profileById(options.profile)! } : {}), ...(options.pythonVersion ? { pythonVersion: options.pythonVersion } : {}) });
  return new SandboxRun(p.findTask(task), { ...options, inputs, resolvers: [new StubResolver(parseStubs(stubs, 'stubs'))] }).execute();
}

const ETL = flow(`
  @env.task
  async def create_csv_file() -> dict: ...

  @env.task
  async def count_rows(f: dict) -> int: ...

  @env.sandbox.orchestrator
  async def orchestrate_etl(category: str) -> dict:
      csv_file = await create_csv_file()
      rows = await count_rows(csv_file)
      return {"rows": rows, "category": category}

  @env.sandbox.orchestrator
  async def catches(category: str) -> str:
      try:
          await create_csv_file()
      except TypeError as e:
          return "caught: " + str(e)
      return "not caught"
`);
const ETL_STUBS = { create_csv_file: { value: { path: 's3://b/sales.csv' } }, count_rows: { value: 4 } };

test('1. await on an external call: TypeError naming the result type, as in flyte-sdk 2.6; the pooled profile awaits', async () => {
  let r = await run(ETL, 'orchestrate_etl', { category: 'x' }, ETL_STUBS);
  assert.equal(r.error!.type, 'TypeError');
  assert.equal(r.error!.message, "'dict' object can't be awaited");
  assert.equal(r.error!.origin, 'sandbox');
  assert.equal(r.error!.frames.at(-1)!.line, 11);
  assert.match(r.error!.hint!, /production failure: in flyte-sdk 2\.6\.x the bridge resumes Monty with the plain result of create_csv_file\(\) \(a dict here\).*drop the `await`/);
  assert.deepEqual(r.calls.map(c => c.function), ['create_csv_file'], 'the call itself ran, as in production');
  // Monty raises it inside the sandbox, so the sandbox's own try/except sees it (production too).
  r = await run(ETL, 'catches', { category: 'x' }, ETL_STUBS);
  assert.equal(r.output, "caught: 'dict' object can't be awaited");
  r = await run(ETL, 'orchestrate_etl', { category: 'x' }, { ...ETL_STUBS, create_csv_file: { value: 3.5 } });
  assert.equal(r.error!.message, "'float' object can't be awaited");
  r = await run(ETL, 'orchestrate_etl', { category: 'x' }, ETL_STUBS, { profile: 'pooled' });
  assert.equal(r.status, 'ok', JSON.stringify(r.error));
  assert.deepEqual(r.output, new Map<string, unknown>([['rows', 4], ['category', 'x']]));
});

test('2. a decorated task without parameters: Monty refuses inputs={}; code strings get _unused; the pooled profile accepts both', async () => {
  const src = flow(`
    @env.task
    def one() -> int: ...

    @env.sandbox.orchestrator
    def no_params() -> int:
        return one() + 1

    @env.sandbox.orchestrator
    def pure() -> int:
        return 41

    from_str = flyte.sandbox.orchestrator_from_str("one() + 2", inputs={}, output=int, tasks=[one])
  `);
  for (const name of ['no_params', 'pure']) {
    const r = await run(src, name, undefined, { one: { value: 1 } });
    assert.deepEqual([r.error!.type, r.error!.message, r.error!.origin], ['TypeError', 'No input variables declared but inputs dict was provided', 'sandbox'], name);
    assert.equal(r.error!.frames[0]!.line, name === 'pure' ? 11 : 7);
    assert.match(r.error!.hint!, /refuses an inputs dict when no input is declared, before any line runs.*_unused input only for code-string tasks/);
    assert.deepEqual(r.calls, [], 'nothing ran');
  }
  let r = await run(src, 'from_str', undefined, { one: { value: 1 } });
  assert.equal(r.output, 3);
  const p = await program(src, { profile: profileById('pooled')! });
  assert.deepEqual(p.findTask('from_str').inputNames, [], 'no dummy input after PR #1539');
  r = await run(src, 'no_params', undefined, { one: { value: 1 } }, { profile: 'pooled' });
  assert.equal(r.output, 2);
  r = await run(src, 'from_str', undefined, { one: { value: 1 } }, { profile: 'pooled' });
  assert.equal(r.output, 3);
});

test('3. no externals discovered: Monty.run() without the bridge: NameError for helpers and flyte_map, nothing marshaled', async () => {
  const src = flow(`
    def helper(x):
        return x

    @env.sandbox.orchestrator
    def calls_helper(n: int) -> int:
        return helper(n)

    @env.sandbox.orchestrator
    def maps(xs: list) -> list:
        return flyte_map("double", xs)

    @env.sandbox.orchestrator
    def catches(n: int) -> str:
        try:
            helper(n)
        except NameError as e:
            return "caught " + str(e)
        return "no"

    @env.sandbox.orchestrator
    def builds_file(path: str) -> dict:
        return {"__flyte_io_type__": "File", "path": path}

    @env.task
    def t(x: int) -> int: ...

    @env.sandbox.orchestrator
    def builds_file_bridge(path: str) -> dict:
        if path == "never":
            t(1)
        return {"__flyte_io_type__": "File", "path": path}
  `);
  let r = await run(src, 'calls_helper', { n: 1 });
  assert.deepEqual([r.error!.type, r.error!.message, r.error!.origin], ['NameError', "name 'helper' is not defined", 'sandbox']);
  assert.match(r.error!.hint!, /Flyte discovered no externals for calls_helper, so it runs the code with Monty\.run\(\) instead of its bridge/);
  assert.equal(r.error!.frames.at(-1)!.line, 8);
  r = await run(src, 'maps', { xs: [1, 2] });
  assert.deepEqual([r.error!.type, r.error!.message], ['NameError', "name 'flyte_map' is not defined"]);
  assert.match(r.error!.hint!, /flyte_map included: it exists only in the bridge/);
  r = await run(src, 'catches', { n: 1 });
  assert.equal(r.output, "caught name 'helper' is not defined", 'a NameError raised inside the sandbox, catchable there');
  r = await run(src, 'builds_file', { path: 's3://b/x.csv' });
  assert.deepEqual(r.output, new Map([['__flyte_io_type__', 'File'], ['path', 's3://b/x.csv']]), 'the raw dict: no model_validate, no defaults');
  r = await run(src, 'builds_file_bridge', { path: 's3://b/x.csv' });
  assert.deepEqual([...(r.output as Map<string, unknown>).keys()], ['__flyte_io_type__', 'path', 'name', 'format', 'hash'], 'the bridge marshals');
  // A malformed handle on the fast path is not validated either.
  r = await run(src, 'builds_file', { path: 5 as unknown as string });
  assert.equal(r.status, 'ok');
});

test('4. definition order: a task defined below the orchestrator is not registered; the message names the trap', async () => {
  const src = flow(`
    @env.task
    def early(x: int) -> int: ...

    @env.sandbox.orchestrator
    def only_late(n: int) -> int:
        return late(n)

    @env.sandbox.orchestrator
    def both(n: int) -> int:
        return early(n) + late(n)

    @env.task
    def late(x: int) -> int: ...

    @env.sandbox.orchestrator
    def after(n: int) -> int:
        return late(n)
  `);
  const p = await program(src);
  assert.deepEqual(p.findTask('only_late').registry.names(), []);
  assert.deepEqual(p.findTask('both').registry.names(), ['early']);
  assert.deepEqual(p.findTask('after').registry.names(), ['late']);
  const stubs = { early: { value: 1 }, late: { value: 2 } };
  let r = await run(src, 'only_late', { n: 1 }, stubs);
  assert.deepEqual([r.error!.type, r.error!.message], ['NameError', "name 'late' is not defined"], 'nothing registered: the fast path');
  assert.match(r.error!.hint!, /late is a Flyte task \(@env\.task\) defined at line 15, below only_late \(line 6\)\. Flyte collects a sandboxed task's externals when its decorator runs.*Define late above only_late/);
  r = await run(src, 'both', { n: 1 }, stubs);
  assert.deepEqual([r.error!.type, r.error!.message, r.error!.origin], ['RuntimeError', 'Sandboxed task called unknown external function: late', 'refused']);
  assert.match(r.error!.hint!, /defined at line 15, below both \(line 10\)/);
  r = await run(src, 'after', { n: 1 }, stubs);
  assert.equal(r.output, 2);
  // A code-string task names its tasks when the module runs that line: a later one does not exist yet.
  const early = await program(flow(`
    too_early = flyte.sandbox.orchestrator_from_str("later(1)", inputs={}, tasks=[later])

    @env.task
    def later(x: int) -> int: ...
  `));
  const e = early.findTask('too_early').definitionErrors[0]!;
  assert.deepEqual([e.type, e.message, e.at.line], ['NameError', "name 'later' is not defined", 3]);
});

test('5. interface defaults are filled in before the sandbox starts, as flyte.run does', async () => {
  const src = flow(`
    SCALE = 10
    @env.sandbox.orchestrator
    def t(x: int, y: int = 3, label: str = "n", scale: float = 10, opts: dict = {"a": (1, 2)}, nothing=None) -> str:
        return f"{x}|{y}|{label}|{scale}|{opts}|{nothing}"

    @env.sandbox.orchestrator
    def u(x: int, when: str = compute()) -> str:
        return when

    @env.sandbox.orchestrator
    def v(x: int, scale: int = SCALE) -> int:
        return x * scale
  `);
  let r = await run(src, 't', { x: 1 });
  assert.equal(r.output, "1|3|n|10.0|{'a': (1, 2)}|None");
  r = await run(src, 't', { x: 1, y: 7, scale: 0.5 });
  assert.equal(r.output, "1|7|n|0.5|{'a': (1, 2)}|None");
  const p = await program(src);
  assert.deepEqual(p.findTask('t').inputs.map(i => i.default?.text), [undefined, '3', '"n"', '10', '{"a": (1, 2)}', 'None']);
  await assert.rejects(new SandboxRun(p.findTask('u'), { inputs: { x: 1 } }).execute(), /missing input 'when' for u\(x: int, when: str = compute\(\)\); 'when' \(its default `compute\(\)` is not a literal the debugger can evaluate/);
  // The default is filled in, but Monty still runs the def with its defaults, and SCALE is not in the sandbox: production fails the same way.
  assert.deepEqual(p.findTask('v').inputs[1]!.default, { text: 'SCALE', value: 10 });
  r = await run(src, 'v', { x: 2 });
  assert.deepEqual([r.error!.type, r.error!.message, r.error!.frames.at(-1)!.line], ['NameError', "name 'SCALE' is not defined", 13]);
});

test('8. float inputs reach the sandbox as floats, converted by the declared type', async () => {
  const src = flow(`
    from typing import Optional, List
    @env.sandbox.orchestrator
    def t(x: float, n: int, xs: List[float], maybe: Optional[float], table: dict[str, list[float]]) -> str:
        return f"{x}|{n}|{xs}|{maybe}|{table}"

    from_str = flyte.sandbox.orchestrator_from_str('f"{x}|{y}"', inputs={"x": float, "y": int}, output=str)
  `);
  let r = await run(src, 't', { x: 10, n: 2, xs: [1, 2.5], maybe: null, table: { a: [3] } });
  assert.equal(r.output, "10.0|2|[1.0, 2.5]|None|{'a': [3.0]}");
  r = await run(src, 't', { x: 10, n: 2, xs: [], maybe: 4, table: {} });
  assert.equal(r.output, '10.0|2|[]|4.0|{}');
  r = await run(src, 'from_str', { x: 10, y: 2 });
  assert.equal(r.output, '10.0|2');
  const p = await program(src);
  assert.equal(p.findTask('from_str').flyteCode, 'f"{x}|{y}"', 'the code Flyte runs is kept as is');
  await assert.rejects(new SandboxRun(p.findTask('t'), { inputs: { x: 'ten', n: 2, xs: [], maybe: null, table: {} } }).execute(), /input 'x' must be a number for a float, got str: x is declared float/);
  // Frames still point at the user's lines.
  r = await run(flow(`
    @env.sandbox.orchestrator
    def t(x: float) -> float:
        return x / 0
  `), 't', { x: 1 });
  assert.deepEqual([r.error!.type, r.error!.frames.at(-1)!.line], ['ZeroDivisionError', 5]);
});

const FILES = flow(`
  @env.task
  def use(f: dict) -> int: ...

  @env.sandbox.orchestrator
  def t(payload: dict) -> int:
      return use(payload)
`);

test('9. malformed File/Dir/DataFrame payloads fail with the exception flyte.io raises (KeyError, TypeError by Python version, ValidationError)', async () => {
  const cases: [Record<string, unknown>, PythonVersion, string, string][] = [
    [{ path: 's3://b/x' }, '3.12', '', ''],
    [{}, '3.12', 'KeyError', "'path'"],
    [{ format: 'csv' }, '3.11', 'KeyError', "'path'"],
    [{ path: 5 }, '3.11', 'TypeError', 'expected str, bytes or os.PathLike object, not int'],
    [{ path: null }, '3.10', 'TypeError', 'expected str, bytes or os.PathLike object, not NoneType'],
    [{ path: 5 }, '3.12', 'TypeError', "argument should be a str or an os.PathLike object where __fspath__ returns a str, not 'int'"],
    [{ path: [1] }, '3.13', 'TypeError', "argument should be a str or an os.PathLike object where __fspath__ returns a str, not 'list'"],
    [{ name: 'x' }, '3.12', 'ValidationError', "1 validation error for File\npath\n  Field required [type=missing, input_value={'name': 'x'}, input_type=dict]\n    For further information visit https://errors.pydantic.dev/2.13/v/missing"],
    [{ path: 5, name: 'x' }, '3.12', 'ValidationError', '1 validation error for File\npath\n  Input should be a valid string [type=string_type, input_value=5, input_type=int]\n    For further information visit https://errors.pydantic.dev/2.13/v/string_type'],
    [{ path: 's3://a/b', hash: 3, format: 1 }, '3.12', 'ValidationError', '2 validation errors for File\nformat\n  Input should be a valid string [type=string_type, input_value=1, input_type=int]\n    For further information visit https://errors.pydantic.dev/2.13/v/string_type\nhash\n  Input should be a valid string [type=string_type, input_value=3, input_type=int]\n    For further information visit https://errors.pydantic.dev/2.13/v/string_type'],
    [{ path: 's3://a/b', format: null }, '3.12', 'ValidationError', '1 validation error for File\nformat\n  Input should be a valid string [type=string_type, input_value=None, input_type=NoneType]\n    For further information visit https://errors.pydantic.dev/2.13/v/string_type'],
  ];
  for (const [fields, py, type, message] of cases) {
    const payload = new Map<string, unknown>([['__flyte_io_type__', 'File'], ...Object.entries(fields)]);
    const src = FILES.replace('return use(payload)', `return use(${pyDict(payload)})`).replace('payload: dict', 'n: int');
    const r = await run(src, 't', { n: 0 }, { use: { value: 1 } }, { pythonVersion: py });
    if (!type) {
      assert.equal(r.status, 'ok', JSON.stringify(r.error));
      continue;
    }
    assert.deepEqual([r.error!.type, r.error!.message, r.error!.origin], [type, message, 'marshal'], JSON.stringify(fields));
    assert.deepEqual(r.calls, [], 'unmarshaling fails before the call');
  }
  // The long input_value repr is cut the way pydantic-core cuts it.
  assert.throws(() => fromMonty(new Map<string, unknown>([['__flyte_io_type__', 'Dir'], ['name', 'x'.repeat(80)], ['other', 1]])), (e: Error) => {
    assert.match(e.message, /input_value=\{'name': 'xxxxxxxxxxxxxxx\.\.\.xxxxxxxxxx', 'other': 1\}, input_type=dict\]/);
    return true;
  });
  assert.throws(() => fromMonty({ __flyte_io_type__: 'DataFrame', uri: 7 }), /^Error: 1 validation error for DataFrame\nuri\n {2}Input should be a valid string \[type=string_type, input_value=7, input_type=int\]/);
  assert.deepEqual((fromMonty({ __flyte_io_type__: 'File', path: 's3://b/r/' }) as IoHandle).fields.name, 'r');
});

function pyDict(m: Map<string, unknown>): string {
  const lit = (v: unknown): string => (v === null ? 'None' : typeof v === 'string' ? JSON.stringify(v) : Array.isArray(v) ? `[${v.map(lit).join(', ')}]` : String(v));
  return `{${[...m].map(([k, v]) => `${JSON.stringify(k)}: ${lit(v)}`).join(', ')}}`;
}

test('10 and 11. import-time errors abort the whole module: every task of the file fails with the first one and its line', async () => {
  const heads: [string, string, string, number][] = [
    ['bad_tasks = flyte.sandbox.orchestrator_from_str("1", inputs={}, tasks=["add"])', 'TypeError', "Expected a callable or TaskTemplate, got <class 'str'>", 13],
    ['LIMIT = 5\nbad_tasks = flyte.sandbox.orchestrator_from_str("1", inputs={}, tasks=[add, LIMIT])', 'TypeError', "Expected a callable or TaskTemplate, got <class 'int'>", 14],
    ['import os\nbad_tasks = flyte.sandbox.orchestrator_from_str("1", inputs={}, tasks=[os])', 'TypeError', "Expected a callable or TaskTemplate, got <class 'module'>", 14],
    ['bad_tasks = flyte.sandbox.orchestrator_from_str("1", inputs={}, tasks=[None])', 'TypeError', "Expected a callable or TaskTemplate, got <class 'NoneType'>", 13],
    ['@env.sandbox.orchestrator(bogus_option=1)\ndef bad_deco(n: int) -> int:\n    return n', 'TypeError', "_SandboxNamespace.orchestrator() got an unexpected keyword argument 'bogus_option'", 13],
    ['@env.sandbox.orchestrator(42)\ndef bad_deco(n: int) -> int:\n    return n', 'TypeError', "orchestrator() expects a callable, string, or keyword arguments, got <class 'int'>", 13],
    ['@env.sandbox.orchestrator("n + 1")\ndef bad_deco(n: int) -> int:\n    return n', 'RuntimeUserError', 'CodeTaskTemplate does not support forward(). Use flyte.run() to execute through the sandbox.', 13],
    ['@env.sandbox.orchestrator\ndef bad_type(n: int | None) -> int:\n    return 1', 'TypeError', "Sandboxed task input 'n' has unsupported type int | None. Supported types: primitives (int, float, str, bool, bytes, None), collections (list, dict, tuple, set), and flyte.io types (File, Dir, DataFrame).", 14],
    ['bad_call = flyte.sandbox.orchestrator_from_str("1", inputs={}, timeout=3)', 'TypeError', "orchestrator_from_str() got an unexpected keyword argument 'timeout'", 13],
    ['bad_call = flyte.sandbox.orchestrator_from_str("1")', 'TypeError', "orchestrator_from_str() missing 1 required keyword-only argument: 'inputs'", 13],
  ];
  for (const [bad, type, message, line] of heads) {
    const src = flow(`
      @env.task
      def add(x: int) -> int: ...

      @env.sandbox.orchestrator
      def fine(n: int) -> int:
          return add(n)

      def helper():
          pass

      ${bad.split('\n').join('\n      ')}

      @env.sandbox.orchestrator
      def below(n: int) -> int:
          return add(n)
    `);
    const p = await program(src);
    for (const task of p.tasks) {
      const first = task.definitionErrors[0];
      assert.ok(first, `${task.name} in ${bad}`);
      assert.deepEqual([first.type, first.message, first.at.line], [type, message, line], `${task.name}: ${bad}`);
      const r = await new SandboxRun(task, { inputs: { n: 1 } }).execute();
      assert.deepEqual([r.error!.type, r.error!.message, r.error!.origin, r.error!.frames[0]!.line], [type, message, 'definition', line], `${task.name} run: ${bad}`);
      if (first.raisedBy) assert.match(r.error!.hint!, /Python stops the import there, so Flyte cannot load any task of this file/);
    }
  }
});

test('12. flyte_map over plain callables with concurrency > 0 is asyncio.gather: every row runs, then the first failure is raised', async () => {
  const src = flow(`
    def plain(x):
        return x

    t_gather = flyte.sandbox.orchestrator_from_str('flyte_map("plain", xs, concurrency=2)', inputs={"xs": list}, tasks=[plain])
    t_seq = flyte.sandbox.orchestrator_from_str('flyte_map("plain", xs)', inputs={"xs": list}, tasks=[plain])
  `);
  const stubs = { plain: { python: '1 / 0 if args[0] in (2, 4) else args[0]' } };
  let r = await run(src, 't_gather', { xs: [1, 2, 3, 4, 5] }, stubs);
  assert.deepEqual([r.error!.type, r.error!.message], ['ZeroDivisionError', 'division by zero']);
  assert.deepEqual(r.calls.filter(c => c.mapParent !== undefined).map(c => `${c.mapIndex}:${c.status}`), ['0:returned', '1:raised', '2:returned', '3:raised', '4:returned'], 'all rows ran');
  assert.equal(r.error!.call, r.calls.find(c => c.mapIndex === 1)!.seq, 'the first failure is the one raised');
  r = await run(src, 't_seq', { xs: [1, 2, 3, 4, 5] }, stubs);
  assert.deepEqual(r.calls.filter(c => c.mapParent !== undefined).map(c => `${c.mapIndex}:${c.status}`), ['0:returned', '1:raised'], 'sequential: the loop stops at the first failure');
  // Before flyte-sdk 2.5.6 every ref went through flyte.map, which names its group after func.name.
  r = await run(src, 't_gather', { xs: [1, 2] }, stubs, { profile: '2.2' });
  assert.deepEqual([r.error!.type, r.error!.message], ['AttributeError', "'function' object has no attribute 'name'"]);
});

test('13. limits can be switched off one by one (null) or all (production); the defaults stay stricter', async () => {
  assert.deepEqual(resolveLimits({ maxMemory: null }), { maxDurationSecs: 60, maxMemory: null, maxRecursionDepth: 1000 });
  assert.deepEqual(resolveLimits(undefined, 'limits', NO_LIMITS), { maxDurationSecs: null, maxMemory: null, maxRecursionDepth: null });
  assert.deepEqual(resolveLimits({ maxDurationSecs: 5 }, 'limits', NO_LIMITS), { maxDurationSecs: 5, maxMemory: null, maxRecursionDepth: null });
  const src = flow(`
    @env.sandbox.orchestrator
    def big(n: int) -> int:
        xs = [0] * n
        return len(xs)
  `);
  let r = await run(src, 'big', { n: 500_000 }, {}, { limits: resolveLimits({ maxMemory: 1_000_000 }) });
  assert.equal(r.error!.type, 'MemoryError');
  assert.match(r.error!.hint!, /Flyte itself sets no limit: set it to null or pass --no-limits to run as production does/);
  r = await run(src, 'big', { n: 500_000 }, {}, { limits: resolveLimits({ maxMemory: null }) });
  assert.equal(r.output, 500_000);
  r = await run(src, 'big', { n: 500_000 }, {}, { limits: { ...NO_LIMITS } });
  assert.equal(r.output, 500_000);
  assert.deepEqual(montyLimits(NO_LIMITS), {}, 'Monty is given no limits at all');
});
