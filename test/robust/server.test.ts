/**
 * --server and --socket: one client's bad requests end at most its own
 * session (issue 11: they ended the process, every other session with it,
 * and new connections were refused); a Unix socket only its owner can use.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { writeTree } from '../helpers.ts';
import { assertNoLeftovers } from '../leftovers.ts';
import { ADAPTER, FIXTURE, RawDap, STUBS } from './rawDap.ts';

after(async () => assertNoLeftovers('the server tests'));

const LAUNCH = { type: 'flyte-sandbox', request: 'launch', program: FIXTURE, inputs: { n: 1, path: 'p' }, stubs: STUBS };

/** An adapter serving with `args`; resolves once it says where it listens. */
async function serve(args: string[]): Promise<{ server: ChildProcessWithoutNullStreams; where: string; stderr: () => string; stop: () => Promise<void> }> {
  const server = spawn(process.execPath, [ADAPTER, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  const where = await new Promise<string>((resolve, reject) => {
    server.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      const m = /listening on (\S+)/.exec(stderr);
      if (m) resolve(m[1]!);
    });
    server.once('exit', code => reject(new Error(`the adapter exited with ${code}: ${stderr}`)));
  });
  return {
    server, where, stderr: () => stderr,
    stop: async () => {
      if (server.exitCode !== null) return;
      server.kill('SIGTERM');
      await new Promise(r => server.once('exit', r));
    },
  };
}

test('--server: a client sending every bad request it can does not touch another client\'s session; new connections are served', { timeout: 120_000 }, async () => {
  const s = await serve(['--server=0']);
  try {
    const port = Number(s.where.split(':')[1]);
    const good = await RawDap.connect(port);
    assert.equal((await good.launch({ ...LAUNCH, stopOnExternalCall: ['size'] })).success, true);
    await good.event('stopped');
    const bad = await RawDap.connect(port);
    await bad.request('configurationDone', {});
    await bad.request('continue');
    await bad.request('initialize', { adapterID: 'x' });
    await bad.request('continue');
    await bad.request('stackTrace', { threadId: 'x' });
    await bad.request('launch', { ...LAUNCH, limits: { maxDurationSecs: 1e308 } });
    await bad.request('launch', { ...LAUNCH, program: 7 });
    await bad.request('flyteSandbox/resolveCall', { action: 'explode' });
    bad.raw('Content-Length: 3\r\n\r\nnul');
    bad.raw('Content-Length: -7\r\n\r\n');
    bad.socketEnd();
    await bad.exited;
    // the first session is where it was and finishes
    const pending = await good.request('flyteSandbox/pendingCall', { threadId: 1 });
    assert.equal((pending.body as { function: string }).function, 'size');
    await good.request('continue', { threadId: 1 });
    const result = await good.event<{ status: string }>('flyteSandbox/result');
    assert.equal(result.status, 'ok');
    await good.close();
    // and the server takes new sessions
    const next = await RawDap.connect(port);
    assert.equal((await next.launch({ ...LAUNCH, stopOnExternalCall: 'none' })).success, true);
    await next.event('terminated');
    await next.close();
    assert.equal(s.server.exitCode, null, `the server is still up: ${s.stderr()}`);
    assert.match(s.stderr(), /any local user can connect: prefer --socket=PATH/);
  } finally {
    await s.stop();
  }
});

test('--socket=PATH: a Unix socket only its owner may use (mode 0600), serving DAP; stale sockets replaced, other files never', { timeout: 120_000 }, async () => {
  const dir = writeTree({});
  const path = join(dir, 'adapter.sock');
  const s = await serve([`--socket=${path}`]);
  try {
    assert.equal(s.where, path);
    const mode = statSync(path).mode;
    assert.ok(statSync(path).isSocket());
    assert.equal(mode & 0o777, 0o600, `socket mode ${(mode & 0o777).toString(8)}`);
    const c = await RawDap.connect(path);
    assert.equal((await c.launch({ ...LAUNCH, stopOnExternalCall: 'none' })).success, true);
    assert.equal((await c.event<{ status: string }>('flyteSandbox/result')).status, 'ok');
    await c.close();
    // a second adapter on the same path is refused while the first listens
    const second = spawn(process.execPath, [ADAPTER, `--socket=${path}`], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    second.stderr.on('data', (d: Buffer) => (err += d.toString()));
    assert.equal(await new Promise(r => second.once('exit', r)), 2);
    assert.match(err, /another process is already listening on/);
  } finally {
    await s.stop();
  }
  assert.equal(existsSync(path), false, 'the socket file is removed when the adapter ends');
  // a socket left by a killed adapter is replaced
  const killed = await serve([`--socket=${path}`]);
  killed.server.kill('SIGKILL');
  await new Promise(r => killed.server.once('exit', r));
  assert.ok(existsSync(path), 'SIGKILL leaves the socket file behind');
  const again = await serve([`--socket=${path}`]);
  await again.stop();
  // a file that is not a socket is never replaced
  writeFileSync(path, 'my notes');
  const refused = spawn(process.execPath, [ADAPTER, `--socket=${path}`], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  refused.stderr.on('data', (d: Buffer) => (err += d.toString()));
  assert.equal(await new Promise(r => refused.once('exit', r)), 2);
  assert.match(err, /exists and is not a socket; refusing to replace it/);
});
