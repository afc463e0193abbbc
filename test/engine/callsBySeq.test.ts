import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CallsBySeq } from '../../engine/host/callsBySeq.ts';
import { CallRecord } from '../../engine/run/outcome.ts';

const rec = (seq: number, status: CallRecord['status'] = 'returned') => {
  const r = new CallRecord(seq, 'f', [seq], {}, 0, undefined, undefined, 0);
  r.status = status;
  return r;
};

test('CallsBySeq keeps the latest version of each call, in seq order', () => {
  const calls = new CallsBySeq();
  const first = rec(2, 'pending');
  calls.set(rec(1));
  calls.set(first);
  calls.set(rec(3));
  const latest = rec(2);
  calls.set(latest);
  assert.equal(calls.size, 3);
  assert.equal(calls.get(2), latest);
  assert.equal(calls.get(4), undefined);
  assert.deepEqual(calls.values().map(r => r.seq), [1, 2, 3]);
});

test('CallsBySeq forgets the calls from a rewound seq on, and takes new ones there', () => {
  const calls = new CallsBySeq();
  for (let s = 1; s <= 5; s++) calls.set(rec(s));
  calls.dropFrom(3);
  assert.equal(calls.size, 2);
  assert.deepEqual(calls.values().map(r => r.seq), [1, 2]);
  assert.equal(calls.get(4), undefined);
  calls.dropFrom(10);
  assert.equal(calls.size, 2);
  calls.set(rec(3));
  assert.equal(calls.size, 3);
  calls.dropFrom(1);
  assert.equal(calls.size, 0);
  assert.deepEqual(calls.values(), []);
});

test('CallsBySeq holds calls out of order (flyte_map items finish in any order)', () => {
  const calls = new CallsBySeq();
  calls.set(rec(4));
  calls.set(rec(2));
  assert.equal(calls.size, 2);
  assert.deepEqual(calls.values().map(r => r.seq), [2, 4]);
});
