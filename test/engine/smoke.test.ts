import assert from 'node:assert/strict';
import { test } from 'node:test';
import { flow, runTask } from '../helpers.ts';

test('a decorated task runs on real Monty with stubbed externals', async () => {
  const r = await runTask(flow(`
@env.task
def fib(n: int) -> int: ...

@env.sandbox.orchestrator
def pipe(n: int) -> int:
    return fib(n) + 1
`), { fib: { value: 55 } }, { inputs: { n: 10 } });
  assert.equal(r.status, 'ok', JSON.stringify(r.error));
  assert.equal(r.output, 56);
  assert.deepEqual(r.calls.map(c => [c.function, c.args, c.result, c.source]), [['fib', [10], 55, 'stub']]);
});
