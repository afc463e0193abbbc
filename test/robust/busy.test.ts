/**
 * A runaway sandbox does not make the adapter deaf (issue 11: with a 15 s
 * limit, pause and threads were answered only after 13 s). Requests that
 * only look are answered from what the runtime last said; pause is
 * answered at once and says what it will do. The limit here is ten
 * minutes: before the fix these requests would wait for it, so the test
 * could only pass by their being answered while the sandbox spins.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { flow, writeTree } from '../helpers.ts';
import { assertNoLeftovers } from '../leftovers.ts';
import { RawDap } from './rawDap.ts';

const sessions: RawDap[] = [];
after(async () => {
  for (const s of sessions) if (!s.exit) s.kill();
  await assertNoLeftovers('the busy-sandbox test');
});

test('while the sandbox spins: threads, stackTrace, scopes and pause are answered, terminate ends it', { timeout: 120_000 }, async () => {
  const dir = writeTree({ 'flow.py': flow(`
    @env.task
    def fib(n: int) -> int: ...

    @env.sandbox.orchestrator
    def spin(n: int) -> int:
        x = fib(n)
        print("about to spin")
        while True:
            x += 1
        return x
  `) });
  const s = RawDap.spawn();
  sessions.push(s);
  const launched = await s.launch({ type: 'flyte-sandbox', request: 'launch', program: join(dir, 'flow.py'), inputs: { n: 3 }, stubs: { fib: { value: 1 } }, stopOnExternalCall: 'none', limits: { maxDurationSecs: 600 } });
  assert.equal(launched.success, true, launched.message);
  // Until the adapter notices its child is held, answers come from the child itself; then from the adapter.
  let frames: { name: string; line: number }[] = [];
  while (!frames[0]?.name.startsWith('running Python code')) frames = ((await s.request('stackTrace', { threadId: 1 })).body as { stackFrames: typeof frames }).stackFrames;
  assert.match(frames[0]!.name, /^running Python code \(\d+ s without an external call\)$/);
  const threads = (await s.request('threads')).body as { threads: { id: number; name: string }[] };
  assert.deepEqual(threads.threads, [{ id: 1, name: 'spin (sandbox)' }]);
  const scopes = await s.request('scopes', { frameId: 1000 });
  assert.equal(scopes.success, true, scopes.message);
  const pause = await s.request('pause', { threadId: 1 });
  assert.equal(pause.success, true, pause.message);
  await s.until(() => /the sandbox has been running Python code for \d+ s without an external call: it pauses at the next one/.test(s.output()) || undefined);
  assert.equal((await s.request('terminate', {})).success, true);
  await s.event('terminated');
  await s.close();
});
