import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { DebugClient } from '@vscode/debugadapter-testsupport';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { writeTree } from '../helpers.ts';
import { ADAPTER, DapSession } from './dapClient.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const FIXTURE = join(ROOT, 'test', 'fixtures', 'dap');

before(() => {
  if (!existsSync(ADAPTER)) spawnSync(process.execPath, [join(ROOT, 'scripts', 'build.mjs')], { cwd: ROOT, stdio: 'inherit' });
});

/** A fresh copy of the fixture program; transcripts show its folder as <dir>. */
function workspace(): { dir: string; program: string; line: (text: string) => number; lineText: (n: number) => string } {
  const dir = writeTree({});
  copyFileSync(join(FIXTURE, 'flow.py'), join(dir, 'flow.py'));
  // the stand-in flyte module that lets forwarded calls import the program
  copyFileSync(join(ROOT, 'test', 'fixtures', 'forward', 'flyte.py'), join(dir, 'flyte.py'));
  const program = join(dir, 'flow.py');
  const lines = readFileSync(program, 'utf8').split('\n');
  return { dir, program, line: text => lines.findIndex(l => l.includes(text)) + 1, lineText: n => lines[n - 1]! };
}

const STUBS = {
  load: { python: "{'__flyte_io_type__': 'File', 'path': args[0]}" },
  fib: { python: 'args[0] * 10' },
  size: { python: "len(args[0]['path'])" },
};

const open: DapSession[] = [];
after(async () => {
  for (const s of open) await s.close();
});

/** A session on a fresh adapter process, closed when the file's tests end even if a test fails. */
async function session(dir: string): Promise<DapSession> {
  const s = await DapSession.start({ [dir]: '<dir>' });
  open.push(s);
  return s;
}

async function stack(s: DapSession, threadId = 1): Promise<DebugProtocol.StackFrame[]> {
  return ((await s.request<DebugProtocol.StackTraceResponse>('stackTrace', { threadId })) as { stackFrames: DebugProtocol.StackFrame[] }).stackFrames;
}

async function variables(s: DapSession, ref: number): Promise<DebugProtocol.Variable[]> {
  return ((await s.request<DebugProtocol.VariablesResponse>('variables', { variablesReference: ref })) as { variables: DebugProtocol.Variable[] }).variables;
}

async function scope(s: DapSession, frameId: number, name: string): Promise<DebugProtocol.Variable[]> {
  const scopes = ((await s.request<DebugProtocol.ScopesResponse>('scopes', { frameId })) as { scopes: DebugProtocol.Scope[] }).scopes;
  const found = scopes.find(x => x.name === name);
  assert.ok(found, `scope ${name} in ${scopes.map(x => x.name).join(', ')}`);
  return variables(s, found.variablesReference);
}

test('function breakpoint with a condition: stops there, stack lines are the file\'s lines, !return resumes', async () => {
  const w = workspace();
  const s = await session(w.dir);
  await s.launch({ type: 'flyte-sandbox', request: 'launch', program: w.program, inputs: { n: 5, path: 's3://bucket/data.csv' }, stubs: STUBS, stopOnExternalCall: 'none' }, async () => {
    const bps = await s.request('setFunctionBreakpoints', { breakpoints: [{ name: 'fib', condition: 'args[0] == 3' }, { name: 'nope' }, { name: 'size', logMessage: 'size of {args[0]["path"]}' }] }) as { breakpoints: DebugProtocol.Breakpoint[] };
    assert.deepEqual(bps.breakpoints.map(b => b.verified), [true, false, true]);
    assert.match(bps.breakpoints[1]!.message!, /'nope' is not an external this task may call.*Registered: fib, load, size/);
    await s.request('setExceptionBreakpoints', { filters: ['uncaught'] });
  });
  const stopped = await s.event<DebugProtocol.StoppedEvent['body']>('stopped');
  assert.deepEqual([stopped.reason, stopped.description], ['function breakpoint', 'fib(3)']);
  const frames = await stack(s);
  assert.deepEqual(frames.map(f => f.name), ['fib(3)  [pending external call]', 'pipeline', '<module>']);
  assert.equal(frames[0]!.line, w.line('total += fib(i)'));
  assert.equal(frames[1]!.line, w.line('total += fib(i)'));
  assert.match(w.lineText(frames[1]!.line), /fib\(i\)/);
  assert.match(w.lineText(frames[2]!.line), /def pipeline/);
  const pending = await scope(s, frames[0]!.id, 'Pending call');
  assert.deepEqual(pending.map(v => `${v.name}=${v.value}`), ['function=fib', 'call=#5', 'args[0]=3']);
  const ev = await s.request('evaluate', { expression: 'args[0] * 7 + len(history)', context: 'repl', frameId: frames[0]!.id }) as { result: string };
  assert.equal(ev.result, '25');
  await s.request('evaluate', { expression: '!return 1000', context: 'repl', frameId: frames[0]!.id });
  const result = await s.event<{ status: string; output: string }>('flyteSandbox/result');
  assert.equal(result.output, "{'total': 1070, 'size': 20, 'sizes': [50, 60, 70, 80]}");
  await s.event('terminated');
  assert.match(s.output('console'), /size of s3:\/\/bucket\/data\.csv\n/, 'the logpoint printed without stopping');
  s.matchGolden('function-breakpoint');
});

