import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { flow, writeTree } from './helpers.ts';

const ROOT = join(import.meta.dirname, '..');
const BIN = join(ROOT, 'bin', 'flyte-sandbox.js');

before(() => {
  if (!existsSync(join(ROOT, 'dist', 'cli.js'))) spawnSync(process.execPath, [join(ROOT, 'scripts', 'build.mjs')], { cwd: ROOT, stdio: 'inherit' });
});

function cli(args: string[], cwd = ROOT) {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd, encoding: 'utf8', env: { ...process.env, CI: 'true' } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const FLOW = flow(`
  @env.task
  def fib(n: int) -> int: ...

  @env.task
  def files(prefix: str) -> list: ...

  @env.sandbox.orchestrator
  def pipe(n: int, prefix: str) -> tuple:
      print("n is", n)
      fs = files(prefix)
      squares = flyte_map("fib", [n, n + 1])
      return (fib(n), fs, squares)
`);

function project() {
  const dir = writeTree({
    'flow.py': FLOW,
    'stubs.json': JSON.stringify({ fib: { python: 'args[0] * 2' }, files: { value: [{ __flyte_io_type__: 'File', path: 's3://b/x.csv' }] } }),
    'inputs.json': '{"n": 3, "prefix": "s3://b/"}',
  });
  return dir;
}

test('list prints each task with inputs and the externals Flyte would register, and why', () => {
  const dir = project();
  const r = cli(['list', 'flow.py'], dir);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /pipe {2}\(line 10; Flyte name env\.pipe; @sandbox\.orchestrator\)/);
  assert.match(r.stdout, /inputs: {2}n: int, prefix: str/);
  assert.match(r.stdout, /fib +Flyte task \(@env\.task\) at flow\.py:4; referenced in the task body \(co_names\)/);
  const j = JSON.parse(cli(['list', 'flow.py', '--json'], dir).stdout) as { tasks: { name: string; externals: { name: string }[] }[] };
  assert.deepEqual(j.tasks[0]!.externals.map(e => e.name), ['fib', 'files']);
});

test('run --json: one JSON document with status, output, calls and stdout; tuples become arrays, IO handles stay tagged', () => {
  const dir = project();
  const r = cli(['run', 'flow.py', '--task', 'env.pipe', '--inputs', '@inputs.json', '--stubs', 'stubs.json', '--json'], dir);
  assert.equal(r.code, 0, r.stderr);
  const doc = JSON.parse(r.stdout) as Record<string, unknown>;
  assert.deepEqual(Object.keys(doc), ['status', 'output', 'error', 'calls', 'stdout', 'profile']);
  assert.equal(doc.status, 'ok');
  assert.deepEqual(doc.output, [6, [{ __flyte_io_type__: 'File', path: 's3://b/x.csv', name: 'x.csv', format: '', hash: null }], [6, 8]]);
  assert.equal(doc.stdout, 'n is 3\n');
  const calls = doc.calls as Record<string, unknown>[];
  assert.deepEqual(calls.map(c => [c.seq, c.function, c.source, c.mapParent, c.mapIndex]), [
    [1, 'files', 'stub', null, null], [2, 'flyte_map', 'flyte_map', null, null], [3, 'fib', 'stub', 2, 0], [4, 'fib', 'stub', 2, 1], [5, 'fib', 'stub', null, null],
  ]);
  assert.deepEqual(Object.keys(calls[0]!).slice(0, 8), ['seq', 'function', 'args', 'kwargs', 'status', 'result', 'error', 'source']);
});

