/**
 * The stdio adapter starts its runtime child before it loads the rest of
 * itself (debug-adapter/boot.ts): the session takes that child over, and a
 * client that goes away without a request leaves no process behind.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, test } from 'node:test';
import { flow, writeTree } from '../helpers.ts';
import { assertNoLeftovers, leftovers } from '../leftovers.ts';
import { ADAPTER, RawDap } from './rawDap.ts';

after(() => assertNoLeftovers('the prestart tests'));

async function until(what: string, ok: () => boolean): Promise<void> {
  for (let i = 0; i < 600 && !ok(); i++) await new Promise(r => setTimeout(r, 50));
  assert.ok(ok(), what);
}

test('a client that closes stdin before any request leaves neither the adapter nor its runtime child', async () => {
  const adapter = spawn(process.execPath, [ADAPTER], { stdio: ['pipe', 'pipe', 'pipe'] });
  const exited = new Promise(r => adapter.on('exit', r));
  await until('the runtime child is started before any request', () => leftovers().some(p => p.cmd.includes('runtimeHost.js')));
  adapter.stdin.end();
  await exited;
  await assertNoLeftovers('the adapter exited', 10_000);
});

test('the session runs on the child started ahead, and only one child is started', async () => {
  const dir = writeTree({ 'flow.py': flow(`
    @env.task
    def fib(n: int) -> int: ...

    @env.sandbox.orchestrator
    def main(n: int) -> int:
        return fib(n) + 1
  `) });
  const s = RawDap.spawn();
  await s.request('initialize', { adapterID: 'flyte-sandbox', linesStartAt1: true, columnsStartAt1: true, pathFormat: 'path' });
  const launched = s.request('launch', { program: `${dir}/flow.py`, inputs: { n: 2 }, stubs: { fib: { value: 40 } }, stopOnExternalCall: 'none' });
  await s.event('initialized');
  await s.request('configurationDone');
  await launched;
  const result = await s.event<{ output: string }>('flyteSandbox/result');
  assert.equal(result.output, '41');
  assert.equal(leftovers().filter(p => p.cmd.includes('runtimeHost.js')).length, 1);
  await s.close();
});
