/**
 * Forwarding calls to the cluster: real python3 running flyte's API on the
 * stand-in flyte (test/fixtures/flyte-standin, built from flyte-sdk's source;
 * its "remote" runs execute the local function when waited on and log every
 * RPC). No real cluster is involved.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { DebugRuntime } from '../../engine/debug/runtime.ts';
import type { CallRecord } from '../../engine/index.ts';
import { cluster, ROOT, STANDIN, until, useStandin } from './cluster.ts';

useStandin();
const BIN = join(ROOT, 'bin', 'flyte-sandbox.js');

before(() => {
  if (!existsSync(join(ROOT, 'dist', 'cli.js'))) spawnSync(process.execPath, [join(ROOT, 'scripts', 'build.mjs')], { cwd: ROOT, stdio: 'inherit' });
});

function cli(args: string[], cwd: string) {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd, encoding: 'utf8', env: { ...process.env, CI: 'true', PYTHONPATH: STANDIN } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const INPUTS = '{"cart": {"apple": 3, "melon": 4}, "code": "SAVE10"}';

const FAN = `import threading

import flyte

env = flyte.TaskEnvironment(name="fan")

# Each item waits for a partner: items in flight two at a time pair up; one at a time, the barrier breaks.
PAIR = threading.Barrier(2, timeout=30)


@env.task
def slow(x: int) -> int:
    PAIR.wait()
    return x * 10


# Flyte registers only names the body references: flyte_map("slow", ...) alone would not.
@env.sandbox.orchestrator
def fan(n: int, width: int) -> list:
    if n < 0:
        slow(0)
    return flyte_map("slow", list(range(n)), concurrency=width)


@env.sandbox.orchestrator
def unbounded(n: int) -> list:
    if n < 0:
        slow(0)
    return flyte_map("slow", list(range(n)))
`;

const HANG = `import os
import time

import flyte

env = flyte.TaskEnvironment(name="hang")


@env.task
def wait_for(path: str) -> str:
    for _ in range(1200):
        if os.path.exists(path):
            return "released"
        time.sleep(0.05)
    return "gave up"


@env.sandbox.orchestrator
def hang(path: str) -> str:
    return wait_for(path)
`;

test('--remote all: each task call is a real run (one CreateRun each, inputs by name), its outputs come back into the sandbox, and the trace names every run', () => {
  const c = cluster();
  const r = cli(['run', 'orders.py', '--inputs', INPUTS, '--remote', 'all', '--config', 'config.yaml', '--stubs', '{"clock": {"value": 5}}'], c.dir);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /#1 clock\(\) -> 5 {2}\[stub, /, 'a trace is not a task: the stub answers it');
  assert.match(r.stdout, /#4 discount\(15\.5, code='SAVE10'\) -> 13\.950000000000001 {2}\[remote run r[0-9a-f]{9}, /, 'computed for real');
  assert.match(r.stdout, /\[1\] #8 price\('melon'\) -> 3\.5 {2}\[remote run r[0-9a-f]{9}, /);
  assert.match(r.stdout, /^result: \{'subtotal': 15\.5, 'total': 13\.950000000000001, 'tax': 2\.79, 'gross': 16\.74, 'unit': \[0\.5, 3\.5\], 'receipt': 'rcpt-1674-order', 'started': 5\}$/m);
  const created = c.rpcs().filter(x => x.rpc === 'CreateRun');
  assert.deepEqual(created.map(x => x.task), ['orders.price', 'orders.price', 'orders.discount', 'orders.tax', 'orders.price', 'orders.price', 'billing.charge']);
  assert.deepEqual(created[2]!.inputs, { subtotal: 15.5, code: 'SAVE10', rate: 0.1 }, 'bound by name with defaults, as flyte binds them');
  assert.equal(created[6]!.version, 'v3', 'the remote handle runs the deployed version');
  assert.match(r.stderr, /^remote: all run on the cluster: each call is a real run, and costs one$/m);
  for (let i = 1; i <= 7; i++) assert.match(r.stderr, new RegExp(`^remote run ${i}: .* is run (r[0-9a-f]{9}) https://flyte\\.example\\.com/v2/domain/development/project/shop/runs/\\1$`, 'm'));
  assert.match(r.stderr, /^remote: 7 runs were created on the cluster in this session$/m);
});

test('flyte_map items honour concurrency on the cluster (two in flight, never more), and the debugger caps runs in flight', () => {
  const c = cluster({ files: { 'fan.py': FAN } });
  const r = cli(['run', 'fan.py', '--task', 'fan', '--inputs', '{"n": 6, "width": 2}', '--remote', 'slow', '--config', 'config.yaml'], c.dir);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /^result: \[0, 10, 20, 30, 40, 50\]$/m);
  const inFlight = c.rpcs().filter(x => x.rpc === 'RunStarted').map(x => x.in_flight as number);
  assert.equal(inFlight.length, 6);
  assert.equal(Math.max(...inFlight), 2, `runs in flight: ${inFlight.join(', ')}`);
  const capped = cluster({ files: { 'fan.py': FAN } });
  const u = cli(['run', 'fan.py', '--task', 'unbounded', '--inputs', '{"n": 4}', '--remote', 'slow', '--config', 'config.yaml', '--remote-max-in-flight', '2'], capped.dir);
  assert.equal(u.code, 0, u.stdout + u.stderr);
  assert.equal(Math.max(...capped.rpcs().filter(x => x.rpc === 'RunStarted').map(x => x.in_flight as number)), 2);
  assert.match(u.stderr, /remote: 2 runs in flight, the debugger's cap \(remoteMaxInFlight\); further calls wait for one to finish/);
});

test("a failed remote run ends the debugged run as production would, with the run's error message and its URL", () => {
  const c = cluster();
  const r = cli(['run', 'orders.py', '--inputs', '{"cart": {"apple": 3, "melon": 4}, "code": "BAD"}', '--remote', 'discount', '--config', 'config.yaml', '--stubs', '{"clock": {"value": 5}, "price": {"value": 1.0}}'], c.dir);
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stdout, /#4 discount\(2, code='BAD'\) raised RuntimeUserError: bad code {2}\[remote run r[0-9a-f]{9}, /);
  assert.match(r.stdout, /remote run (r[0-9a-f]{9}) ended FAILED: https:\/\/flyte\.example\.com\/v2\/domain\/development\/project\/shop\/runs\/\1/);
  assert.match(r.stdout, /^RuntimeUserError: bad code$/m);
  assert.deepEqual(c.rpcs().filter(x => x.rpc === 'RunFinished').map(x => x.phase), ['failed']);
});

test("a remote task handle called with positional arguments fails with production's RemoteTaskUsageError, before any run", () => {
  const c = cluster();
  writeFileSync(c.program, readFileSync(c.program, 'utf8').replace('charge(amount=gross, memo="order")', 'charge(gross)'));
  const r = cli(['run', 'orders.py', '--inputs', INPUTS, '--remote', 'charge', '--config', 'config.yaml', '--stubs', '{"clock": {"value": 5}, "price": {"value": 1.0}, "discount": {"value": 2.0}, "tax": {"value": [0.4, 2.4]}}'], c.dir);
  assert.equal(r.code, 1);
  assert.match(r.stdout, /^RemoteTaskUsageError: Remote task billing\.charge does not support positional arguments currently\. Please use keyword arguments\.$/m);
  assert.deepEqual(c.rpcs().filter(x => x.rpc === 'CreateRun'), []);
});

test('--remote asks for tasks only, and its options only with it: usage errors, exit 2', () => {
  const c = cluster();
  const trace = cli(['run', 'orders.py', '--inputs', INPUTS, '--remote', 'clock'], c.dir);
  assert.equal(trace.code, 2);
  assert.match(trace.stderr, /^flyte-sandbox: --remote: clock is a flyte\.durable\.time \(a @syncify wrapper\): in production it runs inside the orchestrator, not as a run of its own; forward it locally instead$/m);
  const stray = cli(['run', 'orders.py', '--inputs', INPUTS, '--project', 'shop'], c.dir);
  assert.equal(stray.code, 2);
  assert.match(stray.stderr, /--project only applies to calls run on the cluster: add --remote a,b or --remote all/);
  assert.deepEqual(c.rpcs(), [], 'never remote unless asked');
});

test('the debugger: remote runs show on the trace and in the Debug Console as they start, and stopping the session aborts the run in flight', async () => {
  const c = cluster({ files: { 'hang.py': HANG } });
  const release = join(c.dir, 'release');
  const rt = new DebugRuntime();
  const console: string[] = [];
  const withRef: CallRecord[] = [];
  rt.on('output', o => console.push(o.text));
  rt.on('call', r => {
    if (r.ref?.kind === 'remote' && r.status === 'pending') withRef.push(r);
  });
  try {
    await rt.launch({ program: join(c.dir, 'hang.py'), inputs: { path: release }, remote: ['wait_for'], flyteConfig: c.config, stopOnExternalCall: 'none' });
    await rt.configurationDone();
    const pending = await until('the run to be created', () => withRef[0]);
    assert.match(pending.ref!.name, /^r[0-9a-f]{9}$/);
    assert.equal(pending.ref!.url, `https://flyte.example.com/v2/domain/development/project/shop/runs/${pending.ref!.name}`);
    assert.ok(console.some(t => t.startsWith(`remote run 1: wait_for('${release}') is run ${pending.ref!.name} https://`)), console.join(''));
    await rt.terminate();
    const aborted = await until('AbortRun', () => c.rpcs().find(x => x.rpc === 'AbortRun'));
    assert.deepEqual([aborted.run, aborted.reason], [pending.ref!.name, 'stopped by the debugger']);
  } finally {
    writeFileSync(release, '');
  }
});

test('the CLI killed mid-run: the worker sees its parent go and aborts the run in flight before it exits', async () => {
  const c = cluster({ files: { 'hang.py': HANG } });
  const release = join(c.dir, 'release');
  const child = spawn(process.execPath, [BIN, 'run', 'hang.py', '--inputs', JSON.stringify({ path: release }), '--remote', 'wait_for', '--config', 'config.yaml'], { cwd: c.dir, env: { ...process.env, CI: 'true', PYTHONPATH: STANDIN } });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
  try {
    await until('the remote run to start', () => /remote run 1: /.test(stderr));
    child.kill('SIGTERM');
    const aborted = await until('AbortRun', () => c.rpcs().find(x => x.rpc === 'AbortRun'));
    assert.equal(aborted.reason, 'stopped by the debugger');
    assert.equal(aborted.run, /is run (r[0-9a-f]{9})/.exec(stderr)![1]);
  } finally {
    child.kill('SIGKILL');
    writeFileSync(release, '');
  }
});
