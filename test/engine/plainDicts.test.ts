import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Monty } from '@pydantic/monty';
import { withPlainDicts } from '../../engine/values/plainDicts.ts';
import { exceptionValue } from '../../engine/values/exceptions.ts';
import { isTuple, tuple } from '../../engine/values/python.ts';

const REPR = 'out = [repr(v), [type(x).__name__ for x in v], [list(x.keys()) for x in v if type(x).__name__ == "dict"]]\nout';

test('Maps with plain string keys go to Monty as objects: the same dicts, in the same order', () => {
  const inner = new Map<unknown, unknown>([['z', 1], ['y', tuple([1, new Map([['k', 'v']])])]]);
  const value = [
    new Map<unknown, unknown>([['b', 1], ['a', [1, 2]], ['c', inner], ['__proto__', 'p'], ['', null]]),
    new Map<unknown, unknown>([['2', 'two'], ['1', 'one']]),
    new Map<unknown, unknown>([[1, 'int key'], [tuple([1, 2]), 'tuple key'], ['s', new Map([['x', 1]])]]),
    { plain: new Map([['m', 1]]) },
    exceptionValue('ValueError', 'bad'),
    Buffer.from('b'),
    new Set([1, 2]),
    tuple([new Map([['t', 1]])]),
  ];
  const converted = withPlainDicts(value) as unknown[];
  const run = (v: unknown) => new Monty(REPR, { inputs: ['v'] }).run({ inputs: { v } });
  assert.deepEqual(run(converted), run(value));
  const [first, intLike, typed, plain, exc, bytes, set, tup] = converted as [Record<string, unknown>, unknown, Map<unknown, unknown>, Record<string, unknown>, unknown, unknown, unknown, unknown[]];
  assert.equal(Object.getPrototypeOf(first), Object.prototype);
  assert.deepEqual(Object.keys(first), ['b', 'a', 'c', '__proto__', '']);
  assert.ok(intLike instanceof Map, 'integer-like keys: an object would reorder them');
  assert.ok(typed instanceof Map && !(typed.get('s') instanceof Map), 'a Map kept for its keys still has its values converted');
  assert.ok(!(plain.plain instanceof Map));
  assert.equal(exc, value[4]);
  assert.equal(bytes, value[5]);
  assert.equal(set, value[6]);
  assert.ok(isTuple(tup) && !(tup[0] instanceof Map));
  assert.ok(value[0] instanceof Map, 'the input is not changed');
});

test('values with nothing to convert are returned as they are', () => {
  const v = [1, 'a', [2, { k: [3] }], null];
  assert.equal(withPlainDicts(v), v);
  assert.equal(withPlainDicts(5), 5);
});
