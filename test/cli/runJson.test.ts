import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runJson, writeRunJson } from '../../cli/format.ts';
import { Stdout } from '../../cli/output.ts';
import { RunDocument } from '../../cli/runDocument.ts';
import { toJson, type RunResult } from '../../engine/index.ts';
import { CallRecord } from '../../engine/run/outcome.ts';
import { exceptionValue } from '../../engine/values/exceptions.ts';
import { tuple } from '../../engine/values/python.ts';

/** The document as one toJson of nested Maps: what `--json` printed before it was written in pieces. */
function reference(result: RunResult, profile?: Map<string, unknown>): string {
  const frames = (f: NonNullable<RunResult['error']>) => f.frames.map(fr => new Map<string, unknown>([['file', fr.file], ['line', fr.line], ['column', fr.column], ['function', fr.function]]));
  return toJson(new Map<string, unknown>([
    ['status', result.status],
    ['output', result.status === 'ok' ? result.output ?? null : null],
    ['error', result.error ? new Map<string, unknown>([
      ['type', result.error.type], ['message', result.error.message], ['origin', result.error.origin], ['frames', frames(result.error)],
      ['hint', result.error.hint ?? null], ['traceback', result.error.traceback ?? null],
    ]) : null],
    ['calls', result.calls.map(c => new Map<string, unknown>([
      ['seq', c.seq], ['function', c.function], ['args', c.args], ['kwargs', c.kwargs], ['status', c.status],
      ['result', c.status === 'returned' ? c.result ?? null : null],
      ['error', c.error ? new Map([['type', c.error.type], ['message', c.error.message]]) : null],
      ['source', c.source ?? null], ['mapParent', c.mapParent ?? null], ['mapIndex', c.mapIndex ?? null],
      ['durationMs', c.durationMs !== undefined ? Math.round(c.durationMs * 1000) / 1000 : null],
      ['ref', c.ref ? new Map(Object.entries(c.ref)) : null],
    ]))],
    ['stdout', result.stdout],
    ...(profile ? [['profile', profile] as [string, unknown]] : []),
  ]), 2);
}

function record(seq: number, fn: string, args: unknown[], kwargs: Record<string, unknown>, end: Partial<CallRecord>, mapParent?: number, mapIndex?: number): CallRecord {
  const r = new CallRecord(seq, fn, args, kwargs, seq * 10, mapParent, mapIndex, 0);
  Object.assign(r, end);
  return r;
}

const VALUES: unknown[] = [
  0, -0, 1.5, 1e21, 2 ** 53 + 2, NaN, Infinity, -Infinity, 12345678901234567890n, true, false, null, undefined,
  '', 'quote " and \\ and \n and é and \u2028', [], [1, 'a', null], tuple([1, 2]), [[1], [2, [3]]], Array.from({ length: 70 }, (_, i) => i),
  new Map(), new Map<unknown, unknown>([[1, 'one'], ['k', [1, 2]], [tuple([1, 2]), null]]), {}, { a: 1, b: { c: [] } },
  new Set([1, 2]), Buffer.from('bytes'), exceptionValue('ValueError', 'bad'),
  { __flyte_io_type__: 'File', path: 's3://b/x.csv' },
];

test('--json written in pieces is the same document, byte for byte, as one toJson of the whole', () => {
  const calls: CallRecord[] = [];
  VALUES.forEach((v, i) => {
    calls.push(record(calls.length + 1, 'f', [v], {}, { status: 'returned', result: v, source: 'stub', durationUs: i * 7 + 1 }));
    calls.push(record(calls.length + 1, 'g', [v, v], { key: v, other: 1 }, { status: 'returned', result: [v], source: 'forward', durationUs: 1234567 }, 1, i));
    calls.push(record(calls.length + 1, 'h', [], {}, { status: 'returned', result: v, source: 'cassette', durationUs: 2, ref: { kind: 'production', name: `a${i}`, url: 'https://x/"y"', durationMs: 1.5, cacheHit: true } }));
  });
  calls.push(record(calls.length + 1, 'boom', [], {}, { status: 'raised', error: { type: 'ValueError', message: 'no "fib" today', traceback: 'Traceback...' }, source: 'interactive', durationUs: 3 }));
  calls.push(record(calls.length + 1, 'wait', [1], {}, { status: 'pending' }));
  calls.push(record(calls.length + 1, 'gone', [1], {}, { status: 'cancelled', durationUs: 0 }));
  for (const output of VALUES) {
    const ok: RunResult = { status: 'ok', output, calls, stdout: 'printed\n"text"', durationMs: 1 };
    assert.equal(runJson(ok), reference(ok));
  }
  const failed: RunResult = {
    status: 'error', calls: [], stdout: '', durationMs: 1,
    error: { type: 'KeyError', message: "'k'", origin: 'external', frames: [{ file: '/x/flow.py', line: 3, column: 5, function: 't', sourceLine: 'fib(n)' }], hint: 'raised by the stub', traceback: 'tb', call: 1 },
  };
  assert.equal(runJson(failed), reference(failed));
  const bare: RunResult = { status: 'error', calls, stdout: '', durationMs: 1, error: { type: 'RunStopped', message: 'the run was stopped', origin: 'stopped', frames: [] } };
  assert.equal(runJson(bare), reference(bare));
  const profile = new Map<string, unknown>([['id', 'flyte-2.6'], ['monty', '0.0.18'], ['detected', null]]);
  assert.equal(runJson(bare, profile), reference(bare, profile));
});

