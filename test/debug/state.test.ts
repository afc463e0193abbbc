/**
 * The program's own state over DAP, against the real adapter process:
 * locals of every frame, line breakpoints on any statement, stepping by
 * line, watch and hover, data breakpoints, setting a local, post-mortem
 * locals, breakpoint(). Each scenario is also a golden transcript.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { writeTree } from '../helpers.ts';
import { ADAPTER, DapSession } from './dapClient.ts';

const ROOT = join(import.meta.dirname, '..', '..');

before(() => {
  if (!existsSync(ADAPTER)) spawnSync(process.execPath, [join(ROOT, 'scripts', 'build.mjs')], { cwd: ROOT, stdio: 'inherit' });
});

function workspace(): { dir: string; program: string; line: (text: string, nth?: number) => number } {
  const dir = writeTree({});
  copyFileSync(join(ROOT, 'test', 'fixtures', 'dap', 'state.py'), join(dir, 'state.py'));
  const program = join(dir, 'state.py');
  const lines = readFileSync(program, 'utf8').split('\n');
  return {
    dir, program,
    line: (text, nth = 1) => {
      let seen = 0;
      return lines.findIndex(l => l.includes(text) && ++seen === nth) + 1;
    },
  };
}

const STUBS = { price: { python: 'args[1] * 2.5' }, discount: { python: 'args[0] * 0.9' } };
const INPUTS = { items: ['apple', 'pear', 'fig'], code: 'SAVE10' };

const open: DapSession[] = [];
after(async () => {
  for (const s of open) await s.close();
});

async function session(dir: string): Promise<DapSession> {
  const s = await DapSession.start({ [dir]: '<dir>' });
  open.push(s);
  return s;
}

async function stack(s: DapSession): Promise<DebugProtocol.StackFrame[]> {
  return ((await s.request<DebugProtocol.StackTraceResponse>('stackTrace', { threadId: 1 })) as { stackFrames: DebugProtocol.StackFrame[] }).stackFrames;
}

async function scopes(s: DapSession, frameId: number): Promise<DebugProtocol.Scope[]> {
  return ((await s.request<DebugProtocol.ScopesResponse>('scopes', { frameId })) as { scopes: DebugProtocol.Scope[] }).scopes;
}

async function variables(s: DapSession, ref: number): Promise<DebugProtocol.Variable[]> {
  return ((await s.request<DebugProtocol.VariablesResponse>('variables', { variablesReference: ref })) as { variables: DebugProtocol.Variable[] }).variables;
}

/** The Locals of a frame as "name=value" strings. */
async function locals(s: DapSession, frameId: number): Promise<string[]> {
  const scope = (await scopes(s, frameId)).find(x => x.name === 'Locals');
  assert.ok(scope, 'a Locals scope');
  return (await variables(s, scope.variablesReference)).map(v => `${v.name}=${v.value}`);
}

async function stopped(s: DapSession): Promise<DebugProtocol.StoppedEvent['body']> {
  return s.event<DebugProtocol.StoppedEvent['body']>('stopped');
}

