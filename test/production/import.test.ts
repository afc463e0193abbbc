/**
 * Importing production runs and replaying them, with real python3 and the
 * stand-in flyte (test/fixtures/flyte-standin: built from flyte-sdk's
 * source; these tests do not talk to a cluster).
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { buildResolvers, importProductionRun, loadProgram, pyRepr, SandboxRun, type ImportProgress, type RunResult } from '../../engine/index.ts';
import type { Cassette } from '../../engine/cassette/format.ts';
import { fromWire } from '../../engine/values/wire.ts';
import { DebugRuntime } from '../../engine/debug/runtime.ts';
import type { StoppedInfo } from '../../engine/debug/api.ts';
import { bigRun, cluster, MANY, until, useStandin, type Cluster } from './cluster.ts';

useStandin();

const READS = new Set(['GetRunDetails', 'GetActionDetails', 'ListActions', 'GetActionData']);

async function importRun(c: Cluster, run: string, extra: { onProgress?: (p: ImportProgress) => void; program?: string; task?: string } = {}) {
  return importProductionRun({ run, program: extra.program ?? c.program, out: join(c.dir, `${run}.json`), cwd: c.dir, ...(extra.task ? { task: extra.task } : {}), ...(extra.onProgress ? { onProgress: extra.onProgress } : {}) });
}

/** Replay a cassette the way `run --replay` does: its own inputs, the standard chain. */
async function replay(program: string, cassettePath: string, task?: string): Promise<RunResult & { notices: string[] }> {
  const t = (await loadProgram(program)).findTask(task);
  const cassette = JSON.parse(readFileSync(cassettePath, 'utf8')) as Cassette;
  const inputs = fromWire(cassette.inputs) as Map<string, unknown>;
  const notices: string[] = [];
  const chain = await buildResolvers({ task: t, inputs: Object.fromEntries(inputs), cassette: { replay: cassettePath }, notice: n => notices.push(n) });
  const result = await new SandboxRun(t, { inputs, resolvers: chain.resolvers }).execute();
  chain.dispose();
  return { ...result, notices };
}

test('a succeeded run: its children, stored out of order, come back in call order under their local names, inputs by name, the map folded; read-only', async () => {
  const c = cluster();
  const { cassette, notes } = await importRun(c, 'rq7w2k9xb');
  assert.deepEqual(cassette.calls.map(x => `${x.seq}:${x.function}${x.mapParent ? `<${x.mapParent}` : ''}`), ['1:clock', '2:price', '3:price', '4:discount', '5:tax', '6:flyte_map', '7:price<6', '8:price<6', '9:charge']);
  assert.deepEqual(cassette.calls.map(x => x.ref?.name), ['f3kq8w1d', '9xk2m4p7', 'm2q8z6w1', 'k5t1r8e3', 'p0w9s2d6', undefined, 'z8b3n1k7', 'h4j6l2x9', 'w1e5y7u3'], 'production action names; the condition action and the grandchild are left out');
  const price = cassette.calls[1]!;
  assert.deepEqual([price.args, price.kwargs, price.bound, price.result, price.source], [[], { item: 'apple', qty: 3 }, true, 1.5, 'production']);
  assert.deepEqual([price.ref?.cacheHit, price.ref?.durationMs], [true, 250]);
  assert.deepEqual(cassette.calls[4]!.result, { $tuple: [2.79, 16.74] }, 'two outputs come back as a tuple');
  assert.deepEqual(cassette.calls[4]!.kwargs, { amount: 13.95, region: null });
  const map = cassette.calls[5]!;
  assert.deepEqual([map.mapOrder, map.mapSize, map.args], ['unknown', 2, ['price']]);
  assert.deepEqual(cassette.calls.slice(6, 8).map(x => x.kwargs), [{ item: 'melon', qty: 1 }, { item: 'apple', qty: 1 }], 'map items in created_at order, not index order');
  assert.deepEqual([cassette.task, cassette.status, cassette.inputs, cassette.recordedAt], ['checkout', 'ok', { cart: { apple: 3, melon: 4 }, code: 'SAVE10' }, '2026-08-20T09:00:00Z']);
  const p = cassette.production!;
  assert.deepEqual([p.run, p.url, p.project, p.domain, p.task, p.taskVersion, p.discoveryVersion, p.sdkVersion, p.phase, p.actions], ['rq7w2k9xb', 'https://flyte.example.com/v2/domain/development/project/shop/runs/rq7w2k9xb', 'shop', 'development', 'orders.checkout', 'v1f3a', 'd41c9e07', '2.6.5', 'succeeded', 8]);
  assert.ok(p.unrecoverable.some(u => u.includes("exception type")) && p.unrecoverable.some(u => u.includes('flyte_map index')), 'what cannot be recovered is listed');
  assert.ok(notes.some(n => n.includes('condition action')), notes.join('\n'));
  assert.deepEqual([...new Set(c.rpcs().map(r => r.rpc))].filter(r => !READS.has(r)), [], 'only reads: no run created, changed or aborted');
  assert.match(readFileSync(join(c.dir, 'rq7w2k9xb.json'), 'utf8'), /^ {2}"production": /m, 'the cassette has a production block');
});

