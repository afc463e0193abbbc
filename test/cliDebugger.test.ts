/**
 * `flyte-sandbox debug`: the pdb-style terminal debugger, driven as a user
 * scripts it (commands piped to the built CLI's stdin).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { writeTree } from './helpers.ts';

const ROOT = join(import.meta.dirname, '..');
const CLI = join(ROOT, 'bin', 'flyte-sandbox.js');

before(() => {
  if (!existsSync(join(ROOT, 'dist', 'runtimeHost.js'))) spawnSync(process.execPath, [join(ROOT, 'scripts', 'build.mjs')], { cwd: ROOT, stdio: 'inherit' });
});

function program(): { dir: string; file: string } {
  const dir = writeTree({});
  copyFileSync(join(ROOT, 'test', 'fixtures', 'dap', 'state.py'), join(dir, 'state.py'));
  return { dir, file: join(dir, 'state.py') };
}

const STUBS = JSON.stringify({ price: { python: 'args[1] * 2.5' }, discount: { python: 'args[0] * 0.9' } });

function debug(dir: string, args: string[], commands: string[]): { stdout: string; stderr: string; status: number | null } {
  const r = spawnSync(process.execPath, [CLI, 'debug', ...args], { cwd: dir, input: commands.join('\n') + '\n', encoding: 'utf8', timeout: 120_000 });
  return { stdout: r.stdout, stderr: r.stderr, status: r.status };
}

test('debug: break on a line, where, locals, print in a selected frame, list, step and continue to the result', () => {
  const { dir, file } = program();
  const r = debug(dir, [file, '--task', 'orders', '--inputs', '{"items": ["apple", "pear"], "code": "X"}', '--stubs', STUBS], [
    'b 22', 'b 21', 'c', 'w', 'a', 'p unit * 2', 'u', 'p subtotal + len(items)', 'l', 'n', 'n', 'p it', 'cl', 'c',
  ]);
  assert.equal(r.status, 0, r.stderr);
  const out = r.stdout;
  assert.match(out, /^reproducing flyte-sdk 2\.6\.x .*\ndebugging orders \(state\.py:18\); h for help\n> state\.py\(18\) orders {2}\[before the first line\]\n/);
  assert.match(out, /\(flyte\) b 22\nBreakpoint 1 at state\.py:22\n/);
  assert.match(out, /\(flyte\) b 21\n\*\*\* line 21 is a comment: a breakpoint can stop only before a statement of the task \(the nearest is line 22\)\n/);
  assert.match(out, /\(flyte\) c\n> state\.py\(22\)line_total\(\)\n-> return unit \+ 0\.5\n/);
  assert.match(out, /\(flyte\) w\n> state\.py\(22\)line_total\(\)\n {2}state\.py\(26\)orders\(\)\n {2}state\.py\(18\)<module>\(\)\n/);
  assert.match(out, /\(flyte\) a\nitem = 'apple'\nqty = 5\nunit = 12\.5\n/);
  assert.match(out, /\(flyte\) p unit \* 2\n25\.0\n/);
  assert.match(out, /\(flyte\) u\n> state\.py\(26\)orders\(\)\n\(flyte\) p subtotal \+ len\(items\)\n2\.0\n/);
  assert.match(out, / {2}26 -> {9}subtotal \+= line_total\(it, len\(it\)\)\n/);
  assert.match(out, /\(flyte\) n\n> state\.py\(25\)orders\(\)\n-> for it in items:\n\(flyte\) n\n> state\.py\(26\)orders\(\)\n/);
  assert.match(out, /\(flyte\) p it\n'pear'\n/);
  assert.match(out, /result: \{'subtotal': 23\.5, 'final': 23\.400000000000002\}\n/);
});

test('debug: an external call waits for an answer (!return), a failure shows its traceback and post-mortem locals', () => {
  const { dir, file } = program();
  const r = debug(dir, [file, '--task', 'orders', '--inputs', '{"items": ["fig"], "code": "X"}', '--stop-on-calls'], [
    'c', '!return 4.0', 'a', 'c', '!return 1.5', 'c', '!return 2.0',
  ]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /external call price\('fig', 3\): !return EXPR, !raise EXC, !forward, or c to let stubs answer\n> state\.py\(20\) price\('fig', 3\) {2}\[pending external call\]\n-> unit = price\(item, qty\)\n/);
  // (!return 2.0 reaches the sandbox as 2: Monty's JS binding cannot tell them apart)
  assert.match(r.stdout, /result: \{'subtotal': 4\.5, 'final': 2\}\n/);

  const broken = debug(dir, [file, '--task', 'broken', '--inputs', '{"items": ["1", "x"]}'], ['c', 'w', 'a', 'u', 'a', 'c']);
  assert.equal(broken.status, 1);
  assert.match(broken.stdout, /\*\*\* ValueError: invalid literal for int\(\) with base 10: 'x'\n> state\.py\(36\)parse\(\)\n-> value = int\(text\)\n/);
  assert.match(broken.stdout, /\(flyte\) a\ntext = 'x'\n\(flyte\) u\n> state\.py\(41\)broken\(\)\n\(flyte\) a\nitems = \['1', 'x'\]\nparse = <function parse>\ncounts = \[1\]\nit = 'x'\n/);
  assert.match(broken.stderr, /Traceback \(most recent call last\):[\s\S]*ValueError: invalid literal for int\(\) with base 10: 'x'\n$/);
});

test('debug: bad usage names the option; the end of the input quits', () => {
  const { dir, file } = program();
  const bad = debug(dir, [file, '--task', 'orders', '--inputs', '{"items": 3}'], []);
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /^flyte-sandbox: --inputs: /);
  const quiet = debug(dir, [file, '--task', 'orders', '--inputs', '{"items": [], "code": "X"}', '--stubs', STUBS], []);
  assert.equal(quiet.status, 1);
  assert.match(quiet.stdout, /\(the run was stopped\)\n$/);
});
