/**
 * Long sandbox runs through the CLI and a debug session: a million calls,
 * ten megabytes of print. They end with their result, and leave nothing.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { flow, writeTree } from '../helpers.ts';
import { assertNoLeftovers } from '../leftovers.ts';
import { RawDap, ROOT } from '../robust/rawDap.ts';

const BIN = join(ROOT, 'bin', 'flyte-sandbox.js');
const PROGRAM = flow(`
  @env.task
  def inc(n: int) -> int: ...

  @env.sandbox.orchestrator
  def calls(n: int) -> int:
      total = 0
      for i in range(n):
          total += inc(i)
      return total

  @env.sandbox.orchestrator
  def chatty(n: int) -> int:
      for i in range(n):
          print("x" * 99)
      return n
`);

after(async () => assertNoLeftovers('the big runs'));

test('CLI: 1,000,000 stubbed calls end with the right total', { timeout: 1_200_000 }, () => {
  const dir = writeTree({ 'flow.py': PROGRAM });
  const r = spawnSync(process.execPath, [BIN, 'run', 'flow.py', '--task', 'calls', '--inputs', '{"n": 1000000}', '--stubs', '{"inc": {"value": 1}}'], { cwd: dir, encoding: 'utf8', maxBuffer: 1024 * 1024 * 1024 });
  assert.equal(r.status, 0, r.stderr.slice(-2000));
  assert.match(r.stdout, /result: 1000000\n$/);
});

test('CLI and debug session: 10 MB of print arrives whole', { timeout: 600_000 }, async () => {
  const dir = writeTree({ 'flow.py': PROGRAM });
  const r = spawnSync(process.execPath, [BIN, 'run', 'flow.py', '--task', 'chatty', '--inputs', '{"n": 100000}'], { cwd: dir, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  assert.equal(r.status, 0, r.stderr.slice(-2000));
  assert.equal(r.stdout.split('\n').filter(l => l === 'x'.repeat(99)).length, 100_000);
  const s = RawDap.spawn();
  assert.equal((await s.launch({ type: 'flyte-sandbox', request: 'launch', program: join(dir, 'flow.py'), task: 'chatty', inputs: { n: 100000 }, stopOnExternalCall: 'none' })).success, true);
  await s.event('terminated');
  const printed = s.messages.filter(m => m.type === 'event' && (m as { event: string }).event === 'output' && (m as { body: { category?: string } }).body.category === 'stdout').map(m => (m as { body: { output: string } }).body.output).join('');
  assert.equal(printed.length, 100_000 * 100);
  await s.close();
});
