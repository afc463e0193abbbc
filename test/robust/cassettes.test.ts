/**
 * Cassettes are untrusted input and hold what was recorded: bad ones are
 * described (not quoted), incomplete ones are not "tested", secrets named by
 * --redact stay out of them whatever part of the run holds them, and a
 * recording killed with SIGKILL leaves a valid file.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { readCassette } from '../../engine/cassette/format.ts';
import { flow, writeTree } from '../helpers.ts';
import { assertNoLeftovers, leftovers } from '../leftovers.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const BIN = join(ROOT, 'bin', 'flyte-sandbox.js');

function cli(args: string[], cwd: string) {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd, encoding: 'utf8', env: { ...process.env, CI: 'true' } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const FLOW = flow(`
  @env.task
  def login(user: str, password: str) -> dict: ...

  @env.task
  def fetch(url: str, token: str) -> str: ...

  @env.sandbox.orchestrator
  def t(user: str, password: str) -> dict:
      session = login(user, password=password)
      body = fetch("https://example.com", token=session["token"])
      return {"body": body, "token": session["token"]}
`);
const INPUTS = '{"user": "ada", "password": "hunter2-input"}';
const STUBS = JSON.stringify({ login: { value: { token: 'tok-from-result' } }, fetch: { python: "'body of ' + args[0]" } });

after(async () => assertNoLeftovers('the cassette tests'));

function recorded(dir: string, redact?: string): string {
  const r = cli(['run', 'flow.py', '--inputs', INPUTS, '--stubs', STUBS, '--record', 'c.json', ...(redact ? ['--redact', redact] : [])], dir);
  assert.equal(r.code, 0, r.stderr);
  return readFileSync(join(dir, 'c.json'), 'utf8');
}

test('--redact keeps inputs, arguments, keyword arguments, results and the output out of the cassette (was: arguments only)', { timeout: 120_000 }, () => {
  const dir = writeTree({ 'flow.py': FLOW });
  const plain = recorded(dir);
  for (const secret of ['hunter2-input', 'tok-from-result']) assert.ok(plain.includes(secret), `without --redact the cassette holds ${secret}`);
  const text = recorded(dir, 'inputs.password,login.kwargs.password,login.result.token,fetch.kwargs.token,output.token,output.body');
  for (const secret of ['hunter2-input', 'tok-from-result']) assert.ok(!text.includes(secret), `${secret} is in the cassette:\n${text}`);
  const c = readCassette(join(dir, 'c.json'));
  assert.deepEqual(c.inputs, { user: 'ada', password: { $redacted: true } });
  assert.deepEqual(c.calls.map(x => [x.function, x.args, x.kwargs, x.result]), [
    ['login', ['ada'], { password: { $redacted: true } }, { token: { $redacted: true } }],
    ['fetch', ['https://example.com'], { token: { $redacted: true } }, 'body of https://example.com'],
  ]);
  assert.deepEqual(c.output, { body: { $redacted: true }, token: { $redacted: true } });
  // `test` needs the redacted inputs again, and a redacted result cannot be replayed as if it were the value
  assert.match(cli(['test', 'c.json'], dir).stderr, /the inputs password were redacted when this cassette was recorded: give all the inputs again with --inputs/);
  const again = cli(['test', 'c.json', '--inputs', INPUTS], dir);
  assert.equal(again.code, 1);
  assert.match(again.stdout, /call #1 login\('ada', password='hunter2-input'\) matches recorded call #1, but its result was redacted \(token\): answer it with a stub or by forwarding/);
});

test('a cassette that is not one is described, not quoted; a corrupted one names the part that is wrong', { timeout: 120_000 }, () => {
  const dir = writeTree({ 'flow.py': FLOW });
  recorded(dir);
  const good = readFileSync(join(dir, 'c.json'), 'utf8');
  const files: [string, string | Buffer, RegExp][] = [
    ['zip.json', Buffer.from('PK\x03\x04secret-inside-the-zip', 'latin1'), /not a cassette: a ZIP archive \(\d+ bytes\); a cassette is plain JSON$/],
    ['gz.json', Buffer.from([0x1f, 0x8b, 8, 0, 1, 2, 3]), /not a cassette: gzip-compressed data/],
    ['bin.json', Buffer.from([0x00, 0xff, 0x13, 0x37, 0x73, 0x65, 0x63]), /not a cassette: binary data \(7 bytes\), not JSON text$/],
    ['text.json', 'password=hunter2\n', /not a cassette: text that is not JSON \(the first error is at line 1, column 1\)$/],
    ['truncated.json', good.slice(0, good.length / 2), /not a cassette: the JSON ends early, at line \d+ \(a truncated file\?\)$/],
    ['empty.json', '', /not a cassette: the file is empty$/],
    ['newer.json', good.replace('"version": 1', '"version": 99'), /cassette version 99 is not supported \(this debugger reads version 1\)/],
    ['notask.json', good.replace('"task": "t"', '"task": 5'), /not a valid cassette: "task" is missing or of the wrong type/],
    ['badargs.json', good.replace('"args": ["ada"]', '"args": "ada"'), /call 0 \(#1 login\): "args" must be a list/],
    ['badwire.json', good.replace('"args": ["ada"]', '"args": [{"$tuple": 5}]'), /call 0 \(#1 login\) args: \[0\]: "\$tuple" must hold a list/],
    ['deep.json', good.replace('"args": ["ada"]', `"args": [${'['.repeat(5000)}${']'.repeat(5000)}]`), /call 0 \(#1 login\) args: .*nested more than 990 levels deep/],
  ];
  for (const [name, content, pattern] of files) {
    writeFileSync(join(dir, name), content);
    for (const args of [['test', name], ['run', 'flow.py', '--inputs', INPUTS, '--replay', name]]) {
      const r = cli(args, dir);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr.trim(), pattern, `${args.join(' ')}`);
      assert.doesNotMatch(r.stderr, /secret-inside|hunter2|internal error|\n\s+at /, `${name}: the message quotes the file or is an internal error`);
    }
  }
  // another task's cassette is said to be so
  const other = good.replace('"task": "t"', '"task": "elsewhere"');
  writeFileSync(join(dir, 'other.json'), other);
  assert.match(cli(['run', 'flow.py', '--inputs', INPUTS, '--replay', 'other.json'], dir).stderr, /was recorded for task elsewhere, not t/);
});

test('`test` on an incomplete cassette says what it is (was: "recorded undefined: undefined")', { timeout: 120_000 }, () => {
  const dir = writeTree({ 'flow.py': FLOW });
  recorded(dir);
  writeFileSync(join(dir, 'inc.json'), readFileSync(join(dir, 'c.json'), 'utf8').replace('"status": "ok"', '"status": "incomplete"').replace(/"output": \{.*\}/, '"output": null'));
  const r = cli(['test', 'inc.json'], dir);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /inc\.json: this cassette is incomplete: the run it recorded was stopped before it ended .* so it holds no result to compare with \(2 calls recorded\); record it again from a run that finishes/);
  assert.doesNotMatch(r.stdout + r.stderr, /undefined/);
});

test('kill -9 of the CLI while it records: the cassette on disk is valid and holds every call up to the last flush; no process is left', { timeout: 120_000 }, async () => {
  const dir = writeTree({
    'flow.py': flow(`
      import time

      @env.task
      def step(i: int) -> int:
          return i * 2

      @env.task
      def hang() -> int:
          while True:
              pass

      @env.sandbox.orchestrator
      def t(n: int) -> int:
          total = 0
          for i in range(n):
              total += step(i)
          return total + hang()
    `),
    'flyte.py': readFileSync(join(ROOT, 'test', 'fixtures', 'forward', 'flyte.py'), 'utf8'),
  });
  const child = spawn(process.execPath, [BIN, 'run', 'flow.py', '--inputs', '{"n": 5}', '--forward', 'all', '--forward-timeout', '0', '--record', 'c.json'], { cwd: dir, stdio: 'ignore', env: { ...process.env, CI: 'true' } });
  const path = join(dir, 'c.json');
  let exited = false;
  child.once('exit', () => {
    exited = true;
  });
  // The recorder flushes within a second of a change: wait for the file to hold the five calls (no clock: the file itself says).
  for (;;) {
    assert.equal(exited, false, 'the CLI ended before it recorded the five calls');
    if (existsSync(path)) {
      try {
        if (readCassette(path).calls.length === 5) break;
      } catch {
        // never seen half-written: writes are atomic (rename); a failure here would fail below
      }
    }
    await new Promise(r => setTimeout(r, 50));
  }
  const burning = leftovers().filter(p => /forward_worker/.test(p.cmd));
  assert.equal(burning.length, 1, 'the forwarded hang() runs in the Python worker');
  child.kill('SIGKILL');
  if (!exited) await new Promise(r => child.once('exit', r));
  const c = readCassette(path);
  assert.equal(c.status, 'incomplete');
  assert.deepEqual(c.calls.map(x => [x.function, x.result]), [['step', 0], ['step', 2], ['step', 4], ['step', 6], ['step', 8]]);
  await assertNoLeftovers('kill -9 of a recording CLI (its sandbox child and the Python worker burning CPU)');
});