test("replaying it gives production's values, not a recomputation: discount returned 13.95 where Python computes 13.950000000000001", async () => {
  const c = cluster();
  const { path } = await importRun(c, 'rq7w2k9xb');
  const r = await replay(c.program, path);
  assert.equal(r.status, 'ok', r.error?.message);
  const discount = r.calls.find(x => x.function === 'discount')!;
  assert.deepEqual([discount.result, discount.source, discount.ref?.kind, discount.ref?.name], [13.95, 'cassette', 'production', 'k5t1r8e3']);
  assert.equal(pyRepr(15.5 * (1 - 0.1)), '13.950000000000001', 'what a local recomputation gives');
  assert.equal(pyRepr(r.output), "{'subtotal': 15.5, 'total': 13.95, 'tax': 2.79, 'gross': 16.74, 'unit': [0.5, 3.5], 'receipt': 'rcpt-1674-order', 'started': 1787302801}");
  assert.ok(r.calls.filter(x => x.function !== 'flyte_map').every(x => x.source === 'cassette' && x.ref?.kind === 'production'));
  assert.ok(r.notices.some(n => n.includes('production run rq7w2k9xb')), r.notices.join('\n'));
});

test('a failed run replays to the same failure at the same call, and says the exception type was not recorded', async () => {
  const c = cluster();
  const { cassette, path } = await importRun(c, 'rb5n8c1qd');
  assert.deepEqual([cassette.status, cassette.error], ['error', { type: 'RuntimeUserError', message: 'bad code' }]);
  const failed = cassette.calls.at(-1)!;
  assert.deepEqual([failed.seq, failed.function, failed.error?.type, failed.error?.message], [4, 'discount', 'RuntimeUserError', 'bad code']);
  assert.match(failed.error!.traceback!, /exception's own type .* cannot be recovered/, 'error_info arrived on the second read (re-read once)');
  const r = await replay(c.program, path);
  assert.equal(r.status, 'error');
  assert.deepEqual([r.error?.type, r.error?.message, r.error?.origin, r.error?.call], ['RuntimeUserError', 'bad code', 'external', 4]);
  assert.match(r.error!.traceback!, /production action t6y2u8i4 ended FAILED \(error kind: user\)/);
  assert.equal(r.error!.frames.at(-1)?.line, 38, 'at discount(subtotal, code=code) in orders.py');
});

test('the parent_name filter where the backend takes it; the OSS refusal falls back to listing every action and keeping the direct children', async () => {
  const union = cluster({ flavor: 'union' });
  const a = await importRun(union, 'rq7w2k9xb');
  const listUnion = union.rpcs().filter(r => r.rpc === 'ListActions');
  assert.deepEqual(listUnion.map(r => r.filters), [['parent_name']]);
  assert.equal(a.cassette.production!.listing, 'parent_name filter');
  const oss = cluster();
  const b = await importRun(oss, 'rq7w2k9xb');
  assert.deepEqual(oss.rpcs().filter(r => r.rpc === 'ListActions').map(r => r.filters), [['parent_name'], []], 'refused, then everything listed');
  assert.match(b.cassette.production!.listing, /client-side/);
  assert.ok(b.notes.some(n => /refused the parent_name filter .*listed all 11 actions .*kept the 9 direct children of a0/.test(n)), b.notes.join('\n'));
  assert.deepEqual(b.cassette.calls.map(x => [x.function, x.kwargs]), a.cassette.calls.map(x => [x.function, x.kwargs]), 'the same calls either way (the grandchild billing.ledger is not one)');
});

test('a run with 250 calls: three pages of 100, counted as they come, all imported in order and replayed', async () => {
  const c = cluster({ runs: [bigRun('rbig250', 250)], files: { 'many.py': MANY } });
  const progress: ImportProgress[] = [];
  const { cassette, path } = await importRun(c, 'rbig250', { program: join(c.dir, 'many.py'), onProgress: p => progress.push(p) });
  assert.equal(cassette.calls.length, 250);
  assert.deepEqual(cassette.calls.slice(0, 3).map(x => x.kwargs), [{ item: 'apple', qty: 1 }, { item: 'apple', qty: 2 }, { item: 'apple', qty: 3 }]);
  assert.deepEqual(c.rpcs().filter(r => r.rpc === 'ListActions' && (r.filters as string[]).length === 0).map(r => r.token), ['', '100', '200'], 'paged with the token');
  assert.deepEqual(progress.filter(p => p.stage === 'listing').map(p => p.done), [100, 200]);
  assert.deepEqual(progress.filter(p => p.stage === 'reading').map(p => p.done), [100, 200, 250]);
  const r = await replay(join(c.dir, 'many.py'), path);
  assert.deepEqual([r.status, r.output, r.calls.length], ['ok', 0.5 * 250 * 251 / 2, 250]);
});

test('a run still running imports what has finished and says the rest is missing; the replay stops there saying why', async () => {
  const c = cluster();
  const { cassette, notes, path } = await importRun(c, 'rr2d6f4gh');
  assert.deepEqual([cassette.status, cassette.calls.length, cassette.production?.missing], ['incomplete', 2, 1]);
  assert.ok(notes.some(n => /still running: 2 calls had finished .* 1 still running is missing/.test(n)), notes.join('\n'));
  const r = await replay(c.program, path);
  assert.equal(r.error?.type, 'CassetteMismatch');
  assert.match(r.error!.message, /call #3 price\('melon', 4\) was not recorded: .*production run rr2d6f4gh was still running when it was imported/);
});

test('when the local code no longer matches production, the mismatch diff names the input', async () => {
  const c = cluster();
  const { path } = await importRun(c, 'rq7w2k9xb');
  writeFileSync(c.program, readFileSync(c.program, 'utf8').replace('total = discount(subtotal, code=code)', 'total = discount(subtotal, code=code, rate=0.2)'));
  const r = await replay(c.program, path);
  assert.equal(r.error?.type, 'CassetteMismatch');
  assert.match(r.error!.message, /call #4 discount\(15\.5, code='SAVE10', rate=0\.2\) does not match recorded call #4 discount\(subtotal=15\.5, code='SAVE10', rate=0\.1\):\n {2}input rate: recorded 0\.1, now 0\.2$/);
});

test('the debugger: a replay launched without inputs runs with the cassette\'s (and says so), and stopAtCall pauses before the call that failed', async () => {
  const c = cluster();
  const { path } = await importRun(c, 'rb5n8c1qd');
  const rt = new DebugRuntime();
  const console: string[] = [];
  const stops: StoppedInfo[] = [];
  rt.on('output', o => console.push(o.text));
  rt.on('stopped', s => stops.push(s));
  const ended = new Promise<unknown>(resolve => rt.on('ended', resolve));
  try {
    await rt.launch({ program: c.program, replay: path, stopOnExternalCall: 'none', stopAtCall: 4 });
    assert.ok(console.some(t => t === "inputs from the cassette (production run rb5n8c1qd): {'cart': {'apple': 3, 'melon': 4}, 'code': 'BAD'}\n"), console.join(''));
    await rt.configurationDone();
    await until('the stop at call #4', () => stops.length > 0);
    assert.deepEqual([stops[0]!.reason, stops[0]!.description], ['breakpoint', "discount(15.5, code='BAD')"]);
    const history = await rt.calls();
    assert.deepEqual(history.filter(r => r.status === 'returned').map(r => r.ref?.name), ['g1h3j5k7', 'd2f4g6h8', 'n3m5b7v9']);
    await rt.continue(1);
    await until('the uncaught failure', () => stops.length > 1);
    assert.deepEqual([stops[1]!.reason, stops[1]!.description], ['exception', 'RuntimeUserError: bad code']);
  } finally {
    await rt.terminate();
    await ended;
  }
});