test('locals of every frame at an external call; line breakpoints on lines that call nothing; hover and watch see the frame', async () => {
  const w = workspace();
  const s = await session(w.dir);
  await s.launch({ type: 'flyte-sandbox', request: 'launch', program: w.program, task: 'orders', inputs: INPUTS, stubs: STUBS, stopOnExternalCall: ['price'] }, async () => {
    const bps = await s.request('setBreakpoints', { source: { path: w.program }, breakpoints: [{ line: w.line('return unit + 0.5') }, { line: w.line('# a comment inside') }, { line: w.line('"""The program') }, { line: w.line('final = discount') }] }) as { breakpoints: DebugProtocol.Breakpoint[] };
    assert.deepEqual(bps.breakpoints.map(b => b.verified), [true, false, false, true]);
    assert.match(bps.breakpoints[1]!.message!, /is a comment: a breakpoint can stop only before a statement of the task \(the nearest is line \d+\)/);
    assert.match(bps.breakpoints[2]!.message!, /is not part of the sandboxed task orders/);
  });
  // the first stop: price('apple', 5) inside line_total, called from orders
  let stop = await stopped(s);
  assert.deepEqual([stop.reason, stop.description], ['external call', "price('apple', 5)"]);
  let frames = await stack(s);
  assert.deepEqual(frames.map(f => [f.name, f.line]), [["price('apple', 5)  [pending external call]", w.line('unit = price')], ['line_total', w.line('unit = price')], ['orders', w.line('subtotal += line_total')], ['<module>', w.line('def orders')]]);
  assert.deepEqual(await locals(s, frames[1]!.id), ["item='apple'", 'qty=5']);
  assert.deepEqual(await locals(s, frames[2]!.id), ["items=['apple', 'pear', 'fig']", "code='SAVE10'", 'line_total=<function line_total>', 'subtotal=0.0', "it='apple'"]);
  assert.deepEqual(await locals(s, frames[0]!.id), ["item='apple'", 'qty=5'], 'the pending call\'s frame shows the locals of the frame making it');
  assert.ok(!(await scopes(s, frames[3]!.id)).some(x => x.name === 'Locals'), 'no Locals for <module>');
  // watch and hover evaluate in the selected frame
  const watch = await s.request('evaluate', { expression: 'len(items) * 2 + subtotal', context: 'watch', frameId: frames[2]!.id }) as { result: string };
  assert.equal(watch.result, '6.0');
  const hover = await s.request('evaluate', { expression: 'it', context: 'hover', frameId: frames[2]!.id }) as { result: string };
  assert.equal(hover.result, "'apple'");
  const unbound = await s.failing('evaluate', { expression: 'final', context: 'hover', frameId: frames[2]!.id });
  assert.match(unbound, /NameError: name 'final' is not defined: final is not bound in this frame/);
  await s.request('continue', { threadId: 1 });
  // the line breakpoint on `return unit + 0.5` (no external call there): before it runs, unit is bound
  stop = await stopped(s);
  assert.deepEqual([stop.reason, stop.description], ['breakpoint', 'line ' + w.line('return unit + 0.5') + ': return unit + 0.5']);
  frames = await stack(s);
  assert.deepEqual(frames.map(f => f.name), ['line_total', 'orders', '<module>']);
  assert.deepEqual(await locals(s, frames[0]!.id), ["item='apple'", 'qty=5', 'unit=12.5']);
  // remove it; the next stop is the next price call, then the breakpoint before discount
  await s.request('setBreakpoints', { source: { path: w.program }, breakpoints: [{ line: w.line('final = discount') }] });
  await s.request('continue', { threadId: 1 });
  assert.equal((await stopped(s)).description, "price('pear', 4)");
  await s.request('continue', { threadId: 1 });
  assert.equal((await stopped(s)).description, "price('fig', 3)");
  await s.request('continue', { threadId: 1 });
  assert.equal((await stopped(s)).description, "price('shipping', 1)");
  await s.request('continue', { threadId: 1 });
  stop = await stopped(s);
  assert.equal(stop.reason, 'breakpoint');
  frames = await stack(s);
  assert.deepEqual(await locals(s, frames[0]!.id), ["items=['apple', 'pear', 'fig']", "code='SAVE10'", 'line_total=<function line_total>', 'subtotal=31.5', "it='fig'", 'shipping=2.5']);
  await s.request('continue', { threadId: 1 });
  const result = await s.event<{ status: string; output: string }>('flyteSandbox/result');
  assert.equal(result.output, "{'subtotal': 31.5, 'final': 30.6}");
  s.matchGolden('state-locals');
});

