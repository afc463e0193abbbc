import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { resolveLimits, SandboxProcess, type CallOutcome, type ExternalCall, type Resolver } from '../../engine/index.ts';
import { flow, writeTree } from '../helpers.ts';

const FLOW = flow(`
  @env.task
  def fib(n: int) -> int: ...

  @env.sandbox.orchestrator
  def t(n: int) -> tuple:
      print("start")
      xs = flyte_map("fib", [n, n + 1])
      return (fib(n), xs, {1: b"x"})
`);

function file(source = FLOW): string {
  return join(writeTree({ 'flow.py': source }), 'flow.py');
}

test('a run in the child process gives the same result, calls and output as in process', async () => {
  const run = new SandboxProcess({ file: file(), inputs: { n: 3 }, stubs: { fib: { python: 'args[0] * 2' } } });
  const seen: string[] = [];
  run.on('result', r => seen.push(`${r.function}:${r.status}`));
  run.on('output', t => (seen.at(-1)?.startsWith('out:') ? (seen[seen.length - 1] += t) : seen.push(`out:${t}`)));
  const r = await run.execute();
  assert.equal(r.status, 'ok', JSON.stringify(r.error));
  const out = r.output as unknown[];
  assert.equal(out[0], 6);
  assert.deepEqual(out[1], [6, 8]);
  assert.deepEqual([...(out[2] as Map<unknown, unknown>).entries()], [[1, Buffer.from('x')]]);
  assert.deepEqual(seen, ['out:start\n', 'fib:returned', 'fib:returned', 'flyte_map:returned', 'fib:returned']);
  assert.deepEqual(r.calls.map(c => [c.seq, c.function, c.mapParent, c.result]), [[1, 'flyte_map', undefined, [6, 8]], [2, 'fib', 1, 6], [3, 'fib', 1, 8], [4, 'fib', undefined, 6]]);
});

test('the parent answers the calls it asks for over IPC, and can probe where the sandbox is paused', async () => {
  const holder: { run?: SandboxProcess } = {};
  const asked: string[] = [];
  const resolver: Resolver = {
    source: 'interactive',
    async resolve(call: ExternalCall): Promise<CallOutcome | undefined> {
      asked.push(`${call.function}(${String(call.args[0])}) map=${String(call.mapIndex)}`);
      if (call.mapIndex === undefined) {
        const where = await holder.run!.probe();
        assert.equal(where!.frames.at(-1)!.sourceLine, 'return (fib(n), xs, {1: b"x"})');
        return { kind: 'return', value: 100, source: 'interactive' };
      }
      return undefined;
    },
  };
  const run = new SandboxProcess({ file: file(), inputs: { n: 1 }, stubs: { fib: { value: 7 } }, resolver, ask: ['fib'] });
  holder.run = run;
  const r = await run.execute();
  assert.equal(r.status, 'ok', JSON.stringify(r.error));
  assert.deepEqual(asked, ['fib(1) map=0', 'fib(2) map=1', 'fib(1) map=undefined']);
  assert.equal((r.output as unknown[])[0], 100);
  assert.deepEqual(r.calls.map(c => c.source), ['flyte_map', 'stub', 'stub', 'interactive']);
});

test('usage errors reject; sandbox failures resolve with the mapped traceback', async () => {
  await assert.rejects(new SandboxProcess({ file: file(), task: 'nope' }).execute(), /no sandboxed task 'nope'/);
  const r = await new SandboxProcess({ file: file(), inputs: { n: 1 }, stubs: { fib: { raise: 'KeyError: k' } } }).execute();
  assert.equal(r.error!.type, 'KeyError');
  assert.equal(r.error!.frames.at(-1)!.line, 10);
});

test('the watchdog kills a child that stops answering; stop() ends a waiting run', async () => {
  // A stub expression that spins keeps the child's event loop busy past the tolerance; only the
  // watchdog can end it (the loop would take years), so no clock needs checking here.
  const spin = { fib: { python: 'len([1 for i in range(10**7) for j in range(10**7) if False])' } };
  const r = await new SandboxProcess({ file: file(), inputs: { n: 1 }, stubs: spin, limits: resolveLimits({ maxDurationSecs: 0.5 }), graceMs: 500 }).execute();
  assert.equal(r.error!.type, 'TimeoutError');
  assert.match(r.error!.message, /did not answer for \d+ s and was killed/);

  const waiting = new SandboxProcess({ file: file(), inputs: { n: 1 }, resolver: { source: 'interactive', resolve: () => new Promise(() => undefined) } });
  const pending = waiting.execute();
  setTimeout(() => waiting.stop(), 300);
  const stopped = await pending;
  assert.equal(stopped.error!.origin, 'stopped');
});

test('keepCalls: false passes every record to the listeners once finished and keeps none', async () => {
  const run = new SandboxProcess({ file: file(), inputs: { n: 3 }, stubs: { fib: { python: 'args[0] * 2' } }, keepCalls: false });
  const started: number[] = [];
  const finished: string[] = [];
  run.on('call', r => started.push(r.seq));
  run.on('result', r => finished.push(`${r.seq}:${r.function}:${r.status}:${JSON.stringify(r.result)}`));
  const r = await run.execute();
  assert.equal(r.status, 'ok', JSON.stringify(r.error));
  assert.deepEqual(r.calls, []);
  assert.deepEqual([...started].sort(), [1, 2, 3, 4]);
  assert.deepEqual(finished, ['2:fib:returned:6', '3:fib:returned:8', '1:flyte_map:returned:[6,8]', '4:fib:returned:6']);
});
