import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { codeNames, type CodeNamesOptions } from '../../engine/extract/codeNames.ts';
import { loadProgram } from '../../engine/index.ts';
import { field, namedChildren, type SyntaxNode } from '../../engine/python/parser.ts';
import { dedent, flow, program, runTask, writeTree } from '../helpers.ts';

const FIXTURES = join(import.meta.dirname, '..', 'fixtures');

function pythonReference(file: string): Record<string, { co_names: string[]; code: string }> {
  return JSON.parse(execFileSync('python3', [join(FIXTURES, 'python_reference.py'), file], { encoding: 'utf8' })) as Record<string, { co_names: string[]; code: string }>;
}

function functionsOf(root: SyntaxNode): Map<string, SyntaxNode> {
  const out = new Map<string, SyntaxNode>();
  for (const stmt of namedChildren(root)) {
    const def = stmt.type === 'decorated_definition' ? field(stmt, 'definition') : stmt;
    if (def?.type === 'function_definition') out.set(field(def, 'name')!.text, def);
  }
  return out;
}

test('co_names emulation matches CPython 3.11 for every function of the fixture', async () => {
  const dir = writeTree({});
  copyFileSync(join(FIXTURES, 'co_names_cases.py'), join(dir, 'co_names_cases.py'));
  copyFileSync(join(FIXTURES, 'helpers.py'), join(dir, 'helpers.py'));
  const reference = pythonReference(join(dir, 'co_names_cases.py'));
  const p = await loadProgram(join(dir, 'co_names_cases.py'));
  const py311: CodeNamesOptions = { inlineComprehensions: false, eagerAnnotations: true };
  const fns = functionsOf(p.module.root);
  assert.ok(Object.keys(reference).length >= 10);
  for (const [name, ref] of Object.entries(reference)) {
    const ours = [...codeNames(fns.get(name)!, py311).names].sort();
    assert.deepEqual(ours, ref.co_names, `co_names of ${name}`);
  }
});

test('prepared code is byte-for-byte what Flyte builds (decorators dropped, dedent, trailing call)', async () => {
  const dir = writeTree({ 'nested.py': dedent(`
    import flyte
    env = flyte.TaskEnvironment(name="n")
    if True:
        @env.sandbox.orchestrator(
            timeout_ms=5,
        )
        def indented(a: int, b: str) -> str:
            """docstring stays"""
            # a comment stays

            return b * a


    @env.sandbox.orchestrator
    async def later(x: int) -> int:
        return x
  `) });
  copyFileSync(join(FIXTURES, 'co_names_cases.py'), join(dir, 'co_names_cases.py'));
  copyFileSync(join(FIXTURES, 'helpers.py'), join(dir, 'helpers.py'));
  for (const file of ['co_names_cases.py', 'nested.py']) {
    const reference = pythonReference(join(dir, file));
    const p = await loadProgram(join(dir, file));
    assert.ok(p.tasks.length >= 2);
    for (const t of p.tasks) assert.equal(t.flyteCode, reference[t.name]!.code, `code of ${t.name}`);
  }
});

test('Python 3.12 inlines comprehensions: their names count; generator expressions still do not', async () => {
  const p = await program(flow(`
    @env.task
    def fib(n: int) -> int: ...
    @env.task
    def dbl(n: int) -> int: ...
    @env.sandbox.orchestrator
    def t(xs: list) -> list:
        a = [fib(x) for x in xs]
        b = list(dbl(x) for x in xs)
        return a + b
  `));
  const task = p.findTask('t');
  assert.deepEqual(task.registry.names(), ['fib']);
  const old = await program(flow(`
    @env.task
    def fib(n: int) -> int: ...
    @env.sandbox.orchestrator
    def t(xs: list) -> list:
        return [fib(x) for x in xs]
  `), { pythonVersion: '3.11' });
  assert.deepEqual(old.findTask('t').registry.names(), []);
});

test('registry: tasks, sandboxed tasks, remote handles, syncify and durable wrappers register; plain functions do not', async () => {
  const p = await program(`
    import flyte
    from flyte.durable import sleep
    from durable_ops import checkpoint
    from helpers import double
    env = flyte.TaskEnvironment(name="reg")
    remote_train = flyte.remote.Task.get("ml.train", auto_version="latest")

    @env.task(cache="auto")
    def fib(n: int) -> int: ...

    @env.sandbox.orchestrator
    def other(n: int) -> int:
        return n

    @flyte.syncify
    async def synced(x): ...

    @flyte.trace
    def traced(x): ...

    def plain(x):
        return x

    alias = fib
    nothing = None

    @env.sandbox.orchestrator
    def main(n: int) -> int:
        return fib(n) + other(n) + remote_train(n) + synced(n) + traced(n) + plain(n) + alias(n) + sleep(1) + checkpoint(n) + double(n) + nothing
  `, { files: { 'durable_ops.py': 'def checkpoint(x):\n    return x\n', 'helpers.py': 'import flyte\nenv = flyte.TaskEnvironment("helpers")\n@env.task\ndef double(x: int) -> int:\n    return 2 * x\n' } });
  const reg = p.findTask('main').registry;
  assert.deepEqual(reg.names(), ['alias', 'checkpoint', 'double', 'fib', 'other', 'remote_train', 'sleep', 'synced']);
  assert.equal(reg.get('fib')!.flyteName, 'reg.fib');
  assert.equal(reg.get('double')!.flyteName, 'helpers.double');
  assert.equal(reg.get('remote_train')!.taskTemplate, false, 'a LazyEntity is not a TaskTemplate');
  assert.equal(reg.get('checkpoint')!.category, 'durable');
  assert.equal(reg.get('sleep')!.category, 'trace');
  assert.deepEqual(reg.ignored.map(e => e.name).sort(), ['nothing', 'plain', 'traced']);
});