test('stepping by line: in, over, out, and back; restart a frame; reverse continue to the previous hit of a line', async () => {
  const w = workspace();
  const s = await session(w.dir);
  await s.launch({ type: 'flyte-sandbox', request: 'launch', program: w.program, task: 'orders', inputs: INPUTS, stubs: STUBS, stopOnEntry: true, stopOnExternalCall: 'none' });
  assert.equal((await stopped(s)).reason, 'entry');
  const at = async () => (await stack(s)).map(f => `${f.name}:${f.line}`)[0];
  const step = async (command: string) => {
    await s.request(command, { threadId: 1 });
    const st = await stopped(s);
    assert.equal(st.reason, 'step');
    return at();
  };
  assert.equal(await step('stepIn'), `orders:${w.line('def line_total')}`);
  assert.equal(await step('next'), `orders:${w.line('subtotal = 0.0')}`);
  assert.equal(await step('next'), `orders:${w.line('for it in items')}`);
  assert.equal(await step('next'), `orders:${w.line('subtotal += line_total')}`);
  // into the helper; its call to price is a stop when stepping in
  assert.equal(await step('stepIn'), `line_total:${w.line('unit = price')}`);
  assert.equal(await step('stepIn'), `price('apple', 5)  [pending external call]:${w.line('unit = price')}`);
  assert.equal(await step('next'), `line_total:${w.line('return unit + 0.5')}`);
  assert.equal(await step('stepOut'), `orders:${w.line('for it in items')}`);
  const frames = await stack(s);
  assert.deepEqual(await locals(s, frames[0]!.id), ["items=['apple', 'pear', 'fig']", "code='SAVE10'", 'line_total=<function line_total>', 'subtotal=13.0', "it='pear'"]);
  // back by line: the previous line of this frame, with its state
  assert.equal(await step('stepBack'), `orders:${w.line('subtotal += line_total')}`);
  assert.deepEqual(await locals(s, (await stack(s))[0]!.id), ["items=['apple', 'pear', 'fig']", "code='SAVE10'", 'line_total=<function line_total>', 'subtotal=0.0', "it='apple'"]);
  // over the helper call: the calls it makes are answered as on continue
  assert.equal(await step('next'), `orders:${w.line('for it in items')}`);
  assert.equal(await step('next'), `orders:${w.line('subtotal += line_total')}`);
  assert.equal(await step('stepIn'), `line_total:${w.line('unit = price')}`);
  // restart the helper's frame: back to its first line, in the same call
  await s.request('restartFrame', { frameId: (await stack(s))[0]!.id });
  assert.equal((await stopped(s)).reason, 'goto');
  assert.equal(await at(), `line_total:${w.line('unit = price')}`);
  assert.deepEqual(await locals(s, (await stack(s))[0]!.id), ["item='pear'", 'qty=4']);
  // reverse continue goes back to the previous hit of a line breakpoint
  await s.request('setBreakpoints', { source: { path: w.program }, breakpoints: [{ line: w.line('return unit + 0.5') }] });
  await s.request('continue', { threadId: 1 });
  assert.equal((await stopped(s)).reason, 'breakpoint');
  await s.request('continue', { threadId: 1 });
  assert.equal((await stopped(s)).reason, 'breakpoint');
  assert.deepEqual(await locals(s, (await stack(s))[0]!.id), ["item='fig'", 'qty=3', 'unit=7.5']);
  await s.request('reverseContinue', { threadId: 1 });
  assert.equal((await stopped(s)).reason, 'breakpoint');
  assert.deepEqual(await locals(s, (await stack(s))[0]!.id), ["item='pear'", 'qty=4', 'unit=10'] /* the stub's 10.0 arrives as 10 (Monty's JS binding) */);
  await s.request('setBreakpoints', { source: { path: w.program }, breakpoints: [] });
  await s.request('continue', { threadId: 1 });
  const result = await s.event<{ status: string; output: string }>('flyteSandbox/result');
  assert.equal(result.output, "{'subtotal': 31.5, 'final': 30.6}");
  s.matchGolden('state-stepping');
});

