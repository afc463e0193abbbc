/**
 * Sandbox code is untrusted (often generated): whatever it does, the CLI
 * ends with the task's error naming the limit and the line, or its result,
 * and the process stays within its bounds. The long cases (10 MB of print,
 * a million calls) are in test/stress/.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { flow, writeTree } from '../helpers.ts';
import { assertNoLeftovers } from '../leftovers.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const BIN = join(ROOT, 'bin', 'flyte-sandbox.js');

const HAZARDS = flow(`
  @env.task
  def val(n: int) -> object: ...

  @env.sandbox.orchestrator
  def loop(n: int) -> int:
      x = 0
      while True:
          x += n
      return x

  @env.sandbox.orchestrator
  def strings(n: int) -> int:
      x = []
      while True:
          x.append("a" * 1000)
      return 0

  @env.sandbox.orchestrator
  def dicts(n: int) -> int:
      d = {}
      i = 0
      while True:
          d[i] = [i]
          i += 1
      return 0

  @env.sandbox.orchestrator
  def recursion(n: int) -> int:
      def down(k):
          return down(k + 1)
      return down(0)

  @env.sandbox.orchestrator
  def huge(n: int) -> str:
      return "a" * n

  @env.sandbox.orchestrator
  def nested(n: int) -> list:
      x = []
      for i in range(n):
          x = [x]
      return x

  @env.sandbox.orchestrator
  def unsupported(n: int) -> int:
      class A:
          pass
      return n

  @env.sandbox.orchestrator
  def values(n: int) -> list:
      return [val(0), val(1), val(2), val(3), val(4), val(5)]
`);

let dir: string;
function cli(task: string, inputs: string, extra: string[] = []) {
  dir ??= writeTree({ 'flow.py': HAZARDS });
  const r = spawnSync(process.execPath, [BIN, 'run', 'flow.py', '--task', task, '--inputs', inputs, ...extra], { cwd: dir, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024, env: { ...process.env, CI: 'true' } });
  return { code: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}

function line(text: string): number {
  return HAZARDS.split('\n').findIndex(l => l.includes(text)) + 1;
}

after(async () => assertNoLeftovers('the sandbox hazard tests'));

test('an endless loop ends with TimeoutError at the loop, naming the limit', { timeout: 120_000 }, () => {
  const r = cli('loop', '{"n": 1}', ['--json', '--limits', '{"maxDurationSecs": 1}']);
  assert.equal(r.code, 1, r.stderr);
  const doc = JSON.parse(r.stdout) as { error: { type: string; hint: string; frames: { line: number }[] } };
  assert.equal(doc.error.type, 'TimeoutError');
  assert.match(doc.error.hint, /more than 1 s without pausing at an external call \(the debugger's limits\.maxDurationSecs/);
  assert.ok([line('while True:\n        x += n'), line('x += n'), line('    while True')].includes(doc.error.frames.at(-1)!.line));
});

test('a memory bomb ends with Monty\'s MemoryError at its line (one Monty undercounts is in test/stress: the process bound)', { timeout: 120_000 }, () => {
  const seen = cli('strings', '{"n": 1}', ['--json', '--limits', '{"maxMemory": 67108864, "maxDurationSecs": 600}']);
  assert.equal(seen.code, 1, seen.stderr);
  const a = JSON.parse(seen.stdout) as { error: { type: string; message: string; frames: { line: number }[] } };
  assert.equal(a.error.type, 'MemoryError');
  assert.match(a.error.message, /^memory limit exceeded: \d+ bytes > 67108864 bytes$/);
  assert.equal(a.error.frames.at(-1)!.line, line('x.append("a" * 1000)'));
});

test('deep recursion ends with RecursionError naming the limit and the line', { timeout: 120_000 }, () => {
  const r = cli('recursion', '{"n": 1}', ['--json']);
  assert.equal(r.code, 1);
  const doc = JSON.parse(r.stdout) as { error: { type: string; hint: string; frames: { line: number }[] } };
  assert.equal(doc.error.type, 'RecursionError');
  assert.match(doc.error.hint, /deeper than 1000 frames \(limits\.maxRecursionDepth/);
  assert.equal(doc.error.frames.at(-1)!.line, line('return down(k + 1)'));
});

test('huge and deeply nested return values come back whole', { timeout: 120_000 }, () => {
  const big = cli('huge', '{"n": 20000000}', ['--json']);
  assert.equal(big.code, 0, big.stderr);
  assert.equal((JSON.parse(big.stdout) as { output: string }).output.length, 20_000_000);
  const deep = cli('nested', '{"n": 50000}');
  assert.equal(deep.code, 0, deep.stderr);
  assert.match(deep.stdout, /result: \[\[\[.*\.\.\..*\]\]\]/);
  const json = cli('nested', '{"n": 50000}', ['--json']);
  assert.equal(json.code, 0, json.stderr);
  assert.doesNotMatch(json.stderr, /internal error/);
});

test('syntax Monty does not support is the task\'s error at its line, as in production', { timeout: 120_000 }, () => {
  const r = cli('unsupported', '{"n": 1}');
  assert.equal(r.code, 1);
  assert.match(r.stdout, new RegExp(`File "flow\\.py", line ${line('class A:')}, in .*\\n    class A:\\nNotImplementedError: The monty syntax parser does not yet support class definitions`));
});

test('boundary values cross both ways: NaN, infinities, big ints, bytes, non-string keys, malformed IO handles', { timeout: 120_000 }, () => {
  const stubs = JSON.stringify({ val: { python: '[float("nan"), float("-inf"), 2**100, b"\\x00\\xff", {1: "a", (1, 2): "b"}, {"__flyte_io_type__": "File"}][args[0]]' } });
  const r = cli('values', '{"n": 0}', ['--stubs', stubs]);
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stdout, /#1 val\(0\) -> nan/);
  assert.match(r.stdout, /#2 val\(1\) -> -inf/);
  assert.match(r.stdout, /#3 val\(2\) -> 1267650600228229401496703205376/);
  assert.match(r.stdout, /#4 val\(3\) -> b'\\x00\\xff'/);
  assert.match(r.stdout, /#5 val\(4\) -> \{1: 'a', \(1, 2\): 'b'\}/);
  assert.match(r.stdout, /KeyError: 'path'\n {2}hint: the stub result for val\(\) holds a malformed File/, 'a File without its path fails the run as Flyte would');
  const inputs = cli('values', '{"n": NaN}');
  assert.equal(inputs.code, 2);
  assert.match(inputs.stderr, /--inputs: malformed JSON: unexpected character "N" at line 1 column 7/);
});
