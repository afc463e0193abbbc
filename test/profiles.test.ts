/**
 * 14. Semantics by Flyte version: one table of profiles, the profile named in
 * every run's output (CLI text, --json, the debugger's launched event and
 * console), the installed flyte detected through the configured Python, a
 * warning when it is newer than any profile, and `--version`.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { DebugRuntime } from '../engine/debug/runtime.ts';
import { LaunchError } from '../engine/debug/launchError.ts';
import { chooseProfile, detectFlyte } from '../engine/forward/flyteVersion.ts';
import { engineMontyVersion, PROFILES, profileForVersion } from '../engine/profiles.ts';
import { flow, writeTree } from './helpers.ts';

const ROOT = join(import.meta.dirname, '..');
const BIN = join(ROOT, 'bin', 'flyte-sandbox.js');
const HAS_PYTHON = spawnSync('python3', ['--version']).status === 0;

before(() => {
  if (!existsSync(join(ROOT, 'dist', 'cli.js'))) spawnSync(process.execPath, [join(ROOT, 'scripts', 'build.mjs')], { cwd: ROOT, stdio: 'inherit' });
});

function cli(args: string[], cwd: string) {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd, encoding: 'utf8', env: { ...process.env, CI: 'true' } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const TASK = flow(`
  @env.task
  def get(n: int) -> dict: ...

  @env.sandbox.orchestrator
  async def t(n: int) -> int:
      d = await get(n)
      return d["v"]
`);

test('the table: every version-dependent choice is data; installed versions map to a profile, with a warning outside the ranges', () => {
  assert.deepEqual(PROFILES.map(p => [p.id, p.montyPin, p.awaitExternal, p.dummyInput, p.emptyInputsRefused, p.flyteMap.callables]), [
    ['2.2', '0.0.17', 'fails', true, true, 'flyte.map'],
    ['2.6', '0.0.17', 'fails', true, true, '_map_callable'],
    ['pooled', '0.0.22', 'awaits', false, false, '_map_callable'],
  ]);
  assert.deepEqual([profileForVersion('2.6.5').profile.id, profileForVersion('2.6.5').warning], ['2.6', undefined]);
  assert.equal(profileForVersion('2.5.6').profile.id, '2.6', '_map_callable arrived in 2.5.6');
  assert.equal(profileForVersion('2.5.5').profile.id, '2.2');
  const newer = profileForVersion('2.12.1');
  assert.equal(newer.profile.id, '2.6');
  assert.match(newer.warning!, /flyte 2\.12\.1 is installed, newer than any profile the debugger has \(newest: flyte-sdk 2\.6\.x\); reproducing flyte-sdk 2\.6\.x\. If that release has the pooled AsyncMonty bridge of PR #1539, choose the 'pooled' profile/);
  assert.match(profileForVersion('2.0.3').warning!, /older than any profile/);
  assert.equal(engineMontyVersion(), (JSON.parse(readFileSync(join(ROOT, 'node_modules', '@pydantic', 'monty', 'package.json'), 'utf8')) as { version: string }).version);
});

test('the installed flyte is asked of the configured Python (a stand-in module on the path counts)', { skip: !HAS_PYTHON && 'no python3' }, async () => {
  const dir = writeTree({ 'flyte.py': '__version__ = "2.5.2"\n' });
  const installed = await detectFlyte('python3', dir);
  assert.match(installed.python!, /^3\.\d+\.\d+$/);
  assert.equal(installed.flyte, '2.5.2');
  const choice = await chooseProfile({ python: 'python3', cwd: dir });
  assert.deepEqual([choice.profile.id, choice.reason], ['2.2', 'flyte 2.5.2 is installed']);
  assert.deepEqual((await chooseProfile({ explicit: 'pooled', cwd: dir })).profile.id, 'pooled', 'a chosen profile wins');
  const missing = await chooseProfile({ python: '/nonexistent/python3', pythonConfigured: true, cwd: dir });
  assert.equal(missing.profile.id, '2.6');
  assert.match(missing.warning!, /could not ask the Python interpreter '\/nonexistent\/python3' was not found/);
});

test('CLI: --version; the profile in run text and --json; a newer flyte warns; --flyte-profile picks one', { skip: !HAS_PYTHON && 'no python3' }, () => {
  const version = cli(['--version'], ROOT);
  assert.equal(version.code, 0);
  assert.match(version.stdout, /^flyte-sandbox \d+\.\d+\.\d+\nengine: @pydantic\/monty 0\.0\.18 \(Monty's JavaScript binding\)\nproduction pins pydantic-monty:\n {2}0\.0\.17 {3}flyte-sdk 2\.2\.1 – 2\.5\.5 \(profile 2\.2\)\n {2}0\.0\.17 {3}flyte-sdk 2\.6\.x \(profile 2\.6, the default\)\n {2}0\.0\.22 {3}flyte-sdk with the pooled AsyncMonty bridge \(PR #1539\) \(profile pooled\)\n$/);

  const dir = writeTree({ 'flow.py': TASK });
  const args = ['run', 'flow.py', '--inputs', '{"n": 1}', '--stubs', '{"get": {"value": {"v": 7}}}'];
  let r = cli(args, dir);
  assert.equal(r.code, 1);
  assert.match(r.stdout, /^t \(flow\.py:7\)\n {2}reproducing flyte-sdk 2\.6\.x \(production pins pydantic-monty 0\.0\.17; the engine runs @pydantic\/monty 0\.0\.18\)\n/);
  assert.match(r.stdout, /TypeError: 'dict' object can't be awaited/);
  r = cli([...args, '--flyte-profile', 'pooled'], dir);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /reproducing flyte-sdk with the pooled AsyncMonty bridge \(PR #1539\) \(production pins pydantic-monty 0\.0\.22.*; chosen\n[\s\S]*result: 7/);
  const doc = JSON.parse(cli([...args, '--json', '--flyte-profile', '2.6'], dir).stdout) as { profile: Record<string, unknown> };
  assert.deepEqual(doc.profile, { id: '2.6', label: 'flyte-sdk 2.6.x', productionMonty: '0.0.17', engineMonty: '0.0.18', reason: 'chosen', warning: null });

  // the installed flyte is asked of the configured interpreter (--python), never of a default one
  const newer = writeTree({ 'flow.py': TASK, 'flyte.py': '__version__ = "2.12.1"\n' });
  r = cli([...args, '--json'], newer);
  assert.doesNotMatch(r.stderr, /warning: flyte/);
  r = cli([...args, '--json', '--python', 'python3'], newer);
  assert.match(r.stderr, /^warning: flyte 2\.12\.1 is installed, newer than any profile/);
  assert.equal((JSON.parse(r.stdout) as { profile: { id: string; reason: string } }).profile.reason, 'flyte 2.12.1 is installed');
  const older = writeTree({ 'flow.py': TASK, 'flyte.py': '__version__ = "2.4.0"\n' });
  r = cli(['list', 'flow.py', '--python', 'python3'], older);
  assert.match(r.stdout, /reproducing flyte-sdk 2\.2\.1 – 2\.5\.5 .*; flyte 2\.4\.0 is installed$/m);
});

test('CLI: --no-limits and null limits, documented as production\'s behaviour', () => {
  const dir = writeTree({ 'flow.py': flow(`
    @env.sandbox.orchestrator
    def big(n: int) -> int:
        return len([0] * n)
  `) });
  let r = cli(['run', 'flow.py', '--inputs', '{"n": 500000}', '--limits', '{"maxMemory": 1000000}', '--flyte-profile', '2.6'], dir);
  assert.equal(r.code, 1);
  assert.match(r.stdout, /MemoryError: memory limit exceeded/);
  r = cli(['run', 'flow.py', '--inputs', '{"n": 500000}', '--limits', '{"maxMemory": null}', '--flyte-profile', '2.6'], dir);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  r = cli(['run', 'flow.py', '--inputs', '{"n": 500000}', '--no-limits', '--flyte-profile', '2.6'], dir);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /; no limits, as in production\n/);
  assert.match(cli(['--help'], dir).stdout, /--no-limits {9}no limits at all, as in production/);
});

test('the debugger: flyteProfile picks a profile; the launched info names it; a task that cannot load fails the launch with the import error and its line', async () => {
  const dir = writeTree({ 'flow.py': TASK, 'bad.py': flow(`
    @env.sandbox.orchestrator
    def fine(n: int) -> int:
        return n

    broken = flyte.sandbox.orchestrator_from_str("1", inputs={}, tasks=["fine"])
  `) });
  const rt = new DebugRuntime();
  const info = await rt.launch({ program: join(dir, 'flow.py'), inputs: { n: 1 }, stubs: { get: { value: { v: 7 } } }, flyteProfile: 'pooled', stopOnExternalCall: 'none' });
  assert.deepEqual(info.profile, { id: 'pooled', label: 'flyte-sdk with the pooled AsyncMonty bridge (PR #1539)', productionMonty: '0.0.22', engineMonty: '0.0.18', reason: 'chosen' });
  await rt.terminate();
  if (HAS_PYTHON) {
    // A configured python (VS Code always sets one) is asked which flyte it has.
    const older = writeTree({ 'flow.py': TASK, 'flyte.py': '__version__ = "2.5.0"\n' });
    const detected = new DebugRuntime();
    const seen: string[] = [];
    detected.on('output', o => seen.push(o.text));
    const got = await detected.launch({ program: join(older, 'flow.py'), inputs: { n: 1 }, python: 'python3', stopOnExternalCall: 'none' });
    assert.deepEqual([got.profile.id, got.profile.reason], ['2.2', 'flyte 2.5.0 is installed']);
    assert.ok(seen.some(t => /^reproducing flyte-sdk 2\.2\.1 – 2\.5\.5 .*; flyte 2\.5\.0 is installed\n$/.test(t)), seen.join(''));
    await detected.terminate();
  }
  await assert.rejects(new DebugRuntime().launch({ program: join(dir, 'flow.py'), inputs: { n: 1 }, flyteProfile: '3.0' }), (e: Error) => e instanceof LaunchError && /^flyteProfile: unknown Flyte profile "3\.0" \(known: 2\.2/.test(e.message));
  await assert.rejects(new DebugRuntime().launch({ program: join(dir, 'bad.py'), task: 'fine', inputs: { n: 1 }, flyteProfile: '2.6' }), (e: Error) => {
    assert.ok(e instanceof LaunchError);
    assert.equal(e.message, "program: fine cannot be loaded: importing bad.py raises TypeError at line 7 (defining broken): Expected a callable or TaskTemplate, got <class 'str'>. Production fails the same way: Python stops the import there, so Flyte loads no task of this file");
    return true;
  });
});

test('CLI: a file whose import fails lists and runs every task with that error and its line', () => {
  const dir = writeTree({ 'bad.py': flow(`
    @env.sandbox.orchestrator
    def fine(n: int) -> int:
        return n

    broken = flyte.sandbox.orchestrator_from_str("1", inputs={}, tasks=["fine"])
  `) });
  const list = cli(['list', 'bad.py', '--flyte-profile', '2.6'], dir);
  assert.match(list.stdout, /fine {2}\(line 4;[\s\S]*error: TypeError: Expected a callable or TaskTemplate, got <class 'str'> \(bad\.py:7, in broken\); importing the file stops there, so Flyte cannot load this task either/);
  const run = cli(['run', 'bad.py', '--task', 'fine', '--inputs', '{"n": 1}', '--flyte-profile', '2.6'], dir);
  assert.equal(run.code, 1);
  assert.match(run.stdout, /File "bad\.py", line 7, in <module>\n {4}broken = flyte\.sandbox\.orchestrator_from_str\("1", inputs=\{\}, tasks=\["fine"\]\)\nTypeError: Expected a callable or TaskTemplate, got <class 'str'>\n {2}hint: the debugger has just caught a production failure: importing bad\.py raises this at line 7, while defining broken/);
});
