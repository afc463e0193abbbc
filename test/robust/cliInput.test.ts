/**
 * Hostile input to the CLI ends in a clear error naming what and where
 * (exit 2), or a task error (exit 1), never an internal error (exit 3) or a
 * crash: the campaign of issue 11.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { flow, writeTree } from '../helpers.ts';
import { assertNoLeftovers } from '../leftovers.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const BIN = join(ROOT, 'bin', 'flyte-sandbox.js');

function cli(args: string[], cwd: string, shell?: string) {
  const r = shell
    ? spawnSync('bash', ['-c', `${shell}; exec "${process.execPath}" "${BIN}" ${args.map(a => `'${a.replace(/'/g, "'\\''")}'`).join(' ')}`], { cwd, encoding: 'utf8', env: { ...process.env, CI: 'true' } })
    : spawnSync(process.execPath, [BIN, ...args], { cwd, encoding: 'utf8', env: { ...process.env, CI: 'true' } });
  return { code: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}

const FLOW = flow(`
  @env.task
  def fib(n: int) -> int: ...

  @env.sandbox.orchestrator
  def t(n: int, token: str) -> int:
      return fib(n) + 1
`);
const INPUTS = '{"n": 1, "token": "s3cr3t-t0ken"}';
const STUB = '{"fib": {"value": 1}}';

function project(): string {
  return writeTree({ 'flow.py': FLOW });
}

after(async () => assertNoLeftovers('the CLI input tests'));

function assertUsage(r: ReturnType<typeof cli>, pattern: RegExp, what: string): void {
  assert.equal(r.code, 2, `${what}: exit ${r.code} (${r.signal ?? ''}): ${r.stderr}`);
  assert.match(r.stderr, pattern, what);
  assert.doesNotMatch(r.stderr, /internal error|\n\s+at /, `${what}: no internal error, no stack`);
}

test('inputs nested 100,000 deep are a usage error naming the file and the limit (was: internal error, call stack exceeded)', { timeout: 120_000 }, () => {
  const dir = project();
  writeFileSync(join(dir, 'deep.json'), `{"n": 1, "token": ${'['.repeat(100_000)}${']'.repeat(100_000)}}`);
  assertUsage(cli(['run', 'flow.py', '--inputs', '@deep.json', '--stubs', STUB], dir), /^flyte-sandbox: deep\.json:1:\d+: malformed JSON: the value is nested more than 990 levels deep \(Python's json module cannot read it either\)/, 'deep inputs');
  // as deep as Python's json reads still runs
  writeFileSync(join(dir, 'ok.json'), `{"n": 1, "token": ${'['.repeat(900)}"x"${']'.repeat(900)}}`);
  const ok = cli(['run', 'flow.py', '--inputs', '@ok.json', '--stubs', STUB], dir);
  assert.equal(ok.code, 0, ok.stderr);
});

test('a task nested thousands deep is a usage error at file:line (was: internal error in extraction)', { timeout: 120_000 }, () => {
  const dir = writeTree({ 'deep.py': flow(`
    @env.sandbox.orchestrator
    def t(n: int) -> int:
        return ${'('.repeat(5000)}n${')'.repeat(5000)}
  `) });
  assertUsage(cli(['run', 'deep.py', '--inputs', '{"n": 1}'], dir), /^flyte-sandbox: deep\.py:5:\d+: code nested \d+ levels deep is too deep for the debugger to analyse/, 'deep task');
});

test('limits too large to represent are usage errors naming the limit (was: internal error from Monty)', { timeout: 120_000 }, () => {
  const dir = project();
  for (const [limits, pattern] of [
    ['{"maxDurationSecs": 1e308}', /--limits: 'maxDurationSecs' must be at most 1000000000 \(about 31 years\), got 1e\+308/],
    ['{"maxDurationSecs": 1e400}', /--limits: 'maxDurationSecs' must be a positive number or null \(no limit, as in production\), got Infinity/],
    ['{"maxMemory": 100000000000000000000}', /--limits: 'maxMemory' must be at most 9007199254740991/],
  ] as const) assertUsage(cli(['run', 'flow.py', '--inputs', INPUTS, '--stubs', STUB, '--limits', limits], dir), pattern, limits);
});

test('--record into a missing folder or onto a folder is refused before the run (was: internal error after it, the trace lost)', { timeout: 120_000 }, () => {
  const dir = project();
  mkdirSync(join(dir, 'afolder'));
  assertUsage(cli(['run', 'flow.py', '--inputs', INPUTS, '--stubs', STUB, '--record', 'nowhere/c.json'], dir), /^flyte-sandbox: --record: no such folder: .*nowhere \(create it first\)\n$/, 'missing folder');
  const onto = cli(['run', 'flow.py', '--inputs', INPUTS, '--stubs', STUB, '--record', 'afolder'], dir);
  assertUsage(onto, /^flyte-sandbox: --record: .*afolder is a folder; give the path of a file to write/, 'onto a folder');
  assert.equal(onto.stdout, '', 'nothing ran');
});

test('a stub expression that crashes the interpreter natively is contained in the sandbox process and reported (was: the CLI died of SIGSEGV)', { timeout: 120_000 }, () => {
  const dir = project();
  // Monty's parser uses a lot of native stack on deep expressions; with a 1 MB stack 199 terms are enough to crash it.
  writeFileSync(join(dir, 'stubs.json'), JSON.stringify({ fib: { python: `args[0]${'+1'.repeat(199)}` } }));
  const r = cli(['run', 'flow.py', '--inputs', INPUTS, '--stubs', 'stubs.json'], dir, 'ulimit -s 1024');
  assert.equal(r.signal, null, `the CLI itself was killed by ${r.signal}`);
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stdout, /SandboxCrashed: the sandbox process exited unexpectedly \(killed by SIGSEGV: a native crash inside the interpreter \(Monty\), e\.g\. on code or a stub expression nested too deeply; the debugger itself is unaffected\)/);
  // with the usual stack, the same expression is Monty's own clear error
  const normal = cli(['run', 'flow.py', '--inputs', INPUTS, '--stubs', 'stubs.json'], dir);
  assertUsage(normal, /stub:fib: the python expression .* does not compile: SyntaxError: Source is too deeply nested/, 'too deeply nested');
});

test('a source file that is not UTF-8 runs with a warning saying CPython (and so Flyte) refuses it; a declared encoding is respected', { timeout: 120_000 }, () => {
  const dir = writeTree({});
  const body = '\n# caf\xe9\n@env.sandbox.orchestrator\ndef t(n: int) -> int:\n    return n\n';
  writeFileSync(join(dir, 'latin.py'), Buffer.from(`import flyte\nenv = flyte.TaskEnvironment(name="env")${body}`, 'latin1'));
  const r = cli(['run', 'latin.py', '--inputs', '{"n": 1}'], dir);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /^warning: latin\.py:3:6: byte 0xe9 is not UTF-8: CPython refuses to read the file \(SyntaxError\), so Flyte could not import it and would never run its tasks\n/);
  writeFileSync(join(dir, 'declared.py'), Buffer.from(`# -*- coding: latin-1 -*-\nimport flyte\nenv = flyte.TaskEnvironment(name="env")${body}`, 'latin1'));
  const declared = cli(['run', 'declared.py', '--inputs', '{"n": 1}'], dir);
  assert.equal(declared.code, 0, declared.stderr);
  assert.equal(declared.stderr, '');
});

test('a folder (or an unreadable file) where a file is expected is a usage error naming the option', { timeout: 120_000 }, () => {
  const dir = project();
  mkdirSync(join(dir, 'adir'));
  mkdirSync(join(dir, 'adir.py'));
  const cases: [string[], RegExp][] = [
    [['run', 'adir.py'], /^flyte-sandbox: adir\.py: cannot read the file: EISDIR/],
    [['list', 'adir.py'], /^flyte-sandbox: adir\.py: cannot read the file: EISDIR/],
    [['run', 'flow.py', '--inputs', '@adir'], /^flyte-sandbox: adir: cannot read --inputs file: EISDIR/],
    [['run', 'flow.py', '--inputs', INPUTS, '--limits', '@adir'], /^flyte-sandbox: adir: cannot read --limits file: EISDIR/],
    [['run', 'flow.py', '--inputs', INPUTS, '--stubs', 'adir'], /adir: cannot read --stubs file: EISDIR/],
    [['run', 'flow.py', '--inputs', INPUTS, '--stub-module', 'adir'], /adir: cannot read the JS stubs file: EISDIR/],
    [['run', 'flow.py', '--inputs', INPUTS, '--replay', 'adir'], /adir: is a folder, not a cassette/],
    [['test', 'adir'], /adir: is a folder, not a cassette/],
  ];
  for (const [args, pattern] of cases) assertUsage(cli(args, dir), pattern, args.join(' '));
});

test('--forward-timeout sets the forward timeout the hint names; bad values are usage errors', { timeout: 120_000 }, () => {
  const dir = writeTree({
    'slow.py': flow(`
      import time

      @env.task
      def nap(s: float) -> int:
          time.sleep(s)
          return 1

      @env.sandbox.orchestrator
      def t(s: float) -> int:
          return nap(s)
    `),
    'flyte.py': readFileSync(join(ROOT, 'test', 'fixtures', 'forward', 'flyte.py'), 'utf8'),
  });
  assertUsage(cli(['run', 'slow.py', '--inputs', '{"s": 1}', '--forward-timeout', '5'], dir), /--forward-timeout only applies to forwarded calls/, 'without --forward');
  assertUsage(cli(['run', 'slow.py', '--inputs', '{"s": 1}', '--forward', 'all', '--forward-timeout', 'soon'], dir), /--forward-timeout must be a number of seconds \(0 for no limit\), got 'soon'/, 'not a number');
  // Only the timeout can end a 600 s nap: the message must come from it.
  const r = cli(['run', 'slow.py', '--inputs', '{"s": 600}', '--forward', 'all', '--forward-timeout', '3'], dir);
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stdout, /ForwardError: nap\(\) did not return within 3 s, so the Python worker was stopped \(raise --forward-timeout if the function needs longer; 0 means no limit\)/);
  assert.doesNotMatch(r.stdout + r.stderr, /timeoutMs/);
});
