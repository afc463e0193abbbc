/**
 * Children die with their parent, whatever ends it (issue 11: a runtime
 * child at 98 % CPU still running after the adapter was gone, a Python
 * worker orphaned for good by Ctrl-C of the CLI). Every case here leaves a
 * process busy in the worst place (the sandbox spinning, a forwarded call
 * burning CPU or hanging, a call paused) and checks that none survives.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { flow, writeTree } from '../helpers.ts';
import { assertNoLeftovers, leftovers } from '../leftovers.ts';
import { RawDap, ROOT } from './rawDap.ts';

const BIN = join(ROOT, 'bin', 'flyte-sandbox.js');

const PROGRAM = flow(`
  import time

  @env.task
  def burn() -> int:
      while True:
          pass

  @env.task
  def hang() -> int:
      time.sleep(3600)
      return 1

  @env.task
  def fib(n: int) -> int:
      return n

  @env.sandbox.orchestrator
  def spin(n: int) -> int:
      x = fib(n)
      while True:
          x += 1
      return x

  @env.sandbox.orchestrator
  def burning(n: int) -> int:
      return fib(n) + burn()

  @env.sandbox.orchestrator
  def hanging(n: int) -> int:
      return fib(n) + hang()
`);

function workspace(): string {
  return writeTree({ 'flow.py': PROGRAM, 'flyte.py': readFileSync(join(ROOT, 'test', 'fixtures', 'forward', 'flyte.py'), 'utf8') });
}

after(async () => assertNoLeftovers('the lifetime tests'));

/** Wait until `probe` holds, re-checking on a short beat: what is awaited is a process appearing, which announces itself nowhere. */
async function until(what: string, probe: () => boolean): Promise<void> {
  while (!probe()) await new Promise(r => setTimeout(r, 50));
  void what;
}

const python = () => leftovers().filter(p => /forward_worker\.py/.test(p.cmd));
const sandboxChild = () => leftovers().filter(p => /runtimeHost\.js|sandboxHost\.js/.test(p.cmd));

type End = 'stdin EOF' | 'SIGTERM' | 'SIGKILL';

/** The adapter with a session in `state`, ended by `end`: nothing of it may remain. */
async function adapterCase(task: string, forward: boolean, state: 'running' | 'paused', end: End): Promise<void> {
  const dir = workspace();
  const s = RawDap.spawn();
  const r = await s.launch({ type: 'flyte-sandbox', request: 'launch', program: join(dir, 'flow.py'), task, inputs: { n: 1 }, ...(forward ? { forward: 'all', forwardTimeout: 0 } : { stubs: { fib: { value: 1 } } }), ...(task === 'spin' ? { instrument: false } : {}), stopOnExternalCall: state === 'paused' ? 'all' : 'none' });
  assert.equal(r.success, true, r.message);
  if (state === 'paused') await s.event('stopped');
  else if (forward) await until('the forwarded call running in Python', () => python().length === 1);
  else {
    // Uninstrumented, the sandbox spinning holds its process (an instrumented one yields between statements);
    // the adapter sees its child stop answering and says so in the stack.
    for (;;) {
      const frames = (await s.request('stackTrace', { threadId: 1 })).body as { stackFrames?: { name: string }[] } | undefined;
      if (frames?.stackFrames?.[0]?.name.startsWith('running Python code')) break;
      await new Promise(r => setTimeout(r, 100));
    }
  }
  assert.equal(sandboxChild().length, 1, 'the runtime child runs');
  if (end === 'stdin EOF') await s.close();
  else s.kill(end);
  await s.exited;
  await assertNoLeftovers(`the adapter ended by ${end} (${task}, ${state}${forward ? ', forwarding' : ''})`);
}

for (const end of ['stdin EOF', 'SIGTERM', 'SIGKILL'] as End[]) {
  test(`adapter ended by ${end} while the sandbox spins: its runtime child goes too`, { timeout: 120_000 }, () => adapterCase('spin', false, 'running', end));
  test(`adapter ended by ${end} while a forwarded call burns CPU: the runtime child and the Python worker go too`, { timeout: 120_000 }, () => adapterCase('burning', true, 'running', end));
  test(`adapter ended by ${end} while paused at a call: nothing is left`, { timeout: 120_000 }, () => adapterCase('hanging', true, 'paused', end));
}

test('adapter: a forwarded call that hangs, and a session ended by disconnect, leave nothing', { timeout: 120_000 }, async () => {
  const dir = workspace();
  const s = RawDap.spawn();
  await s.launch({ type: 'flyte-sandbox', request: 'launch', program: join(dir, 'flow.py'), task: 'hanging', inputs: { n: 1 }, forward: 'all', forwardTimeout: 0, stopOnExternalCall: 'none' });
  await until('the forwarded call hanging in Python', () => python().length === 1);
  assert.equal((await s.request('disconnect', {})).success, true);
  await until('the runtime child and the worker gone', () => sandboxChild().length === 0 && python().length === 0);
  assert.equal(s.exit, undefined, 'the adapter itself is still up until the client closes it');
  await s.close();
  await assertNoLeftovers('disconnect during a hanging forwarded call');
});

for (const signal of ['SIGINT', 'SIGTERM', 'SIGKILL'] as const) {
  test(`CLI killed by ${signal} during a forwarded call that burns CPU: the sandbox child and the Python worker go too`, { timeout: 120_000 }, async () => {
    const dir = workspace();
    const child = spawn(process.execPath, [BIN, 'run', 'flow.py', '--task', 'burning', '--inputs', '{"n": 1}', '--forward', 'all', '--forward-timeout', '0'], { cwd: dir, stdio: 'ignore', env: { ...process.env, CI: 'true' } });
    await until('the forwarded call burning CPU in Python', () => python().length === 1);
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>(resolve => child.once('exit', (code, sig) => resolve({ code, signal: sig })));
    child.kill(signal);
    const how = await exited;
    if (signal !== 'SIGKILL') assert.deepEqual(how, { code: signal === 'SIGINT' ? 130 : 143, signal: null }, 'the CLI exits like a killed process, after ending its children');
    await assertNoLeftovers(`the CLI killed by ${signal}`);
  });
}
