/**
 * A runaway sandbox does not make the adapter deaf (issue 11: with a 15 s
 * limit, pause and threads were answered only after 13 s). An instrumented
 * run yields between statements, so it answers itself and pause stops it
 * where it is; an uninstrumented one holds its process, and the adapter
 * answers what only looks from what the runtime last said. The limit here is ten
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

const SPIN = flow(`
    @env.task
    def fib(n: int) -> int: ...

    @env.sandbox.orchestrator
    def spin(n: int) -> int:
        x = fib(n)
        print("about to spin")
        while True:
            x += 1
        return x
  `);

test('while the sandbox spins: threads and stackTrace are answered, pause stops inside the loop with the time it ran, continue goes on', { timeout: 120_000 }, async () => {
  const dir = writeTree({ 'flow.py': SPIN });
  const s = RawDap.spawn();
  sessions.push(s);
  const launched = await s.launch({ type: 'flyte-sandbox', request: 'launch', program: join(dir, 'flow.py'), inputs: { n: 3 }, stubs: { fib: { value: 1 } }, stopOnExternalCall: 'none', limits: { maxDurationSecs: 600 } });
  assert.equal(launched.success, true, launched.message);
  await s.until(() => s.output().includes('about to spin') || undefined);
  const threads = (await s.request('threads')).body as { threads: { id: number; name: string }[] };
  assert.deepEqual(threads.threads, [{ id: 1, name: 'spin (sandbox)' }]);
  assert.equal((await s.request('stackTrace', { threadId: 1 })).success, true);
  // the note on how long it ran is given past a second: wait at least that long (a lower bound, whatever the machine's load)
  await new Promise(r => setTimeout(r, 1500));
  const pause = await s.request('pause', { threadId: 1 });
  assert.equal(pause.success, true, pause.message);
  const stop = await s.event<{ reason: string; description: string }>('stopped');
  assert.equal(stop.reason, 'pause');
  assert.match(stop.description, /^paused in Python code: the sandbox had been running for \d+ s without an external call · line (10|11): /);
  const frames = ((await s.request('stackTrace', { threadId: 1 })).body as { stackFrames: { id: number; name: string; line: number }[] }).stackFrames;
  assert.equal(frames[0]!.name, 'spin');
  assert.ok(frames[0]!.line === 10 || frames[0]!.line === 11, `paused in the loop, at line ${frames[0]!.line}`);
  const scope = ((await s.request('scopes', { frameId: frames[0]!.id })).body as { scopes: { name: string; variablesReference: number }[] }).scopes.find(sc => sc.name === 'Locals')!;
  const vars = ((await s.request('variables', { variablesReference: scope.variablesReference })).body as { variables: { name: string; value: string }[] }).variables;
  assert.ok(Number(vars.find(v => v.name === 'x')!.value) > 1000, 'x has been counting up in the loop: paused where it was, not replayed');
  // and on: it spins again, and the adapter still answers
  assert.equal((await s.request('continue', { threadId: 1 })).success, true);
  assert.equal((await s.request('threads')).success, true);
  assert.equal((await s.request('terminate', {})).success, true);
  await s.event('terminated');
  await s.close();
});

test('an uninstrumented session spinning holds its process: threads, stackTrace, scopes and pause are still answered, terminate ends it', { timeout: 120_000 }, async () => {
  const dir = writeTree({ 'flow.py': SPIN });
  const s = RawDap.spawn();
  sessions.push(s);
  const launched = await s.launch({ type: 'flyte-sandbox', request: 'launch', program: join(dir, 'flow.py'), inputs: { n: 3 }, stubs: { fib: { value: 1 } }, stopOnExternalCall: 'none', instrument: false, limits: { maxDurationSecs: 600 } });
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
  await s.until(() => /the sandbox has been running Python code for \d+ s without an external call, and this session is not instrumented \("instrument": false\): it pauses at the next external call/.test(s.output()) || undefined);
  assert.equal((await s.request('terminate', {})).success, true);
  await s.event('terminated');
  await s.close();
});