test('run: readable trace and result; a sandbox failure exits 1 with a traceback into the file', () => {
  const dir = project();
  let r = cli(['run', 'flow.py', '--inputs', '@inputs.json', '--stubs', 'stubs.json'], dir);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /#1 files\('s3:\/\/b\/'\) -> \[\{'__flyte_io_type__': 'File'/);
  assert.match(r.stdout, /\[1\] #4 fib\(4\) -> 8 {2}\[stub/);
  assert.match(r.stdout, /result: \(6, \[/);
  writeFileSync(join(dir, 'boom.json'), '{"fib": {"raise": "ValueError: no fib today"}, "files": {"value": []}}');
  r = cli(['run', 'flow.py', '--inputs', '@inputs.json', '--stubs', 'boom.json', '--json'], dir);
  assert.equal(r.code, 1);
  const doc = JSON.parse(r.stdout) as { status: string; error: { type: string; message: string; frames: { file: string; line: number; function: string }[] } };
  assert.equal(doc.status, 'error');
  assert.equal(doc.error.type, 'ValueError');
  assert.deepEqual(doc.error.frames.at(-1), { file: join(dir, 'flow.py'), line: 14, column: 13, function: 'pipe' });
  r = cli(['run', 'flow.py', '--inputs', '@inputs.json', '--stubs', 'boom.json'], dir);
  assert.match(r.stdout, /\[0\] #3 fib\(3\) raised ValueError: no fib today/, 'flyte_map items fail as values (return_exceptions=True)');
  assert.match(r.stdout, /Traceback \(most recent call last\):\n {2}File "flow\.py", line 10, in <module>\n.*\n {2}File "flow\.py", line 14, in pipe\n {4}return \(fib\(n\), fs, squares\)\nValueError: no fib today\n {2}hint: raised by the stub result of fib\(\)/);
});

test('bad input: one clear message naming what and where, exit 2, never a stack trace of ours', () => {
  const dir = project();
  writeFileSync(join(dir, 'bad.json'), '{"n": 3,\n "prefix": }');
  writeFileSync(join(dir, 'badstub.json'), '{"fib": {"valu": 1}}');
  writeFileSync(join(dir, 'syntax.py'), flow(`
    @env.sandbox.orchestrator
    def t(n: int) -> int:
        return (n +
  `));
  const cases: [string[], number, RegExp][] = [
    [['run', 'missing.py'], 2, /^flyte-sandbox: missing\.py: no such file\n$/],
    [['run', 'flow.py', '--task', 'nope'], 2, /no sandboxed task 'nope' \(found: pipe \(env\.pipe\)\)/],
    [['run', 'flow.py', '--inputs', '@bad.json'], 2, /bad\.json:2:12: malformed JSON: unexpected character "\}" at line 2 column 12/],
    [['run', 'flow.py', '--inputs', '{"n": 1, "prefix": "x", "m": 2}'], 2, /--inputs: unknown input 'm': pipe\(n: int, prefix: str\) takes 'n', 'prefix'/],
    [['run', 'flow.py', '--inputs', '@inputs.json', '--stubs', 'badstub.json'], 2, /badstub\.json: stub 'fib': unknown key 'valu' \(a stub has exactly one of value, python, raise\)/],
    [['run', 'flow.py', '--inputs', '@inputs.json', '--limits', '{"maxDuration": 1}'], 2, /--limits: unknown limit 'maxDuration' \(known: maxDurationSecs, maxMemory, maxRecursionDepth, maxAllocations\)/],
    [['run', 'flow.py', '--bogus'], 2, /Unknown option '--bogus'/],
    [['frobnicate', 'flow.py'], 2, /unknown command 'frobnicate'/],
    [['run', 'flow.py', '--flyte-profile', '9.9'], 2, /unknown Flyte profile '9\.9' \(known: 2\.2 \(flyte-sdk 2\.2\.1 – 2\.5\.5\), 2\.6 \(flyte-sdk 2\.6\.x\), pooled/],
    [['run', 'flow.py', '--forward', ','], 2, /--forward needs function names \(a,b\) or 'all'/],
  ];
  for (const [args, code, pattern] of cases) {
    const r = cli(args, dir);
    assert.equal(r.code, code, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, pattern, args.join(' '));
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no JS stack trace');
  }
  writeFileSync(join(dir, 'elsewhere.py'), flow(`
    @env.sandbox.orchestrator
    def t(n: int) -> int:
        return n

    def broken(:
        pass
  `));
  const warned = cli(['run', 'elsewhere.py', '--inputs', '{"n": 1}'], dir);
  assert.equal(warned.code, 0);
  assert.match(warned.stderr, /warning: elsewhere\.py:7: Python cannot parse this line, so importing the module would fail in production/);
  assert.match(cli(['run', 'elsewhere.py'], dir).stderr, /t takes n: pass them with --inputs '\{"n": \.\.\.\}'/);
  const r = cli(['run', 'syntax.py', '--inputs', '{"n": 1}'], dir);
  assert.equal(r.code, 1);
  assert.match(r.stdout, /File "syntax\.py", line [56], in t[\s\S]*SyntaxError: /);
});

test('run --forward answers the calls with the real Python functions of the file; unknown names and interpreters are usage errors', () => {
  const dir = writeTree({
    'pipeline.py': readFileSync(join(ROOT, 'test', 'fixtures', 'forward', 'pipeline.py'), 'utf8'),
    'flyte.py': readFileSync(join(ROOT, 'test', 'fixtures', 'forward', 'flyte.py'), 'utf8'),
  });
  const r = cli(['run', 'pipeline.py', '--inputs', '{"n": 4}', '--forward', 'all', '--json'], dir);
  assert.equal(r.code, 0, r.stderr);
  const doc = JSON.parse(r.stdout) as { output: unknown; calls: { function: string; source: string }[] };
  assert.deepEqual(doc.output, [8, 4, 12]);
  assert.deepEqual([...new Set(doc.calls.map(c => `${c.function}:${c.source}`))].sort(), ['check:forward', 'double:forward', 'flyte_map:flyte_map', 'summarize:forward']);
  const partial = cli(['run', 'pipeline.py', '--inputs', '{"n": 4}', '--forward', 'double', '--stubs', '{"summarize": {"value": [4, 12]}, "check": {"python": "args[0]"}}', '--json'], dir);
  assert.equal(partial.code, 0, partial.stderr);
  const sources = (JSON.parse(partial.stdout) as { calls: { function: string; source: string }[] }).calls.map(c => `${c.function}:${c.source}`);
  assert.ok(sources.includes('double:forward') && sources.includes('summarize:stub'), sources.join(' '));
  const unknown = cli(['run', 'pipeline.py', '--inputs', '{"n": 4}', '--forward', 'tripple'], dir);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /--forward: tripple: not an external pipeline may call \(registered: .*double/);
  const noPython = cli(['run', 'pipeline.py', '--inputs', '{"n": 4}', '--forward', 'all', '--python', '/nonexistent/python3'], dir);
  assert.notEqual(noPython.code, 0);
  assert.match(noPython.stdout, /the Python interpreter '\/nonexistent\/python3' was not found, so the call cannot be forwarded: set --python to a Python 3\.10\+ interpreter/);
  assert.doesNotMatch(noPython.stderr, /\n\s+at /, 'no JS stack trace');
});

test('the bundled examples run with their stubs (npm run demo)', () => {
  const r = spawnSync(process.execPath, [join(ROOT, 'scripts', 'demo.mjs')], { cwd: ROOT, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /result: \{'count': 5, 'total': 5\}/);
  assert.match(r.stdout, /report at s3:\/\/demo-bucket\/reports\/sales-by-region\.html/);
  assert.match(r.stdout, /result: \{'total': 82, 'failed': \[/);
});
