/**
 * A runaway sandbox does not make the adapter deaf (issue 11: with a 15 s
 * limit, pause and threads were answered only after 13 s). Requests that
 * only look are answered from what the runtime last said; pause is
 * stops the run where it is (the run is replayed there in a fresh child). The limit here is ten
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
  // pause: the child is replaced by one that replays the run to the loop and stops there
  const pause = await s.request('pause', { threadId: 1 });
  assert.equal(pause.success, true, pause.message);
  const stop = await s.event<{ reason: string; description: string }>('stopped');
  assert.equal(stop.reason, 'pause');
  assert.match(stop.description, /^paused: the sandbox had been running Python code for \d+ s without an external call ; replayed to the loop it was in, stopped at its first repeat \(the iteration it had reached is not known\) · line (9|10): /);
  assert.match(s.output(), /pausing: the sandbox has been running Python code for \d+ s without an external call, so its process cannot stop by itself; the debugger stops it and replays the run \(1 recorded call, the same results\) to where it was/);
  assert.equal(s.output().split('about to spin').length - 1, 1, 'what the sandbox printed is shown once, not again by the replay');
  const paused = ((await s.request('stackTrace', { threadId: 1 })).body as { stackFrames: { id: number; name: string; line: number }[] }).stackFrames;
  assert.equal(paused[0]!.name, 'spin');
  assert.ok(paused[0]!.line === 9 || paused[0]!.line === 10, `paused in the loop, at line ${paused[0]!.line}`);
  const scope = ((await s.request('scopes', { frameId: paused[0]!.id })).body as { scopes: { name: string; variablesReference: number }[] }).scopes.find(sc => sc.name === 'Locals')!;
  const vars = ((await s.request('variables', { variablesReference: scope.variablesReference })).body as { variables: { name: string; value: string }[] }).variables;
  assert.ok(Number(vars.find(v => v.name === 'x')!.value) >= 1, 'x as the replayed loop has it');
  const calls = new Map<number, string>();
  for (const m of s.messages) if (m.type === 'event' && (m as { event: string }).event === 'flyteSandbox/calls') for (const c of (m as unknown as { body: { calls: { seq: number; function: string }[] } }).body.calls) calls.set(c.seq, c.function);
  assert.deepEqual([...calls], [[1, 'fib']], 'the recorded call was replayed, not made twice');
  // and on: it spins again, and the adapter still answers
  assert.equal((await s.request('continue', { threadId: 1 })).success, true);
  assert.equal((await s.request('threads')).success, true);
  assert.equal((await s.request('terminate', {})).success, true);
  await s.event('terminated');
  await s.close();
});