test('line breakpoints: on any statement of the task, unverified elsewhere with the reason; a File local expands to its Flyte fields', async () => {
  const w = workspace();
  const s = await session(w.dir);
  const sizeLine = w.line('"size": size(data)');
  await s.launch({ type: 'flyte-sandbox', request: 'launch', program: w.program, inputs: { n: 2, path: 's3://bucket/data.csv' }, stubs: STUBS, stopOnExternalCall: 'none' }, async () => {
    const bps = await s.request('setBreakpoints', { source: { path: w.program }, breakpoints: [{ line: sizeLine }, { line: w.line('total = 0') }, { line: w.line('def fib') }] }) as { breakpoints: DebugProtocol.Breakpoint[] };
    assert.deepEqual(bps.breakpoints.map(b => b.verified), [true, true, false]);
    assert.match(bps.breakpoints[2]!.message!, /is not part of the sandboxed task pipeline/);
  });
  // `total = 0` calls nothing: the stop is before it runs, with `data` (a File) bound and `total` not yet
  let stopped = await s.event<DebugProtocol.StoppedEvent['body']>('stopped');
  assert.equal(stopped.reason, 'breakpoint');
  let frames = await stack(s);
  assert.deepEqual(frames.map(f => f.name), ['pipeline', '<module>']);
  assert.equal(frames[0]!.line, w.line('total = 0'));
  const locals = await scope(s, frames[0]!.id, 'Locals');
  assert.deepEqual(locals.map(v => v.name), ['n', 'path', 'data']);
  const file = locals.find(v => v.name === 'data')!;
  assert.equal(file.type, 'flyte.io.File');
  assert.equal(file.value, "File(path='s3://bucket/data.csv', name='data.csv', format='', hash=None)");
  const fields = await variables(s, file.variablesReference);
  assert.deepEqual(fields.map(v => `${v.name}=${v.value}`).slice(0, 4), ["path='s3://bucket/data.csv'", "name='data.csv'", "format=''", 'hash=None']);
  const raw = await variables(s, fields.find(v => v.name === 'raw (tagged dict)')!.variablesReference);
  assert.deepEqual(raw.map(v => v.name), ['__flyte_io_type__', 'path', 'name', 'format', 'hash']);
  const history = await scope(s, frames[0]!.id, 'Call history');
  assert.equal(history[0]!.name, "#1 load('s3://bucket/data.csv')");
  await s.request('continue', { threadId: 1 });
  // the return line: its call to size() comes after the stop
  stopped = await s.event<DebugProtocol.StoppedEvent['body']>('stopped');
  frames = await stack(s);
  assert.equal(frames[0]!.line, sizeLine);
  assert.deepEqual((await scope(s, frames[0]!.id, 'Locals')).map(v => `${v.name}=${v.value}`).slice(3), ['total=10', 'i=1', 'sizes=[50, 60, 70, 80]']);
  await s.request('continue', { threadId: 1 });
  await s.event('terminated');
  s.matchGolden('line-breakpoint');
});

