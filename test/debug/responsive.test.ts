import assert from 'node:assert/strict';
import { spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { DebugClient } from '@vscode/debugadapter-testsupport';
import { flow, writeTree } from '../helpers.ts';
import { ADAPTER } from './dapClient.ts';

const ROOT = join(import.meta.dirname, '..', '..');
before(() => {
  if (!existsSync(ADAPTER)) spawnSync(process.execPath, [join(ROOT, 'scripts', 'build.mjs')], { cwd: ROOT, stdio: 'inherit' });
});

function children(pid: number): number[] {
  return readdirSync(`/proc/${pid}/task`).flatMap(t => readFileSync(`/proc/${pid}/task/${t}/children`, 'utf8').split(' ').filter(Boolean).map(Number));
}

test('threads is answered while the runtime child cannot answer anything (stopped with SIGSTOP): the adapter stays responsive', async () => {
  const dir = writeTree({ 'flow.py': flow(`
    @env.task
    def count(n: int) -> int: ...

    @env.sandbox.orchestrator
    def big(rows: list) -> int:
        return count(len(rows))
  `) });
  const dc = new DebugClient('node', ADAPTER, 'flyte-sandbox');
  dc.defaultTimeout = 15_000;
  await dc.start();
  try {
    await dc.initializeRequest({ adapterID: 'flyte-sandbox', pathFormat: 'path', linesStartAt1: true, columnsStartAt1: true });
    const [runtime] = children((dc as unknown as { _adapterProcess: ChildProcess })._adapterProcess.pid!);
    assert.ok(runtime, 'the runtime child process');
    process.kill(runtime, 'SIGSTOP');
    try {
      // before launch, while the child is stopped: answered from what the adapter knows
      assert.deepEqual((await dc.threadsRequest()).body.threads.map(t => t.name), ['sandbox (sandbox)']);
    } finally {
      process.kill(runtime, 'SIGCONT');
    }
    const stopped = dc.waitForEvent('stopped');
    const launched = dc.launchRequest({ program: join(dir, 'flow.py'), task: 'big', inputs: { rows: [1, 2, 3] }, stubs: { count: { python: 'args[0]' } }, stopOnExternalCall: 'all' } as never);
    await dc.waitForEvent('initialized');
    await dc.configurationDoneRequest();
    await launched;
    await stopped;
    process.kill(runtime, 'SIGSTOP');
    try {
      assert.deepEqual((await dc.threadsRequest()).body.threads.map(t => t.name), ['big (sandbox)']);
    } finally {
      process.kill(runtime, 'SIGCONT');
    }
    const ended = dc.waitForEvent('terminated');
    await dc.continueRequest({ threadId: 1 });
    await ended;
  } finally {
    await dc.stop();
  }
});

test('inputs too large for one DAP message are left out of the launched event, which says so; the session goes on', async () => {
  // about 2.8 MB of JSON
  const rows = Array.from({ length: 50_000 }, (_, i) => ({ id: i, name: `row number ${i}`, tags: ['a', 'b'] }));
  const dir = writeTree({
    'flow.py': flow(`
      @env.task
      def count(n: int) -> int: ...

      @env.sandbox.orchestrator
      def big(rows: list) -> int:
          return count(len(rows))
    `),
    'big.json': JSON.stringify({ rows }),
    'small.json': JSON.stringify({ rows: rows.slice(0, 3) }),
  });
  for (const [inputs, omitted] of [['big.json', true], ['small.json', false]] as const) {
    const dc = new DebugClient('node', ADAPTER, 'flyte-sandbox');
    dc.defaultTimeout = 60_000;
    await dc.start();
    try {
      await dc.initializeRequest({ adapterID: 'flyte-sandbox', pathFormat: 'path', linesStartAt1: true, columnsStartAt1: true });
      const event = dc.waitForEvent('flyteSandbox/launched');
      const ended = dc.waitForEvent('terminated');
      const launched = dc.launchRequest({ program: join(dir, 'flow.py'), task: 'big', inputs: join(dir, inputs), stubs: { count: { python: 'args[0]' } }, stopOnExternalCall: 'none' } as never);
      const body = (await event).body as { task: string; inputs: { rows: unknown[] } | null; inputsOmitted?: string };
      assert.equal(body.task, 'big');
      if (omitted) {
        assert.equal(body.inputs, null);
        assert.match(body.inputsOmitted!, /larger than 2 MB/);
      } else {
        assert.deepEqual(body.inputs, { rows: rows.slice(0, 3) });
        assert.equal(body.inputsOmitted, undefined);
      }
      await dc.configurationDoneRequest();
      await launched;
      await ended;
    } finally {
      await dc.stop();
    }
  }
});
