import assert from 'node:assert/strict';
import { test } from 'node:test';
import { callToWire, fromWire, fromWireOwned, toWire, toWireNow } from '../../engine/values/wire.ts';
import { isTuple, tuple } from '../../engine/values/python.ts';
import { exceptionValue } from '../../engine/values/exceptions.ts';

test('the IPC shortcuts of the wire encoding give the values the full encoding gives, tuples included', () => {
  const values: unknown[] = [
    1, 'a', null, true, NaN, -Infinity, 10n ** 30n, [], [1, 'x', null], [1, [2]], tuple([1, 2]), tuple([1, [2]]), tuple([]),
    new Map<unknown, unknown>([['k', 1], [2, tuple([3])]]), { a: 1 }, new Set([1]), Buffer.from('b'), exceptionValue('ValueError', 'v'), { $tuple: 1 }, [{ $tuple: [1] }],
  ];
  for (const v of values) {
    const full = fromWire(JSON.parse(JSON.stringify(toWire(v))));
    const quick = fromWireOwned(JSON.parse(JSON.stringify(toWireNow(v))));
    assert.deepEqual(quick, full, `for ${String(v)}`);
    assert.equal(isTuple(quick), isTuple(full), `tuple-ness of ${String(v)}`);
  }
  const list = [1, 2, 3];
  assert.equal(toWireNow(list), list, 'a list of plain values goes as it is');
});

test('a call whose arguments cannot be encoded says which call and where they were going', () => {
  assert.deepEqual(callToWire({ function: 'f', args: [1, tuple([2])], kwargs: { k: 'v' } }, 'Python'), { args: [1, { $tuple: [2] }], kwargs: { k: 'v' } });
  const refused = callToWire({ function: 'f', args: [() => 1], kwargs: {} }, 'the cluster');
  assert.ok('error' in refused);
  assert.match(refused.error, /^the arguments of f\(\) cannot be sent to the cluster: cannot encode a \[object Function\]/);
});