test('orchestrator_from_str: code dedented and stripped, tasks keyed by function name, _unused when no inputs', async () => {
  const p = await program(`
    import flyte
    from flyte import sandbox
    env = flyte.TaskEnvironment(name="cs")

    @env.task
    def add(x: int, y: int) -> int: ...

    def helper(x):
        return x

    plus = add

    summed = flyte.sandbox.orchestrator_from_str(
        """
            total = plus_fn(x, 1)
            helper(total)
        """,
        inputs={"x": int},
        output=int,
        tasks=[plus, helper],
        name="summer",
    )
    empty = sandbox.orchestrator_from_str("   ", inputs={})
    env_form = env.sandbox.orchestrator("add(x, 2)", inputs={"x": int}, tasks=[add])
    dup = flyte.sandbox.orchestrator_from_str("1", inputs={}, tasks=[add, plus])
  `);
  const summed = p.findTask('summer');
  assert.equal(summed.kind, 'code-string');
  assert.equal(summed.flyteCode, 'total = plus_fn(x, 1)\nhelper(total)');
  assert.deepEqual(summed.registry.names(), ['add', 'helper'], 'keyed by func.__name__, not by the variable');
  assert.equal(summed.registry.get('helper')!.category, 'trace', '_classify_refs puts plain callables in trace_refs');
  assert.deepEqual(summed.inputNames, ['x']);
  const empty = p.findTask('empty');
  assert.equal(empty.flyteCode, 'None');
  assert.deepEqual(empty.inputNames, ['_unused']);
  assert.deepEqual(empty.implicitInputs, { _unused: 0 });
  assert.equal(empty.flyteName, 'sandboxed-code');
  const envForm = p.findTask('env_form');
  assert.deepEqual([envForm.flyteCode, envForm.registry.names(), envForm.flyteName], ['add(x, 2)', ['add'], 'sandboxed-code']);
  assert.deepEqual(p.findTask('dup').definitionErrors.map(e => e.message), ["Duplicate task name 'add'"]);
});

test('type boundary: unsupported input and output types fail definition with Flyte\'s message', async () => {
  const p = await program(`
    import flyte
    from datetime import datetime
    from typing import Optional
    from flyte.io import File
    env = flyte.TaskEnvironment(name="tb")

    @env.sandbox.orchestrator
    def ok(a: Optional[File], b: dict[str, list[int]], c) -> tuple[int, str]:
        return 1, "x"

    @env.sandbox.orchestrator
    def bad_in(when: datetime) -> int:
        return 1

    @env.sandbox.orchestrator
    def bad_union(x: int | None) -> int:
        return 1

    @env.sandbox.orchestrator
    def bad_out(x: int) -> tuple[int, datetime]:
        return 1

    @env.sandbox.orchestrator
    def varargs(*args) -> int:
        return 1
  `);
  // Each task's own errors; the import of the module stops at the first (bad_in), so every task fails with that one first.
  const msg = (n: string) => p.findTask(n).definitionErrors.filter(e => !e.raisedBy).map(e => e.message);
  assert.deepEqual(msg('ok'), []);
  for (const n of ['ok', 'bad_union', 'bad_out', 'varargs']) {
    const first = p.findTask(n).definitionErrors[0]!;
    assert.deepEqual([first.raisedBy, first.at.line, first.message.slice(0, 33)], ['bad_in', 12, "Sandboxed task input 'when' has u"]);
  }
  assert.deepEqual(msg('bad_in'), ["Sandboxed task input 'when' has unsupported type <class 'datetime.datetime'>. Supported types: primitives (int, float, str, bool, bytes, None), collections (list, dict, tuple, set), and flyte.io types (File, Dir, DataFrame)."]);
  assert.match(msg('bad_union')[0]!, /^Sandboxed task input 'x' has unsupported type int \| None\./);
  assert.match(msg('bad_out')[0]!, /^Sandboxed task output 'o1' has unsupported type <class 'datetime\.datetime'>\./);
  assert.deepEqual(msg('varargs'), ['Function varargs cannot have variable positional or keyword arguments.']);
  const r = await runTask(flow(`
    from datetime import datetime
    @env.sandbox.orchestrator
    def bad_in(when: datetime) -> int:
        return 1
  `), {}, { inputs: { when: 1 } });
  assert.equal(r.status, 'error');
  assert.equal(r.error!.origin, 'definition');
  assert.equal(r.error!.frames[0]!.line, 5);
});

test('task lookup by Python name or Flyte name; a clear error otherwise', async () => {
  const p = await program(flow(`
    @env.sandbox.orchestrator
    def a(x: int) -> int:
        return x
    @env.sandbox.orchestrator(name="custom-name")
    def b(x: int) -> int:
        return x
  `));
  assert.equal(p.findTask('env.a').name, 'a');
  assert.equal(p.findTask('custom-name').name, 'b');
  assert.throws(() => p.findTask(), /2 sandboxed tasks here, say which one: a, b/);
  assert.throws(() => p.findTask('c'), /no sandboxed task 'c' \(found: a \(env\.a\), b \(custom-name\)\)/);
});
