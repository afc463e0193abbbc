import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { once } from 'node:events';
import { readCassette } from '../../engine/cassette/format.ts';
import { setUpCassette } from '../../engine/cassette/setup.ts';
import { DebugRuntime } from '../../engine/debug/runtime.ts';
import { parseStubs, pyRepr, SandboxRun, StubResolver, type Resolver } from '../../engine/index.ts';
import { flow, program, writeTree } from '../helpers.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const BIN = join(ROOT, 'bin', 'flyte-sandbox.js');

before(() => {
  if (!existsSync(join(ROOT, 'dist', 'cli.js'))) spawnSync(process.execPath, [join(ROOT, 'scripts', 'build.mjs')], { cwd: ROOT, stdio: 'inherit' });
});

function cli(args: string[], cwd: string) {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd, encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const EXAMPLES = [['pipeline', 'pipeline.py'], ['io', 'io_pipeline.py'], ['fanout', 'fanout.py']];

test('record then replay every bundled example: same output and the same trace; `test` says it still matches', () => {
  const dir = writeTree({});
  for (const [folder, file] of EXAMPLES) {
    const ex = join(ROOT, 'examples', folder!);
    const cassette = join(dir, `${folder}.json`);
    const recorded = cli(['run', join(ex, file!), '--inputs', `@${join(ex, 'inputs.json')}`, '--stubs', join(ex, 'stubs.json'), '--record', cassette, '--json'], dir);
    assert.equal(recorded.code, 0, recorded.stderr);
    const replayed = cli(['run', join(ex, file!), '--inputs', `@${join(ex, 'inputs.json')}`, '--replay', cassette, '--json'], dir);
    assert.equal(replayed.code, 0, replayed.stderr + replayed.stdout);
    const a = JSON.parse(recorded.stdout) as { output: unknown; stdout: string; calls: { function: string; args: unknown; kwargs: unknown; result: unknown; source: string }[] };
    const b = JSON.parse(replayed.stdout) as typeof a;
    assert.deepEqual(b.output, a.output, folder);
    assert.equal(b.stdout, a.stdout);
    const trace = (x: typeof a) => x.calls.map(c => [c.function, c.args, c.kwargs, c.result]);
    assert.deepEqual(trace(b), trace(a), `${folder}: the same calls with the same results`);
    assert.ok(b.calls.filter(c => c.function !== 'flyte_map').every(c => c.source === 'cassette'));
    const t = cli(['test', cassette], dir);
    assert.equal(t.code, 0, t.stdout + t.stderr);
    assert.match(t.stdout, /^ok .* calls replayed, same output/);
  }
});

const SRC = flow(`
  @env.task
  def fetch(url: str, token: str = "") -> dict: ...
  @env.task
  def score(x: int) -> int: ...
  @env.sandbox.orchestrator
  def t(n: int) -> list:
      data = fetch("https://api/x", token="secret-123")
      return [score(i) for i in range(n)]
`);

async function recordRun(n: number, path: string, redact: string[] = []) {
  const p = await program(SRC);
  const task = p.findTask();
  const setup = setUpCassette({ record: path, redact }, task, { n }, () => undefined);
  const run = new SandboxRun(task, { inputs: { n }, resolvers: [new StubResolver(parseStubs({ fetch: { value: { rows: 3 } }, score: { python: 'args[0] * 2' } }, 's'))] });
  const r = await run.execute();
  setup.recorder!.finish(r.calls, 'ok', r.output);
  return { task, result: r };
}

async function replayRun(n: number, path: string, extra: Partial<Parameters<typeof setUpCassette>[0]> = {}, more: Resolver[] = []) {
  const p = await program(SRC);
  const task = p.findTask();
  const notices: string[] = [];
  const setup = setUpCassette({ replay: path, ...extra }, task, { n }, t => notices.push(t));
  const r = await new SandboxRun(task, { inputs: { n }, resolvers: [setup.resolver!, ...more] }).execute();
  return { r, notices, setup };
}

test('a mismatch names the part that differs, against the closest recorded call', async () => {
  const dir = writeTree({});
  const path = join(dir, 'c.json');
  await recordRun(3, path);
  let { r } = await replayRun(4, path);
  assert.equal(r.error!.type, 'CassetteMismatch');
  assert.equal(r.error!.origin, 'cassette');
  assert.match(r.error!.message, /^call #5 score\(3\) was not recorded: the cassette's 4 calls are all used$/);
  const c = readCassette(path);
  c.calls[2]!.args = [7];
  writeFileSync(path, JSON.stringify(c));
  ({ r } = await replayRun(3, path));
  assert.equal(r.error!.message, 'call #3 score(1) does not match recorded call #3 score(7):\n  argument 0: recorded 7, now 1');
  c.calls[0]!.kwargs = { token: 'other' };
  writeFileSync(path, JSON.stringify(c));
  ({ r } = await replayRun(3, path));
  assert.match(r.error!.message, /keyword argument token: recorded 'other', now 'secret-123'/);
  c.calls[0]!.kwargs = { token: 'secret-123' };
  c.calls[2]!.args = [1];
  [c.calls[1], c.calls[2]] = [c.calls[2]!, c.calls[1]!];
  writeFileSync(path, JSON.stringify(c));
  ({ r } = await replayRun(3, path));
  assert.equal(r.error!.message, 'order: call #2 score(0) was recorded as call #2, but the next recorded call is #3 score(1)');
});

test('replayMismatch fallthrough lets stubs answer what the cassette does not match; repeated identical calls are consumed in order', async () => {
  const dir = writeTree({});
  const path = join(dir, 'c.json');
  await recordRun(2, path);
  const { r, notices } = await replayRun(3, path, { replayMismatch: 'fallthrough' }, [new StubResolver(parseStubs({ score: { value: -1 } }, 's'))]);
  assert.equal(r.status, 'ok', JSON.stringify(r.error));
  assert.deepEqual(r.output, [0, 2, -1]);
  assert.deepEqual(r.calls.map(c => c.source), ['cassette', 'cassette', 'cassette', 'stub']);
  assert.match(notices.join('\n'), /call #4 score\(2\) was not recorded.*falling through/);
});

test('redacted arguments stay out of the file and match anything on replay', async () => {
  const dir = writeTree({});
  const path = join(dir, 'c.json');
  await recordRun(1, path, ['fetch.kwargs.token']);
  const text = readFileSync(path, 'utf8');
  assert.doesNotMatch(text, /secret-123/);
  assert.match(text, /"kwargs": \{"token":\{"\$redacted":true\}\}/);
  const { r } = await replayRun(1, path);
  assert.equal(r.status, 'ok', JSON.stringify(r.error));
  assert.equal(pyRepr(r.output), '[0]');
});

test('record modes: once records a missing cassette then replays it; new_episodes replays matches and records the rest', async () => {
  const dir = writeTree({});
  const path = join(dir, 'c.json');
  const p = await program(SRC);
  const task = p.findTask();
  const stubs = new StubResolver(parseStubs({ fetch: { value: {} }, score: { python: 'args[0] + 100' } }, 's'));
  const runWith = async (n: number, recordMode: 'once' | 'new_episodes') => {
    const setup = setUpCassette({ record: path, recordMode }, task, { n }, () => undefined);
    const resolvers: Resolver[] = [...(setup.resolver ? [setup.resolver] : []), stubs];
    const r = await new SandboxRun(task, { inputs: { n }, resolvers }).execute();
    setup.recorder?.finish(r.calls, r.status === 'ok' ? 'ok' : 'error', r.output, r.error);
    return r;
  };
  let r = await runWith(2, 'once');
  assert.deepEqual(r.calls.map(c => c.source), ['stub', 'stub', 'stub']);
  r = await runWith(2, 'once');
  assert.deepEqual(r.calls.map(c => c.source), ['cassette', 'cassette', 'cassette']);
  r = await runWith(4, 'new_episodes');
  assert.deepEqual(r.calls.map(c => c.source), ['cassette', 'cassette', 'cassette', 'stub', 'stub']);
  assert.equal(readCassette(path).calls.length, 5, 'the new episodes were added');
  r = await runWith(4, 'new_episodes');
  assert.ok(r.calls.every(c => c.source === 'cassette'));
});

test('a debug session stopped midway still leaves a complete cassette of what happened', async () => {
  const dir = writeTree({ 'flow.py': SRC });
  const path = join(dir, 'midway.json');
  const rt = new DebugRuntime();
  await rt.launch({ program: join(dir, 'flow.py'), inputs: { n: 5 }, stubs: { fetch: { value: {} }, score: { python: 'args[0]' } }, stopOnExternalCall: 'none', record: path });
  await rt.setFunctionBreakpoints([{ name: 'score', condition: 'args[0] == 3' }]);
  const stopped = once(rt, 'stopped');
  await rt.configurationDone();
  await stopped;
  await rt.terminate();
  const c = readCassette(path);
  assert.equal(c.status, 'incomplete');
  assert.deepEqual(c.calls.map(x => `${x.function}${JSON.stringify(x.args)}`), ['fetch["https://api/x"]', 'score[0]', 'score[1]', 'score[2]']);
  assert.ok(!existsSync(`${path}.tmp-${process.pid}`), 'written through a temp file and renamed');
});
