/**
 * flyte-sdk's own sandbox examples, as fixtures of the same shape
 * (test/fixtures/sdk): what runs in production runs the same here, with the
 * worker tasks stubbed as they compute; what fails in production fails the
 * same way. Items 6 (code built by helpers) and 7 (orchestrate_local) of
 * issue 10 are checked here too.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { loadProgram, parseStubs, SandboxRun, StubResolver, type Program, type RunResult } from '../../engine/index.ts';

const DIR = join(fileURLToPath(import.meta.url), '..', '..', 'fixtures', 'sdk');

function load(file: string): Promise<Program> {
  return loadProgram(join(DIR, file));
}

async function run(p: Program, task: string, inputs: unknown, stubs: Record<string, unknown> = {}): Promise<RunResult> {
  return new SandboxRun(p.findTask(task), { inputs, resolvers: [new StubResolver(parseStubs(stubs, 'stubs'))] }).execute();
}

const plain = (v: unknown): unknown => (v instanceof Map ? Object.fromEntries([...v].map(([k, x]) => [k, plain(x)])) : Array.isArray(v) ? v.map(plain) : v);

const WORKERS = {
  lookup: { python: '{1: 42, 2: 87, 3: 15}.get(args[0], 0)' },
  plus: { python: 'args[0] + args[1]' },
  times: { python: 'args[0] * args[1]' },
  square: { python: 'args[0] * args[0]' },
  power: { python: 'args[0] ** args[1]' },
};

test('decorated orchestrators (orchestrator.py, sandboxed_tasks.py): run as in production', async () => {
  const p = await load('scores.py');
  let r = await run(p, 'ranking', { players: [1, 2, 3] }, WORKERS);
  assert.deepEqual(plain(r.output), { total: 144, top: 87, bonus: 174 });
  assert.deepEqual(r.calls.map(c => c.function), ['lookup', 'plus', 'lookup', 'plus', 'lookup', 'plus', 'times']);
  r = await run(p, 'ranking_async', { players: [1, 2] }, WORKERS);
  assert.deepEqual(plain(r.output), { total: 129 }, 'an async orchestrator whose external calls are not awaited works');
  r = await run(p, 'combined', { a: 3, b: 4, k: 10 }, WORKERS);
  assert.equal(r.output, 70);
  assert.deepEqual(p.findTask('combined').declared, { timeout_ms: 5000 });
});

test('code strings (code_string.py): last expression, tasks=[...], flyte_map, no output, _unused', async () => {
  const p = await load('strings.py');
  const cases: [string, unknown, unknown][] = [
    ['triple', { v: 5 }, 15],
    ['offset', { v: 10, f: 3, o: 5 }, 35],
    ['chained', { a: 2, b: 3, k: 4 }, 20],
    ['grade', { score: 85 }, 'B'],
    ['stats', { values: [10, 20, 30] }, { total: 60, mean: 20 }],
    ['check', { values: [1, 2, 3] }, null],
    ['mapped', { xs: [1, 2, 3], ys: [10, 20, 30] }, [11, 22, 33]],
    ['env_string', { v: 1 }, 101],
    ['no_inputs', undefined, 3],
  ];
  for (const [task, inputs, expected] of cases) {
    const r = await run(p, task, inputs, WORKERS);
    assert.equal(r.status, 'ok', `${task}: ${JSON.stringify(r.error)}`);
    assert.deepEqual(plain(r.output), expected, task);
  }
  assert.deepEqual(p.findTask('no_inputs').inputNames, ['_unused']);
  const bad = await run(p, 'check', { values: [1, -2] });
  assert.deepEqual([bad.error!.type, bad.error!.message, bad.error!.frames.at(-1)!.line], ['ValueError', 'negative: -2', 68]);
});

test('opaque IO (opaque_io.py): handles pass through; orchestrate_etl awaits its calls and fails as in production', async () => {
  const p = await load('handles.py');
  const stubs = {
    make_csv: { value: { __flyte_io_type__: 'File', path: 's3://b/sales.csv' } },
    rows_of: { python: "4 if args[0]['name'] == 'sales.csv' else -1" },
    make_frame: { value: { __flyte_io_type__: 'DataFrame', uri: 's3://b/df', format: 'parquet' } },
    only: { python: "{'__flyte_io_type__': 'DataFrame', 'uri': args[0]['uri'] + '/' + args[1], 'format': 'parquet'}" },
  };
  let r = await run(p, 'file_flow', undefined, stubs);
  assert.deepEqual(plain(r.output), { file: { __flyte_io_type__: 'File', path: 's3://b/sales.csv', name: 'sales.csv', format: '', hash: null }, rows: 4 });
  r = await run(p, 'typed_inputs', { csv: { __flyte_io_type__: 'File', path: 's3://in/sales.csv' }, frame: { __flyte_io_type__: 'DataFrame', uri: 's3://in/df' } }, stubs);
  assert.deepEqual(plain(r.output), { rows: 4, frame: { __flyte_io_type__: 'DataFrame', uri: 's3://in/df/a', format: 'parquet' } });
  r = await run(p, 'etl_sync', { kind: 'a' }, stubs);
  assert.equal(r.status, 'ok', JSON.stringify(r.error));
  r = await run(p, 'etl', { kind: 'a' }, stubs);
  assert.deepEqual([r.error!.type, r.error!.message, r.error!.frames.at(-1)!.line], ['TypeError', "'dict' object can't be awaited", 52]);
  assert.match(r.error!.hint!, /drop the `await`/);
});

test('6. code built by helper functions: said why it cannot be read; constants and their concatenation run', async () => {
  const p = await load('generated.py');
  assert.deepEqual(p.tasks.map(t => t.name), ['summed_squares', 'squares', 'adds', 'orchestrate_local@66', 'orchestrate_local@67']);
  const why = p.unreadable.map(u => [u.at.line, u.reason, u.assignedTo.join(',')]);
  assert.deepEqual(why, [
    [35, 'its code is `body`, a local variable of make_folder(), known only when make_folder() runs', 'fold_sum,fold_product'],
    [43, 'its code is `formula`, a parameter of make_formula(), known only when make_formula() runs', 'area'],
    [60, 'its code is `expr`, a local variable of evaluate(), known only when evaluate() runs', ''],
    [62, 'its code is `expr`, a local variable of evaluate(), known only when evaluate() runs', ''],
  ]);
  assert.throws(() => p.findTask('fold_sum'), /'fold_sum' comes from flyte\.sandbox\.orchestrator_from_str\(\.\.\.\) at line 35, whose code the debugger cannot read: its code is `body`, a local variable of make_folder\(\)/);
  let r = await run(p, 'summed_squares', { values: [1, 2, 3] }, WORKERS);
  assert.equal(r.output, 14);
  assert.equal(p.findTask('summed_squares').flyteCode, 'total = 0\nfor v in values:\n    total = total + square(v)\ntotal');
  r = await run(p, 'squares', { items: [1, 2, 3, 4] }, WORKERS);
  assert.deepEqual(r.output, [1, 4, 9, 16]);
  r = await run(p, 'adds', { xs: [1, 2, 3], ys: [10, 20, 30] }, WORKERS);
  assert.deepEqual(r.output, [11, 22, 33]);
});

test('7. orchestrate_local one-shots: found anywhere, run with their own inputs, fast path without tasks, no _unused injected', async () => {
  const p = await load('oneshot.py');
  const shots = p.tasks.filter(t => t.kind === 'one-shot');
  assert.deepEqual(shots.map(t => t.name), ['orchestrate_local@24', 'orchestrate_local@25', 'orchestrate_local@32', 'orchestrate_local@33', 'orchestrate_local@41', 'orchestrate_local@42']);
  const outputs: unknown[] = [];
  for (const t of shots) {
    const r = await run(p, t.name, undefined, WORKERS);
    outputs.push(r.status === 'ok' ? r.output : `${r.error!.type}: ${r.error!.message}`);
  }
  assert.deepEqual(outputs, [3, 'three two one', 14, 125, 'TypeError: No input variables declared but inputs dict was provided', '5.0|2.5']);
  assert.deepEqual(p.findTask('orchestrate_local@24').inputs.map(i => [i.name, i.default?.text]), [['x', '1'], ['y', '2']]);
  const r = await run(p, 'orchestrate_local@24', { x: 10 }, WORKERS);
  assert.equal(r.output, 12, 'a given input replaces the call\'s literal');
  // generated.py's local maps: bridge path because tasks=[square]; the _unused one-shot of evaluate() is not readable (a loop variable).
  const g = await load('generated.py');
  const map = await run(g, 'orchestrate_local@67', undefined, WORKERS);
  assert.equal(map.output, 30);
});

test('remote handles (remote_tasks/orchestrator.py): called with keyword arguments through the bridge', async () => {
  const p = await load('remote_refs.py');
  const t = p.findTask('regression');
  assert.deepEqual(t.registry.names(), ['fit', 'make_data']);
  const r = await run(p, 'regression', { n: 100, noise: 10 }, { make_data: { python: "{'n': kwargs['n'], 'noise': kwargs['noise']}" }, fit: { value: { r2: 0.95 } } });
  assert.deepEqual(plain(r.output), { model: { r2: 0.95 }, quality: 'good' });
  assert.deepEqual(plain(r.calls[0]!.kwargs), { n: 100, noise: 10 }, 'noise: float arrives as a float (shown as 10 in JS)');
});