test('interactive: !return a Python value, !forward to the real function, !stub for later calls, !raise ends the run like Flyte', async () => {
  const w = workspace();
  const s = await session(w.dir);
  await s.launch({ type: 'flyte-sandbox', request: 'launch', program: w.program, inputs: { n: 3, path: 's3://b/in.csv' }, stopOnExternalCall: ['load', 'size'] }, async () => {
    await s.request('setFunctionBreakpoints', { breakpoints: [{ name: 'fib', condition: 'args[0] < 3' }] });
  });
  const repl = (expression: string) => s.request('evaluate', { expression, context: 'repl' }) as Promise<{ result: string }>;
  assert.equal((await s.event<{ description: string }>('stopped')).description, "load('s3://b/in.csv')");
  await repl(`!return {"__flyte_io_type__": "File", "path": args[0]}`);
  assert.equal((await s.event<{ description: string }>('stopped')).description, 'fib(0)');
  await repl('!forward');
  assert.equal((await s.event<{ description: string }>('stopped')).description, 'fib(1)');
  await s.request('flyteSandbox/resolveCall', { threadId: 1, action: 'forward' });
  assert.equal((await s.event<{ description: string }>('stopped')).description, 'fib(2)');
  await repl('!stub args[0] + 1000');
  // fib is stubbed from now on and the breakpoint's condition skips the map items: the next stop is size(...)
  const sizeStop = await s.event<{ description: string }>('stopped');
  assert.match(sizeStop.description, /^size\(\{'__flyte_io_type__': 'File'/);
  const calls = await scope(s, (await stack(s))[0]!.id, 'Call history');
  assert.deepEqual(calls.map(c => c.value.replace(/ {2}\[.*\]$/, '')), ["-> {'__flyte_io_type__': 'File', 'path': 's3://b/in.csv', 'name': 'in.csv', 'format': '', 'hash': None}", '-> 0', '-> 1', '-> 1002', '-> [1005, 1006, 1007, 1008]', '-> 1005', '-> 1006', '-> 1007', '-> 1008']);
  assert.deepEqual(calls.map(c => /\[(\w+)\]$/.exec(c.value)![1]), ['interactive', 'forward', 'forward', 'interactive', 'flyte_map', 'stub', 'stub', 'stub', 'stub']);
  await s.request('flyteSandbox/resolveCall', { threadId: 1, action: 'raise', exception: 'ValueError: size unknown' });
  const failed = await s.event<{ reason: string; description: string }>('stopped');
  assert.deepEqual([failed.reason, failed.description], ['exception', 'ValueError: size unknown']);
  const info = await s.request('exceptionInfo', { threadId: 1 }) as { exceptionId: string; details: { stackTrace: string } };
  assert.equal(info.exceptionId, 'ValueError');
  assert.match(info.details.stackTrace, /line \d+, in pipeline\n {4}return \{"total": total, "size": size\(data\), "sizes": sizes\}\nValueError: size unknown\n {2}hint: raised by the interactive result of size\(\)/);
  await s.request('continue', { threadId: 1 });
  assert.equal((await s.event<{ exitCode: number }>('exited')).exitCode, 1);
  await s.event('terminated');
  s.matchGolden('interactive');
});

test('flyte_map: items are threads started per the concurrency limit, each continued on its own, results in order', async () => {
  const w = workspace();
  const s = await session(w.dir);
  await s.launch({ type: 'flyte-sandbox', request: 'launch', program: w.program, inputs: { n: 0, path: 'p' }, stubs: STUBS, stopOnExternalCall: ['flyte_map', 'fib'] });
  const gate = await s.event<{ description: string; threadId: number }>('stopped');
  assert.equal(gate.description, "flyte_map('fib', [5, 6, 7, 8], concurrency=2)");
  await s.request('continue', { threadId: 1 });
  const first = await s.event<{ threadId: number; description: string }>('stopped', b => b.threadId !== 1);
  const second = await s.event<{ threadId: number; description: string }>('stopped', b => b.threadId !== 1 && b.threadId !== first.threadId);
  assert.deepEqual([first.description, second.description].sort(), ['fib(5) · flyte_map item 1/4', 'fib(6) · flyte_map item 2/4']);
  const threads = await s.request('threads') as { threads: DebugProtocol.Thread[] };
  assert.deepEqual(threads.threads.map(t => t.name), ['pipeline (sandbox)', 'flyte_map fib [1/4]', 'flyte_map fib [2/4]']);
  const mainStack = await stack(s, 1);
  assert.match(mainStack[0]!.name, /^flyte_map\('fib', \[5, 6, 7, 8\], concurrency=2\) {2}\[0\/2 items done\]$/);
  const itemStack = await stack(s, threads.threads[2]!.id);
  assert.deepEqual(itemStack.map(f => f.name), ['fib(6) · flyte_map item 2/4  [flyte_map item]', 'pipeline', '<module>']);
  await s.request('evaluate', { expression: '!return -6', context: 'repl', frameId: itemStack[0]!.id });
  const third = await s.event<{ threadId: number; description: string }>('stopped', b => b.description.startsWith('fib(7)'));
  await s.request('continue', { threadId: first.threadId, singleThread: true });
  const fourth = await s.event<{ threadId: number; description: string }>('stopped', b => b.description.startsWith('fib(8)'));
  await s.request('continue', { threadId: third.threadId, singleThread: true });
  await s.request('continue', { threadId: fourth.threadId, singleThread: true });
  const result = await s.event<{ output: string }>('flyteSandbox/result');
  assert.equal(result.output, "{'total': 0, 'size': 1, 'sizes': [50, -6, 70, 80]}");
  s.matchGolden('flyte-map');
});

test('time travel: step back, reverse continue, rewind to a call and give it another result', async () => {
  const w = workspace();
  const s = await session(w.dir);
  await s.launch({ type: 'flyte-sandbox', request: 'launch', program: w.program, inputs: { n: 3, path: 'p' }, stubs: STUBS, stopOnExternalCall: ['fib'] }, async () => {
    await s.request('setFunctionBreakpoints', { breakpoints: [{ name: 'load' }] });
  });
  const desc = async () => (await s.event<{ description: string; reason: string }>('stopped'));
  assert.equal((await desc()).description, "load('p')");
  await s.request('continue', { threadId: 1 });
  assert.equal((await desc()).description, 'fib(0)');
  await s.request('continue', { threadId: 1 });
  await desc();
  await s.request('continue', { threadId: 1 });
  assert.equal((await desc()).description, 'fib(2)');
  await s.request('stepBack', { threadId: 1 });
  const back = await desc();
  assert.deepEqual([back.reason, back.description], ['step', 'fib(1)']);
  await s.request('reverseContinue', { threadId: 1 });
  const rc = await desc();
  assert.deepEqual([rc.reason, rc.description], ['breakpoint', 'fib(0)'], 'stopped there earlier (stopOnExternalCall)');
  await s.request('continue', { threadId: 1 });
  assert.equal((await desc()).description, 'fib(1)');
  await s.request('continue', { threadId: 1 });
  assert.equal((await desc()).description, 'fib(2)');
  await s.request('flyteSandbox/rewindTo', { seq: 3 });
  const again = await desc();
  assert.deepEqual([again.reason, again.description], ['goto', 'fib(1)']);
  await s.request('evaluate', { expression: '!return 500', context: 'repl' });
  assert.equal((await desc()).description, 'fib(2)');
  await s.request('setFunctionBreakpoints', { breakpoints: [] });
  await s.request('flyteSandbox/resolveCall', { threadId: 1, action: 'return', value: 7, remember: true });
  // the map items stop too (stopOnExternalCall: fib): continue each until the result
  let result: { output: string } | undefined;
  while (!result) {
    const e = await s.first<{ threadId: number; output: string }>(['stopped', 'flyteSandbox/result']);
    if (e.event === 'stopped') await s.request('continue', { threadId: e.body.threadId, singleThread: true });
    else result = e.body;
  }
  assert.equal(result.output, "{'total': 507, 'size': 1, 'sizes': [7, 7, 7, 7]}", 'fib(1) returned 500 this time; fib is stubbed with 7 from then on');
  s.matchGolden('time-travel');
});

test('an uncaught failure stops with the Python traceback as the stack; exceptionInfo carries it', async () => {
  const w = workspace();
  const s = await session(w.dir);
  await s.launch({ type: 'flyte-sandbox', request: 'launch', program: w.program, inputs: { n: 1, path: 'p' }, stubs: { ...STUBS, size: { raise: 'KeyError: path' } }, stopOnExternalCall: 'none' }, async () => {
    await s.request('setExceptionBreakpoints', { filters: [], filterOptions: [{ filterId: 'uncaught', condition: 'KeyError' }, { filterId: 'raised', condition: 'KeyError' }] });
  });
  const raised = await s.event<{ reason: string; description: string }>('stopped');
  assert.equal(raised.reason, 'exception');
  assert.match(raised.description, /^KeyError raised by size\(\{'__flyte_io_type__': 'File', 'path': 'p'/);
  await s.request('continue', { threadId: 1 });
  const uncaught = await s.event<{ reason: string; description: string }>('stopped');
  assert.deepEqual([uncaught.reason, uncaught.description], ['exception', 'KeyError: path']);
  const frames = await stack(s);
  assert.deepEqual(frames.map(f => [f.name, f.line]), [['pipeline', w.line('"size": size(data)')], ['<module>', w.line('def pipeline')]]);
  await s.request('exceptionInfo', { threadId: 1 });
  await s.request('continue', { threadId: 1 });
  await s.event('terminated');
  assert.match(s.output('stderr'), /Traceback \(most recent call last\):[\s\S]*KeyError: path/);
  s.matchGolden('exception');
});

test('bad launch configurations are answered with errors naming the attribute; the adapter stays up', async () => {
  const w = workspace();
  const s = await session(w.dir);
  await s.request('initialize', { adapterID: 'flyte-sandbox', linesStartAt1: true, columnsStartAt1: true, pathFormat: 'path' });
  const base = { type: 'flyte-sandbox', request: 'launch', program: w.program, inputs: { n: 1, path: 'p' } };
  const cases: [Record<string, unknown>, RegExp][] = [
    [{ ...base, program: undefined }, /^program: the Python file to debug is required/],
    [{ ...base, program: join(w.dir, 'missing.py') }, /^program: no such file: .*missing\.py$/],
    [{ ...base, task: 'nope' }, /^task: no sandboxed task 'nope' \(found: pipeline \(dap\.pipeline\)\)$/],
    [{ ...base, inputs: { n: 1 } }, /^inputs: missing input 'path' for pipeline\(n: int, path: str\)$/],
    [{ ...base, inputs: 'inputs.json' }, /^inputs: no such file: .*inputs\.json$/],
    [{ ...base, stubs: { fib: { valu: 1 } } }, /^stubs: stubs: stub 'fib': unknown key 'valu'/],
    [{ ...base, stopOnExternalCall: 'some' }, /^stopOnExternalCall: expected "all", "none" or a list of function names, got "some"$/],
    [{ ...base, stopOnExternalCall: ['fob'] }, /^stopOnExternalCall: 'fob' is not an external pipeline may call \(registered: fib, load, size\)$/],
    [{ ...base, limits: { maxDurationSecs: -1 } }, /^limits: 'maxDurationSecs' must be a positive number or null \(no limit, as in production\), got -1$/],
    [{ ...base, stopOnEntry: 'yes' }, /^stopOnEntry: expected true or false, got "yes"$/],
    [{ ...base, forward: 3 }, /^forward: expected "all" or a list of function names, got 3$/],
    [{ ...base, replay: 'missing.json' }, /^replay: no such cassette: .*missing\.json$/],
    [{ ...base, record: 'out.json', recordMode: 'sometimes' }, /^recordMode: expected one of once, new_episodes, none, all, got "sometimes"$/],
    [{ ...base, record: 'out.json', redact: ['headers'] }, /^redact: redact path 'headers' is not understood/]
  ];
  for (const [args, pattern] of cases) assert.match(await s.failing('launch', args), pattern);
  s.matchGolden('bad-launch');
  // still answering: a good launch on the same connection works
  const ok = s.request('launch', { ...base, stubs: STUBS, stopOnExternalCall: 'none' });
  await s.event('initialized');
  await s.request('configurationDone', {});
  await ok;
  await s.event('terminated');
});

test('--server=PORT serves DAP on loopback', async () => {
  const w = workspace();
  const server = spawn(process.execPath, [ADAPTER, '--server=0'], { stdio: ['ignore', 'ignore', 'pipe'] });
  try {
    const port = await new Promise<number>((resolve, reject) => {
      server.stderr.on('data', (d: Buffer) => {
        const m = /listening on 127\.0\.0\.1:(\d+)/.exec(d.toString());
        if (m) resolve(Number(m[1]));
      });
      server.on('exit', code => reject(new Error(`adapter exited with ${code}`)));
    });
    const dc = new DebugClient('node', ADAPTER, 'flyte-sandbox');
    await dc.start(port);
    const stopped = dc.waitForEvent('stopped');
    await Promise.all([dc.configurationSequence(), dc.launch({ program: w.program, inputs: { n: 1, path: 'p' }, stubs: STUBS, stopOnExternalCall: ['size'] })]);
    assert.match(((await stopped).body as { description: string }).description, /^size\(/);
    const terminated = dc.waitForEvent('terminated');
    await dc.continueRequest({ threadId: 1 });
    await terminated;
    await dc.stop();
  } finally {
    server.kill();
  }
});

test('stop on entry, hit counts, restart frame, and a call nobody answers stops the session saying what it needs', async () => {
  const w = workspace();
  const s = await session(w.dir);
  await s.launch({ type: 'flyte-sandbox', request: 'launch', program: w.program, inputs: { n: 4, path: 'p' }, stubs: { load: STUBS.load, size: STUBS.size }, stopOnEntry: true, stopOnExternalCall: 'none' }, async () => {
    const bps = await s.request('setFunctionBreakpoints', { breakpoints: [{ name: 'fib', hitCondition: '>= 3' }, { name: 'load', hitCondition: 'sometimes' }] }) as { breakpoints: DebugProtocol.Breakpoint[] };
    assert.equal(bps.breakpoints[1]!.verified, false);
    assert.match(bps.breakpoints[1]!.message!, /hit condition 'sometimes' is not understood/);
  });
  const entry = await s.event<{ reason: string; description: string }>('stopped');
  assert.deepEqual([entry.reason, entry.description], ['entry', "pipeline(n=4, path='p') · before the first line"]);
  assert.equal((await stack(s))[0]!.line, w.line('def pipeline'));
  await s.request('continue', { threadId: 1 });
  // fib has no stub: the first call stops and says it needs a result
  const needs = await s.event<{ reason: string; description: string; text: string }>('stopped');
  assert.deepEqual([needs.reason, needs.description], ['exception', 'fib(0) needs a result: no stub, cassette or forward answers it']);
  assert.match(needs.text, /!return <python expr>/);
  await s.request('evaluate', { expression: '!stub args[0] * 3', context: 'repl' });
  const third = await s.event<{ reason: string; description: string }>('stopped');
  assert.deepEqual([third.reason, third.description], ['function breakpoint', 'fib(2)'], 'hit condition >= 3: the third call');
  const frames = await stack(s);
  await s.request('restartFrame', { frameId: frames[0]!.id });
  const again = await s.event<{ reason: string; description: string }>('stopped');
  assert.deepEqual([again.reason, again.description], ['goto', 'fib(2)']);
  await s.request('setFunctionBreakpoints', { breakpoints: [] });
  await s.request('continue', { threadId: 1 });
  const result = await s.event<{ output: string }>('flyteSandbox/result');
  assert.equal(result.output, "{'total': 18, 'size': 1, 'sizes': [15, 18, 21, 24]}");
  s.matchGolden('entry-and-restart');
});