test('a data breakpoint stops where a local changes, with the old and new value; setVariable changes the run (beyond production)', async () => {
  const w = workspace();
  const s = await session(w.dir);
  await s.launch({ type: 'flyte-sandbox', request: 'launch', program: w.program, task: 'orders', inputs: INPUTS, stubs: STUBS, stopOnExternalCall: 'none' }, async () => {
    await s.request('setBreakpoints', { source: { path: w.program }, breakpoints: [{ line: w.line('for it in items') }] });
  });
  await stopped(s);
  let frames = await stack(s);
  const localsScope = (await scopes(s, frames[0]!.id)).find(x => x.name === 'Locals')!;
  const info = await s.request('dataBreakpointInfo', { variablesReference: localsScope.variablesReference, name: 'subtotal' }) as { dataId: string; description: string; accessTypes: string[] };
  assert.equal(info.description, 'subtotal in orders() changes');
  assert.deepEqual(info.accessTypes, ['write']);
  const notLocal = await s.request('dataBreakpointInfo', { variablesReference: localsScope.variablesReference, name: 'nothing' }) as { dataId: string | null };
  assert.equal(notLocal.dataId, null);
  const set = await s.request('setDataBreakpoints', { breakpoints: [{ dataId: info.dataId }] }) as { breakpoints: DebugProtocol.Breakpoint[] };
  assert.deepEqual(set.breakpoints.map(b => b.verified), [true]);
  await s.request('setBreakpoints', { source: { path: w.program }, breakpoints: [] });
  await s.request('continue', { threadId: 1 });
  let stop = await stopped(s);
  assert.deepEqual([stop.reason, stop.description], ['data breakpoint', `subtotal: 0.0 → 13.0 (changed by line ${w.line('subtotal += line_total')})`]);
  assert.equal((await stack(s))[0]!.line, w.line('for it in items'));
  // set subtotal (beyond production) and continue with it
  frames = await stack(s);
  const scope = (await scopes(s, frames[0]!.id)).find(x => x.name === 'Locals')!;
  const changed = await s.request('setVariable', { variablesReference: scope.variablesReference, name: 'subtotal', value: '100.0' }) as { value: string };
  assert.equal(changed.value, '100.0');
  assert.deepEqual(await locals(s, (await stack(s))[0]!.id), ["items=['apple', 'pear', 'fig']", "code='SAVE10'", 'line_total=<function line_total>', 'subtotal=100.0', "it='pear'"]);
  assert.match(s.output('console'), /subtotal = 100\.0 in orders, set by the debugger \(beyond production/);
  const notInner = await s.failing('setVariable', { variablesReference: scope.variablesReference, name: 'nope', value: '1' });
  assert.match(notInner, /nope is not a local of orders/);
  await s.request('setDataBreakpoints', { breakpoints: [] });
  await s.request('continue', { threadId: 1 });
  const result = await s.event<{ status: string; output: string }>('flyteSandbox/result');
  assert.equal(result.output, "{'subtotal': 118.5, 'final': 108.9}");
  stop = stop ?? undefined;
  s.matchGolden('state-data-breakpoint');
});

test('post-mortem: an uncaught exception shows the failing frame\'s locals; breakpoint() stops here and says production refuses it', async () => {
  const w = workspace();
  const s = await session(w.dir);
  await s.launch({ type: 'flyte-sandbox', request: 'launch', program: w.program, task: 'broken', inputs: { items: ['1', '2', 'x3'] }, stopOnExternalCall: 'none' });
  const stop = await stopped(s);
  assert.deepEqual([stop.reason, stop.description], ['exception', "ValueError: invalid literal for int() with base 10: 'x3'"]);
  const frames = await stack(s);
  assert.deepEqual(frames.map(f => [f.name, f.line]), [['parse', w.line('value = int(text)')], ['broken', w.line('counts.append(parse(it))')], ['<module>', w.line('def broken')]]);
  assert.deepEqual(await locals(s, frames[0]!.id), ["text='x3'"]);
  assert.deepEqual(await locals(s, frames[1]!.id), ["items=['1', '2', 'x3']", 'parse=<function parse>', 'counts=[1, 2]', "it='x3'"]);
  await s.request('continue', { threadId: 1 });
  await s.event('terminated');
  s.matchGolden('state-post-mortem');

  const s2 = await session(w.dir);
  await s2.launch({ type: 'flyte-sandbox', request: 'launch', program: w.program, task: 'paused', inputs: { n: 4 }, stubs: STUBS, stopOnExternalCall: 'none' });
  const b = await stopped(s2);
  assert.deepEqual([b.reason, b.description], ['breakpoint', 'breakpoint() · production refuses this call']);
  assert.match(s2.output('console'), /Production refuses this call and ends the run \(RuntimeError: Sandboxed task called unknown external function: breakpoint\)/);
  const f2 = await stack(s2);
  assert.deepEqual(f2.map(f => [f.name, f.line]), [['paused', w.line('    breakpoint()')], ['<module>', w.line('def paused')]]);
  // (a stub's 10.0 reaches the sandbox as 10: Monty's JS binding cannot tell them apart)
  assert.deepEqual(await locals(s2, f2[0]!.id), ['n=4', 'total=10']);
  await s2.request('continue', { threadId: 1 });
  assert.equal((await s2.event<{ output: string }>('flyteSandbox/result')).output, '10');
  s2.matchGolden('state-breakpoint-builtin');
});
