import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Monty } from '@pydantic/monty';
import { fromMonty, hostResultToMonty, IoHandle, ioProblems, ioView, toMonty } from '../../engine/index.ts';
import { isTuple } from '../../engine/values/python.ts';

/** A value built by real Monty, as the sandbox would pass it to the host. */
function fromSandbox(expr: string): unknown {
  return new Monty(expr).run();
}

test('nested IO handles round-trip through real Monty: lists, tuples, dict values; tuples stay tuples', () => {
  const value = fromSandbox(`[
    ({"__flyte_io_type__": "File", "path": "s3://b/a.csv"}, 1),
    {"dir": {"__flyte_io_type__": "Dir", "path": "s3://b/d/", "hash": "abc"},
     "frames": [{"__flyte_io_type__": "DataFrame", "uri": "s3://b/df", "format": "parquet"}]},
  ]`);
  const host = fromMonty(value) as unknown[];
  const [pair, nested] = host as [unknown[], Map<string, unknown>];
  assert.ok(isTuple(pair));
  assert.ok(pair[0] instanceof IoHandle);
  assert.deepEqual((pair[0] as IoHandle).fields, { path: 's3://b/a.csv', name: 'a.csv', format: '', hash: null });
  assert.deepEqual((nested.get('dir') as IoHandle).fields, { path: 's3://b/d/', name: 'd', format: '', hash: 'abc' });
  assert.deepEqual(((nested.get('frames') as unknown[])[0] as IoHandle).fields, { uri: 's3://b/df', format: 'parquet', hash: null });

  const back = toMonty(host);
  const echoed = new Monty('x', { inputs: ['x'] }).run({ inputs: { x: back } });
  const round = fromMonty(echoed) as unknown[];
  assert.ok(isTuple(round[0]));
  assert.deepEqual(((round[0] as unknown[])[0] as IoHandle).toMonty(), new Map<string, unknown>([['__flyte_io_type__', 'File'], ['path', 's3://b/a.csv'], ['name', 'a.csv'], ['format', ''], ['hash', null]]));
});

test('values without IO handles come back as the very same object (no copy on the hot path)', () => {
  const v = fromSandbox('[1, (2, 3), {"a": [4]}]');
  assert.equal(fromMonty(v), v);
  assert.equal(toMonty(v), v);
  assert.equal(hostResultToMonty(5), 5);
});

test('model_validate semantics: required path, string fields, defaults; DataFrame drops hash', () => {
  assert.throws(() => fromMonty(fromSandbox('{"__flyte_io_type__": "File", "name": "x"}'), 'args[0]'), (e: Error & { path?: string; field?: string }) => {
    assert.equal(e.message, "1 validation error for File\npath\n  Field required [type=missing, input_value={'name': 'x'}, input_type=dict]\n    For further information visit https://errors.pydantic.dev/2.13/v/missing");
    assert.equal(e.path, 'args[0]');
    return true;
  });
  assert.throws(() => fromMonty({ __flyte_io_type__: 'Dir', path: 3, name: 'd' }), /Input should be a valid string \[type=string_type, input_value=3, input_type=int\]/);
  const df = fromMonty({ __flyte_io_type__: 'DataFrame', uri: 's3://x', hash: 'h' }) as IoHandle;
  assert.deepEqual([...df.toMonty().keys()], ['__flyte_io_type__', 'uri', 'format']);
  assert.deepEqual((fromMonty({ __flyte_io_type__: 'DataFrame' }) as IoHandle).fields, { uri: null, format: '', hash: null });
});

test('an unknown tag passes through as a plain dict, as in Flyte, but is reported', () => {
  const v = fromSandbox('{"__flyte_io_type__": "Table", "uri": "x"}');
  assert.equal(fromMonty(v), v);
  const problems = ioProblems(fromSandbox('[1, {"k": {"__flyte_io_type__": "Table"}}, {"__flyte_io_type__": "File", "path": "p", "extra": 1}]'), 'args');
  assert.deepEqual(problems.map(p => p.path), ["args[1]['k']", 'args[2]']);
  assert.match(problems[0]!.problems[0]!, /unknown __flyte_io_type__ 'Table'/);
  assert.match(problems[1]!.problems[0]!, /field 'extra' is not a File field/);
});

test('ioView: the Flyte fields of a handle for display, problems flagged', () => {
  assert.deepEqual(ioView(fromSandbox('{"__flyte_io_type__": "File", "path": "s3://b/r.html", "format": "html"}')), { kind: 'File', known: true, fields: { path: 's3://b/r.html', name: 'r.html', format: 'html', hash: null }, problems: [] });
  const broken = ioView({ __flyte_io_type__: 'Dir' })!;
  assert.deepEqual(broken.problems, ["path: missing: Flyte's validator reads it to fill 'name' (KeyError)"]);
  assert.equal(ioView({ a: 1 }), undefined);
});