test('a long run is written to stdout in buffers of bounded size, never as one string', () => {
  const calls = Array.from({ length: 20_000 }, (_, i) => record(i + 1, 'ident', [i, 'é'], {}, { status: 'returned', result: 1, source: 'stub', durationUs: 5 }));
  const result: RunResult = { status: 'ok', output: 20_000, calls, stdout: 'ü'.repeat(300_000), durationMs: 1 };
  const writes: Uint8Array[] = [];
  const out = new Stdout({ write: (chunk: Uint8Array) => writes.push(chunk) });
  writeRunJson(result, piece => out.write(piece));
  out.flush();
  assert.ok(writes.length > 3, `${writes.length} writes`);
  assert.ok(writes.slice(0, -2).every(w => w.length > 2 ** 17 && w.length <= 2 ** 18), writes.map(w => w.length).join(' '));
  assert.equal(Buffer.concat(writes).toString('utf8'), reference(result));
});

test('a document built as calls finish (items before their flyte_map, a call never finished) is the same document', () => {
  const map = record(1, 'flyte_map', ['sq', [1, 2, 3]], {}, { status: 'pending' });
  const items = [2, 3, 4].map(seq => record(seq, 'sq', [seq], {}, { status: 'pending' }, 1, seq - 2));
  const last = record(5, 'ident', [1], { k: 'v' }, { status: 'pending' });
  const doc = new RunDocument();
  const sink: Uint8Array[] = [];
  const out = new Stdout({ write: (chunk: Uint8Array) => sink.push(chunk) });
  doc.started(map);
  for (const r of items) doc.started(r);
  for (const r of [items[2]!, items[0]!, items[1]!]) {
    Object.assign(r, { status: 'returned', result: r.seq * r.seq, source: 'stub', durationUs: 10 });
    doc.finished(r);
  }
  Object.assign(map, { status: 'returned', result: [4, 9, 16], source: 'flyte_map', durationUs: 50 });
  doc.finished(map);
  doc.started(last);
  const result: RunResult = { status: 'error', calls: [], stdout: 'out\n', durationMs: 1, error: { type: 'SandboxCrashed', message: 'gone', origin: 'sandbox', frames: [] } };
  doc.write(result, out);
  out.flush();
  assert.equal(Buffer.concat(sink).toString('utf8'), reference({ ...result, calls: [map, ...items, last] }));

  const empty = new RunDocument();
  const none: Uint8Array[] = [];
  const out2 = new Stdout({ write: (chunk: Uint8Array) => none.push(chunk) });
  empty.write({ status: 'ok', output: 1, calls: [], stdout: '', durationMs: 1 }, out2);
  out2.flush();
  assert.equal(Buffer.concat(none).toString('utf8'), reference({ status: 'ok', output: 1, calls: [], stdout: '', durationMs: 1 }));
});

test('a run cut short: calls formatted ahead of a call never sent, and of one still pending, land where their seq puts them', () => {
  const done = (seq: number, mapParent?: number) => record(seq, 'sq', [seq], {}, { status: 'returned', result: seq, source: 'stub', durationUs: 1 }, mapParent, mapParent === undefined ? undefined : seq - mapParent - 1);
  const crash: RunResult = { status: 'error', calls: [], stdout: '', durationMs: 1, error: { type: 'SandboxCrashed', message: 'gone', origin: 'sandbox', frames: [] } };
  const render = (feed: (doc: RunDocument) => void) => {
    const doc = new RunDocument();
    const sink: Uint8Array[] = [];
    const out = new Stdout({ write: (chunk: Uint8Array) => sink.push(chunk) });
    feed(doc);
    doc.write(crash, out);
    out.flush();
    return Buffer.concat(sink).toString('utf8');
  };
  // call #1 never reached the CLI; #2-#4 did
  assert.equal(render(doc => [2, 3, 4].forEach(s => doc.finished(done(s)))), reference({ ...crash, calls: [2, 3, 4].map(s => done(s)) }));
  // a flyte_map (#2) still pending when the run died, its items #3-#5 done, #1 done before it, #7 done after a lost #6
  const map = record(2, 'flyte_map', ['sq', [1, 2, 3]], {}, { status: 'pending' });
  assert.equal(render(doc => {
    doc.finished(done(1));
    doc.started(map);
    for (const s of [3, 4, 5]) doc.finished(done(s, 2));
    doc.finished(done(7));
  }), reference({ ...crash, calls: [done(1), map, ...[3, 4, 5].map(s => done(s, 2)), done(7)] }));
});
