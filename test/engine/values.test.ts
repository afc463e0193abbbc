import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';
import { Monty } from '@pydantic/monty';
import { parseJson, pyRepr, toJson } from '../../engine/index.ts';
import { fromWire, toWire, type Wire } from '../../engine/values/wire.ts';

test('pyRepr matches CPython\'s repr for what Monty hands over', () => {
  const exprs = ['None', 'True', '"it\'s"', "'a\\nb\\t\\x01'", '(1,)', '()', '[1, (2, "x")]', '{1: [None], "k": -2}', 'set()', '{3}',
    'b"a\\x00\'"', "b'q\"'", '2**70', '1.5', '1e-7', '-0.25', 'ValueError("m")', '"\u00e9\u4e2d"'];
  const script = `import sys\nfor e in sys.argv[1:]:\n    print(repr(eval(e)))`;
  const want = execFileSync('python3', ['-c', script, ...exprs], { encoding: 'utf8' }).trimEnd().split('\n');
  exprs.forEach((expr, i) => assert.equal(pyRepr(new Monty(expr).run()), want[i], expr));
});

test('JSON in keeps key order and big integers; JSON out turns tuples and sets into arrays', () => {
  const v = parseJson('{"b": 1, "2": [1, 2], "a": 12345678901234567890}') as Map<string, unknown>;
  assert.deepEqual([...v.keys()], ['b', '2', 'a']);
  assert.equal(v.get('a'), 12345678901234567890n);
  assert.throws(() => parseJson('{"a": 1,}'), /expected a string key at line 1 column 9/);
  assert.throws(() => parseJson('[1 2]'), /expected ',' or ']' at line 1 column 4/);
  const out = new Monty('{"t": (1, 2), "s": {3}, 1: None, "big": 2**64, "e": KeyError("k")}').run();
  assert.equal(toJson(out), '{"t":[1,2],"s":[3],"1":null,"big":18446744073709551616,"e":{"__exception__":"KeyError","message":"k"}}');
});

test('the wire encoding round-trips every kind of Monty value through plain JSON', () => {
  const value = new Monty('[(1, "a"), {3: None, "2": b"\\x00\\xff", "$x": {1, 2}}, 2**80, float("nan"), -float("inf"), 1.5, {"k": ()}, KeyError("m"), [], {}]').run();
  const text = JSON.stringify(toWire(value));
  const back = fromWire(JSON.parse(text) as Wire);
  assert.equal(pyRepr(back), pyRepr(value));
  const echoed = new Monty('x', { inputs: ['x'] }).run({ inputs: { x: back } });
  assert.equal(pyRepr(echoed), pyRepr(value), 'what comes off the wire is accepted by Monty as the same value');
  assert.equal(text.includes('"k":{"$tuple":[]}'), true, 'string-keyed dicts stay readable objects');
});
