/**
 * Every launch attribute with a wrong type or an impossible value gets an
 * error naming the attribute; none crashes the runtime child or is accepted
 * wrongly, and the same session can launch properly afterwards.
 */
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { LAUNCH_ATTRIBUTES } from '../../engine/debug/launchConfig.ts';
import { writeTree } from '../helpers.ts';
import { assertNoLeftovers } from '../leftovers.ts';
import { FIXTURE, RawDap, STUBS } from './rawDap.ts';

const BASE = { type: 'flyte-sandbox', request: 'launch', program: FIXTURE, inputs: { n: 1, path: 'p' }, stubs: STUBS, stopOnExternalCall: 'none' };

/** A value of the wrong type for every attribute, and what the error must say. */
const WRONG: Record<(typeof LAUNCH_ATTRIBUTES)[number], [unknown, RegExp][]> = {
  program: [[5, /^program: the Python file to debug is required/], ['', /^program: the Python file to debug is required/], ['/nonexistent/x.py', /^program: no such file/]],
  task: [[5, /^task: expected a non-empty string, got 5$/], ['', /^task: expected a non-empty string/]],
  inputs: [[5, /^inputs: expected an object or the path of a JSON file, got 5$/], [[1], /^inputs: expected an object or the path/]],
  stubs: [[5, /^stubs: expected an object or the path of a JSON file, got 5$/], [{ fib: 3 }, /^stubs: /]],
  stubModule: [[5, /^stubModule: expected a non-empty string, got 5$/], ['/nonexistent.js', /^stubModule: no such file/], ['/', /^stubModule: no such file: \//]],
  stopOnEntry: [['yes', /^stopOnEntry: expected true or false, got "yes"$/], [1, /^stopOnEntry: expected true or false, got 1$/]],
  stopOnExternalCall: [[5, /^stopOnExternalCall: expected "all", "none" or a list/], [[1], /^stopOnExternalCall: expected/]],
  externals: [['fib', /^externals: expected a list of function names, got "fib"$/], [[1], /^externals: expected a list/]],
  limits: [[5, /^limits: expected an object or the path of a JSON file, got 5$/], [{ maxDurationSecs: 1e308 }, /^limits: 'maxDurationSecs' must be at most 1000000000/], [{ maxMemory: 'lots' }, /^limits: 'maxMemory' must be a positive integer or null \(no limit, as in production\), got "lots"$/], [{ maxRecursionDepth: 1.5 }, /^limits: 'maxRecursionDepth' must be a positive integer/]],
  record: [[5, /^record: expected a non-empty string, got 5$/]],
  replay: [[5, /^replay: expected a non-empty string, got 5$/], ['/nonexistent.json', /^replay: no such cassette/]],
  recordMode: [[5, /^recordMode: expected a non-empty string, got 5$/]],
  replayMismatch: [[5, /^replayMismatch: expected a non-empty string, got 5$/]],
  redact: [['kwargs.token', /^redact: expected a list of paths/], [['nonsense'], /^redact: redact path 'nonsense' is not understood/]],
  forward: [[5, /^forward: expected "all" or a list of function names, got 5$/], [['nothere'], /^forward: 'nothere' is not an external pipeline may call \(registered: fib, load, size\)$/]],
  python: [[5, /^python: expected a non-empty string, got 5$/]],
  forwardTimeout: [['10', /^forwardTimeout: expected a number of seconds \(0 for no limit\), got "10"$/], [-1, /^forwardTimeout: expected a number of seconds/]],
  raiseInSandbox: [['no', /^raiseInSandbox: expected true or false, got "no"$/]],
  pythonVersion: [[3.12, /^pythonVersion: expected a non-empty string, got 3\.12$/], ['2.7', /^pythonVersion: expected one of 3\.10/]],
  flyteProfile: [[2.6, /^flyteProfile: expected a non-empty string, got 2\.6$/], ['1.0', /^flyteProfile: unknown Flyte profile "1\.0"/]],
  instrument: [['yes', /^instrument: expected true or false, got "yes"$/]],
  remote: [[5, /^remote: expected "all" or a list of function names, got 5$/]],
  project: [[5, /^project: expected a non-empty string, got 5$/], ['p', /^project: only applies to calls forwarded to the cluster/]],
  domain: [[[], /^domain: expected a non-empty string, got \[\]$/]],
  flyteConfig: [[5, /^flyteConfig: expected a non-empty string, got 5$/], ['/nonexistent.yaml', /^flyteConfig: no such file/]],
  remoteMaxInFlight: [[0, /^remoteMaxInFlight: expected a whole number of 1 or more, got 0$/]],
  stopAtCall: [['3', /^stopAtCall: expected a whole number of 1 or more, got "3"$/]],
  cwd: [[5, /^cwd: expected the path of a folder, got 5$/], [[], /^cwd: expected the path of a folder, got \[\]$/], ['', /^cwd: expected the path of a folder, got ""$/], ['/nonexistent/folder', /^cwd: no such folder: \/nonexistent\/folder$/]],
};

const sessions: RawDap[] = [];
after(async () => {
  for (const s of sessions) if (!s.exit) s.kill();
  await assertNoLeftovers('the launch-value tests');
});

async function launchFails(s: RawDap, args: Record<string, unknown>, pattern: RegExp, what: string): Promise<void> {
  const r = await s.request('launch', args);
  assert.equal(r.success, false, `${what} was accepted`);
  assert.match(r.message!, pattern, what);
  assert.doesNotMatch(r.message!, /\n\s+at |Cannot read|TypeError|SandboxCrashed/, `${what}: ${r.message}`);
}

test('every launch attribute with a wrong type or value is an error naming it; the session launches properly afterwards', { timeout: 240_000 }, async () => {
  assert.deepEqual(Object.keys(WRONG).sort(), [...LAUNCH_ATTRIBUTES].sort(), 'a case for every attribute');
  const s = RawDap.spawn();
  sessions.push(s);
  await s.request('initialize', { adapterID: 'flyte-sandbox', pathFormat: 'path' });
  for (const [attribute, cases] of Object.entries(WRONG)) {
    for (const [value, pattern] of cases) await launchFails(s, { ...BASE, [attribute]: value }, pattern, `${attribute}: ${JSON.stringify(value)}`);
  }
  const ok = await s.launch(BASE, false);
  assert.equal(ok.success, true, ok.message);
  await s.event('terminated');
  await s.close();
});

test('values that crashed the runtime child are errors naming the attribute (record into a missing folder or onto one, a huge duration, inputs nested 2,000 deep)', { timeout: 120_000 }, async () => {
  const dir = writeTree({});
  mkdirSync(join(dir, 'afolder'));
  const s = RawDap.spawn();
  sessions.push(s);
  await s.request('initialize', { adapterID: 'flyte-sandbox', pathFormat: 'path' });
  let deep: unknown = 'p';
  for (let i = 0; i < 2000; i++) deep = [deep];
  const cases: [Record<string, unknown>, RegExp][] = [
    [{ record: join(dir, 'nowhere', 'c.json') }, /^record: no such folder: .*nowhere \(create it first\)$/],
    [{ record: join(dir, 'afolder') }, /^record: .*afolder is a folder; give the path of a file to write/],
    [{ replay: join(dir, 'afolder'), recordMode: 'once' }, /^replay: .*afolder is a folder; give the path of a file to write/],
    [{ limits: { maxDurationSecs: 1e308 } }, /^limits: 'maxDurationSecs' must be at most/],
    [{ inputs: { n: 1, path: deep } }, /^inputs: .*nested more than 990 levels deep/],
  ];
  for (const [extra, pattern] of cases) await launchFails(s, { ...BASE, ...extra }, pattern, JSON.stringify(extra).slice(0, 80));
  const ok = await s.launch({ ...BASE, record: join(dir, 'c.json') }, false);
  assert.equal(ok.success, true, ok.message);
  await s.event('terminated');
  assert.doesNotMatch(s.output(), /SandboxCrashed|exited unexpectedly/);
  await s.close();
});
