/**
 * The forward worker killed from outside, writing junk to its stdout, or
 * hanging: the call fails with a message saying which, through the CLI, and
 * no process is left (the engine-level cases are in test/engine/forward.test.ts).
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { flow, writeTree } from '../helpers.ts';
import { assertNoLeftovers, leftovers } from '../leftovers.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const BIN = join(ROOT, 'bin', 'flyte-sandbox.js');
const PROGRAM = flow(`
  import os
  import time

  @env.task
  def hang() -> int:
      time.sleep(3600)
      return 1

  @env.task
  def junk() -> int:
      os.write(1, b"not a protocol line\\n")
      return 1

  @env.sandbox.orchestrator
  def killed(n: int) -> int:
      return hang()

  @env.sandbox.orchestrator
  def noisy(n: int) -> int:
      return junk()
`);

function workspace(): string {
  return writeTree({ 'flow.py': PROGRAM, 'flyte.py': readFileSync(join(ROOT, 'test', 'fixtures', 'forward', 'flyte.py'), 'utf8') });
}

after(async () => assertNoLeftovers('the forward worker tests'));

test('the Python worker killed with SIGKILL during a call: the call fails saying so, the CLI ends, nothing is left', { timeout: 120_000 }, async () => {
  const dir = workspace();
  const child = spawn(process.execPath, [BIN, 'run', 'flow.py', '--task', 'killed', '--inputs', '{"n": 1}', '--forward', 'all', '--forward-timeout', '0'], { cwd: dir, env: { ...process.env, CI: 'true' } });
  let stdout = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  let worker: { pid: number } | undefined;
  while (!(worker = leftovers().find(p => /forward_worker\.py/.test(p.cmd)))) await new Promise(r => setTimeout(r, 50));
  process.kill(worker.pid, 'SIGKILL');
  const code = await new Promise(r => child.once('exit', r));
  assert.equal(code, 1);
  assert.match(stdout, /ForwardError: the Python worker was killed by SIGKILL while running hang\(\)/);
  await assertNoLeftovers('a killed worker');
});

test('junk on the worker\'s stdout fails the call naming it', { timeout: 120_000 }, () => {
  const dir = workspace();
  const r = spawnSync(process.execPath, [BIN, 'run', 'flow.py', '--task', 'noisy', '--inputs', '{"n": 1}', '--forward', 'all'], { cwd: dir, encoding: 'utf8', env: { ...process.env, CI: 'true' } });
  assert.equal(r.status, 1, r.stderr);
  assert.match(r.stdout, /ForwardError: the Python worker wrote something that is not a protocol message to its stdout: "not a protocol line"/);
});
