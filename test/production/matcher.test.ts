/** The bound matcher, signatures read from Python source, flyte_map folding and run references: no Python process needed. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { CassetteCall } from '../../engine/cassette/format.ts';
import { differences } from '../../engine/cassette/matcher.ts';
import { bindCall, externalsOf } from '../../engine/cassette/signatures.ts';
import type { DumpChild } from '../../engine/production/dump.ts';
import { foldMaps } from '../../engine/production/fold.ts';
import { parseRunRef } from '../../engine/production/runRef.ts';
import { toWire } from '../../engine/values/wire.ts';
import { tuple } from '../../engine/values/python.ts';
import { flow, program } from '../helpers.ts';

const SOURCE = flow(`
  RATE = 0.1
  NAMES = ("a", "b")

  @env.task
  def price(item: str, qty: int = 1) -> float: ...

  @env.task
  def discount(subtotal: float, code: str = "", rate: float = RATE) -> float: ...

  @env.task
  def tax(amount: float, region: str | None = None, note: str = None, tags=NAMES) -> float: ...

  @env.task
  def clock(when: float, /, *, zone: Optional[str] = None, fmt: str = compute_format()) -> str: ...

  def plain(x):
      return x

  wrapped = env.task(plain)
  remote = flyte.remote.Task.get("billing.charge", version="v3")

  @env.sandbox.orchestrator
  def main(n: int) -> float:
      return price("x") + discount(1.0) + tax(1.0) + len(clock(1.0)) + wrapped(1) + remote(amount=1.0)
`);

async function identities() {
  return externalsOf((await program(SOURCE)).findTask('main'));
}

const recorded = (fn: string, kwargs: Record<string, unknown>): CassetteCall => ({ seq: 1, function: fn, args: [], kwargs: toWire(kwargs), bound: true });
const live = (fn: string, args: unknown[], kwargs: Record<string, unknown> = {}) => ({ function: fn, args: toWire(args), kwargs: toWire(kwargs) });

test('signatures come from the defs: kinds, literal defaults (also through module names), Optional, and defaults the debugger cannot evaluate', async () => {
  const ids = await identities();
  const sig = (fn: string) => ids.get(fn)!.signature!;
  assert.deepEqual(sig('price').params, [{ name: 'item', kind: 'positional', optional: false }, { name: 'qty', kind: 'positional', optional: false, default: { value: 1 } }]);
  assert.deepEqual(sig('discount').params.map(p => p.default), [undefined, { value: '' }, { value: 0.1 }]);
  assert.deepEqual(sig('tax').params.map(p => [p.name, p.optional, p.default]), [['amount', false, undefined], ['region', true, { value: null }], ['note', false, { value: null }], ['tags', false, { value: { $tuple: ['a', 'b'] } }]]);
  assert.deepEqual(sig('clock').params.map(p => [p.name, p.kind, p.default]), [['when', 'positional-only', undefined], ['zone', 'keyword-only', { value: null }], ['fmt', 'keyword-only', { unknown: 'compute_format()' }]]);
  assert.deepEqual(sig('wrapped').params.map(p => p.name), ['x'], 'env.task(plain) binds to plain');
  assert.equal(ids.get('remote')!.signature, undefined, 'a remote handle has no def here');
  assert.deepEqual([ids.get('price')!.flyteNames, ids.get('remote')!.flyteNames], [['env.price', 'price'], ['billing.charge', 'remote']]);
});

test('a live call binds to the signature before it is compared: positional, keyword or mixed all match the inputs production recorded', async () => {
  const ids = await identities();
  const sigs = (fn: string) => ids.get(fn)?.signature;
  const price = recorded('price', { item: 'apple', qty: 3 });
  assert.deepEqual(differences(live('price', ['apple', 3]), price, sigs), []);
  assert.deepEqual(differences(live('price', [], { qty: 3, item: 'apple' }), price, sigs), []);
  assert.deepEqual(differences(live('price', ['apple'], { qty: 3 }), price, sigs), []);
  assert.deepEqual(differences(live('price', ['apple']), recorded('price', { item: 'apple', qty: 1 }), sigs), [], 'qty=1 filled from the default');
  assert.deepEqual(differences(live('price', ['apple', 4]), price, sigs), ['input qty: recorded 3, now 4']);
  assert.deepEqual(differences(live('discount', [15.5], { code: 'X' }), recorded('discount', { subtotal: 15.5, code: 'X', rate: 0.1 }), sigs), [], 'rate through RATE');
  assert.deepEqual(differences(live('tax', [1.0]), recorded('tax', { amount: 1.0, region: null, tags: tuple(['a', 'b']) }), sigs), [], 'None filled for an Optional; a None default of a plain type is not');
  assert.deepEqual(differences(live('tax', [1.0]), recorded('tax', { amount: 1.0, region: null, note: null, tags: tuple(['a', 'b']) }), sigs), ['input note: recorded None, now not passed (and it has no default)']);
  assert.deepEqual(differences(live('clock', [1.5]), recorded('clock', { when: 1.5, zone: null, fmt: '%H' }), sigs), [], 'a default the debugger cannot evaluate matches what production recorded');
  assert.deepEqual(differences(live('clock', [], { when: 1.5 }), recorded('clock', { when: 1.5, zone: null }), sigs), ["the call does not bind to clock(when: float, /, *, zone: Optional[str] = None, fmt: str = compute_format()): clock() got some positional-only arguments passed as keyword arguments: 'when'"]);
  assert.deepEqual(differences(live('price', ['a', 1, 2]), price, sigs), ['the call does not bind to price(item: str, qty: int = 1): price() takes 2 positional arguments but 3 were given']);
  assert.deepEqual(differences(live('remote', [], { amount: 1.0 }), recorded('remote', { amount: 1.0, memo: '' }), sigs), [], 'a remote handle: the names given are compared; its deployed defaults are not known here');
  assert.match(differences(live('remote', [1.0]), recorded('remote', { amount: 1.0 }), sigs)[0]!, /keyword arguments only .* RemoteTaskUsageError/);
});

test('without a bound recording the old positional matching is unchanged', () => {
  const c: CassetteCall = { seq: 1, function: 'price', args: toWire(['apple', 3]), kwargs: {} };
  assert.deepEqual(differences(live('price', ['apple', 3]), c), []);
  assert.deepEqual(differences(live('price', [], { item: 'apple', qty: 3 }), c), ['number of arguments: recorded 2, now 0', "keyword argument item: recorded (missing), now 'apple'", 'keyword argument qty: recorded (missing), now 3']);
});

test('bindCall reports what Python would refuse', () => {
  const sig = { text: '(a, b=2)', params: [{ name: 'a', kind: 'positional' as const, optional: false }, { name: 'b', kind: 'positional' as const, optional: false, default: { value: 2 } }] };
  assert.deepEqual(bindCall('f', sig, [1], { a: 1 }), { problem: "f() got multiple values for argument 'a'" });
  assert.deepEqual(bindCall('f', sig, [], { c: 1 }), { problem: "f() got an unexpected keyword argument 'c'" });
  const ok = bindCall('f', sig, [1], {});
  assert.ok('inputs' in ok);
  assert.deepEqual([...ok.inputs], [['a', 1], ['b', 2]]);
});

const child = (name: string, fn: string, start: number, end: number, group?: string): DumpChild => ({
  name, kind: 'task', taskName: fn, phase: 'succeeded', startedAt: new Date(start * 1000).toISOString(), endedAt: new Date(end * 1000).toISOString(), ...(group ? { group } : {}),
});
const shape = (children: DumpChild[]) => foldMaps(children, c => c.taskName!).map(f => (f.kind === 'call' ? f.child.name : `map(${f.items.map(i => i.name).join(',')})`));

test('folding flyte_map groups: one group window per map, split where a window that ran side by side starts over; overlapping calls without a group are a map too', () => {
  assert.deepEqual(shape([child('a', 'p', 0, 1), child('b', 'p', 2, 3)]), ['a', 'b'], 'direct calls never overlap');
  assert.deepEqual(shape([child('a', 'p', 0, 5, 'g'), child('b', 'p', 1, 4, 'g'), child('c', 'p', 6, 8, 'g'), child('d', 'p', 6, 9, 'g')]), ['map(a,b)', 'map(c,d)'], 'two maps over one task back to back');
  assert.deepEqual(shape([child('a', 'p', 0, 1, 'g'), child('b', 'p', 2, 3, 'g'), child('c', 'p', 4, 5, 'g')]), ['map(a,b,c)'], 'a sequential map (concurrency 1) stays one');
  assert.deepEqual(shape([child('x', 'q', 0, 1), child('a', 'p', 2, 5, 'g'), child('b', 'p', 2, 4, 'g'), child('y', 'q', 6, 7)]), ['x', 'map(a,b)', 'y']);
  assert.deepEqual(shape([child('a', 'r', 0, 5), child('b', 'r', 1, 6), child('c', 'r', 2, 3), child('d', 'r', 7, 8)]), ['map(a,b,c)', 'd'], 'a map over a remote handle leaves no group: overlap tells');
});

test('a run is named by its name or by its URL as the Flyte UI shows it', () => {
  assert.deepEqual(parseRunRef(' rq7w2k9xb '), { run: 'rq7w2k9xb' });
  assert.deepEqual(parseRunRef('https://flyte.example.com/v2/domain/production/project/shop/runs/r1x2?tab=nodes'), { run: 'r1x2', project: 'shop', domain: 'production', url: 'https://flyte.example.com/v2/domain/production/project/shop/runs/r1x2?tab=nodes' });
  assert.throws(() => parseRunRef('https://flyte.example.com/console/projects/p/executions/x'), /not a run URL/);
  assert.throws(() => parseRunRef('two words'), /not a run name or a run URL/);
});
