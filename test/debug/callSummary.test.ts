import assert from 'node:assert/strict';
import { test } from 'node:test';
import { callSummary } from '../../debug-adapter/callSummary.ts';
import { CallRecord } from '../../engine/run/outcome.ts';
import { tuple } from '../../engine/values/python.ts';

test('a call summary lists its parts in a fixed order and leaves empty ones out', () => {
  const r = new CallRecord(3, 'ident', [1.5, 'x'], {}, 2500, undefined, undefined, 0);
  r.status = 'returned';
  r.result = 1;
  r.source = 'stub';
  r.durationUs = 40;
  assert.equal(JSON.stringify(callSummary(r)), '{"seq":3,"function":"ident","status":"returned","args":["1.5","\'x\'"],"result":"1","source":"stub","durationMs":0.04,"startedMs":2.5}');
  const pending = new CallRecord(4, 'ident', [], {}, 1000, undefined, undefined, 0);
  assert.equal(JSON.stringify(callSummary(pending)), '{"seq":4,"function":"ident","status":"pending","args":[],"startedMs":1}');
});

test('a call summary has kwargs, values, map position, IO handles and the call site in that order', () => {
  const file = new Map<unknown, unknown>([['__flyte_io_type__', 'File'], ['path', 's3://b/k']]);
  const r = new CallRecord(7, 'load', [tuple([1, 2]), 'y'.repeat(300)], { f: file }, 1000, 2, 0, 0);
  r.status = 'returned';
  r.result = [file];
  r.durationUs = 1000;
  r.site = { file: '/x.py', line: 9, column: 5 };
  const s = callSummary(r, true);
  assert.deepEqual(Object.keys(s), ['seq', 'function', 'status', 'args', 'kwargs', 'result', 'values', 'durationMs', 'startedMs', 'mapParent', 'mapIndex', 'io', 'line', 'column']);
  assert.equal(s.args[0], '(1, 2)');
  assert.equal(s.args[1]!.length, 240);
  assert.ok(s.args[1]!.endsWith('…'));
  assert.deepEqual(s.io!.map(x => x.path), ["kwargs['f']", 'result[0]']);
  assert.deepEqual(Object.keys(s.values!), ['args', 'kwargs', 'result']);
});
