/**
 * Every request in every state gets a response and the adapter lives on
 * (issue 11: configurationDone before launch or after a failed one,
 * continue without arguments, a second launch that was never answered,
 * requests with missing or ill-typed arguments answered with TypeError text).
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { assertNoLeftovers } from '../leftovers.ts';
import { FIXTURE, RawDap, STUBS } from './rawDap.ts';

const LAUNCH = { type: 'flyte-sandbox', request: 'launch', program: FIXTURE, inputs: { n: 1, path: 'p' }, stubs: STUBS, stopOnExternalCall: ['size'] };

/** Arguments that satisfy every request's shape, so each reaches its handler (or its state check). */
const ANY_ARGS = {
  threadId: 1, frameId: 1000, variablesReference: 1, expression: '1 + 1', context: 'repl', name: 'x', value: '1', source: { path: FIXTURE }, breakpoints: [],
  filters: [], sourceReference: 1, targetId: 1, text: 'ar', column: 1, seq: 1, action: 'return', adapterID: 'flyte-sandbox', pathFormat: 'path', threadIds: [1],
};

/** Requests that only look or configure, then those that move the run, then those that end it. */
const LOOKING = ['threads', 'stackTrace', 'scopes', 'variables', 'evaluate', 'exceptionInfo', 'source', 'loadedSources', 'completions', 'breakpointLocations', 'dataBreakpointInfo', 'flyteSandbox/pendingCall', 'flyteSandbox/stubs', 'flyteSandbox/follow', 'stepInTargets', 'gotoTargets', 'readMemory', 'disassemble'];
const CONFIGURING = ['setBreakpoints', 'setFunctionBreakpoints', 'setExceptionBreakpoints', 'setDataBreakpoints', 'setInstructionBreakpoints', 'setVariable', 'setExpression', 'flyteSandbox/setStub', 'writeMemory', 'cancel', 'initialize', 'attach', 'launch', 'configurationDone', 'restart', 'flyteSandbox/unknown'];
const MOVING = ['pause', 'continue', 'next', 'stepIn', 'stepOut', 'stepBack', 'reverseContinue', 'restartFrame', 'goto', 'flyteSandbox/rewindTo', 'flyteSandbox/resolveCall', 'terminateThreads'];
const ENDING = ['terminate', 'disconnect'];

const sessions: RawDap[] = [];
after(async () => {
  for (const s of sessions) if (!s.exit) s.kill();
  await assertNoLeftovers('the request-order tests');
});

function adapter(): RawDap {
  const s = RawDap.spawn();
  sessions.push(s);
  return s;
}

/** A response that is an answer a person can read: success, or a message that is not a JS error's text. */
function assertAnswered(r: DebugProtocol.Response, what: string): void {
  if (r.success) return;
  assert.ok(r.message && r.message.length > 5, `${what}: an error response without a message`);
  assert.doesNotMatch(r.message, /Cannot read propert|is not a function|undefined \(reading|TypeError|\{_stack\}|^unrecognized request$/, `${what}: ${r.message}`);
}

async function everyRequest(s: RawDap, state: string, commands: string[]): Promise<void> {
  for (const command of commands) assertAnswered(await s.request(command, ANY_ARGS), `${command} (${state})`);
  assert.equal(s.exit, undefined, `the adapter exited during ${state}: ${s.stderr}`);
}

type Reach = (s: RawDap) => Promise<void>;
const STATES: [string, Reach][] = [
  ['before initialize', async () => undefined],
  ['initialized', async s => void assertAnswered(await s.request('initialize', { adapterID: 'flyte-sandbox', pathFormat: 'path' }), 'initialize')],
  ['after a failed launch', async s => {
    await s.request('initialize', { adapterID: 'flyte-sandbox', pathFormat: 'path' });
    assert.equal((await s.request('launch', { ...LAUNCH, program: '/nonexistent.py' })).success, false);
  }],
  ['launched, not configured', async s => {
    await s.request('initialize', { adapterID: 'flyte-sandbox', pathFormat: 'path' });
    s.send('launch', LAUNCH);
    await s.event('initialized');
  }],
  ['stopped at a call', async s => {
    await s.launch(LAUNCH);
    await s.event('stopped');
  }],
  ['after the run ended', async s => {
    await s.launch({ ...LAUNCH, stopOnExternalCall: 'none' });
    await s.event('terminated');
  }],
  ['disconnected', async s => {
    await s.launch(LAUNCH);
    await s.event('stopped');
    assert.equal((await s.request('disconnect', {})).success, true);
  }],
];

for (const [state, reach] of STATES) {
  test(`every request ${state} is answered and the adapter lives on`, { timeout: 120_000 }, async () => {
    const s = adapter();
    await reach(s);
    await everyRequest(s, state, [...LOOKING, ...CONFIGURING, ...MOVING, ...ENDING]);
    // still there, still answering
    assertAnswered(await s.request('threads'), 'threads at the end');
    await s.close();
    assert.equal(s.exit?.code, 0, s.stderr);
  });
}

test('the orders that took the adapter down are refused with why', { timeout: 120_000 }, async () => {
  const s = adapter();
  await s.request('initialize', { adapterID: 'flyte-sandbox', pathFormat: 'path' });
  const early = await s.request('configurationDone', {});
  assert.equal(early.success, false);
  assert.match(early.message!, /^configurationDone: no program has been launched yet/);
  const bare = await s.request('continue');
  assert.equal(bare.success, false);
  assert.equal(bare.message, 'continue needs arguments: {"threadId": <integer>}');
  assert.match((await s.request('launch', { ...LAUNCH, program: 'missing.py' })).message!, /^program: no such file/);
  assert.match((await s.request('configurationDone', {})).message!, /^configurationDone: no program has been launched yet/);
  // a second launch is answered (it used to be left waiting forever), the first goes on
  const first = await s.launch(LAUNCH, false);
  assert.equal(first.success, true, first.message);
  const second = await s.request('launch', LAUNCH);
  assert.equal(second.success, false);
  assert.match(second.message!, /^launch: this session has already launched .*flow\.py; start a new debug session/);
  assert.match((await s.request('configurationDone', {})).message!, /^configurationDone: the configuration is already done/);
  const stop = await s.event<{ description: string }>('stopped');
  assert.match(stop.description, /^size\(/);
  await s.request('continue', { threadId: 1 });
  await s.event('terminated');
  assert.match((await s.request('configurationDone', {})).message!, /^configurationDone: the run has ended/);
  await s.close();
});

test('missing or ill-typed arguments are named, never answered with a TypeError', { timeout: 120_000 }, async () => {
  const s = adapter();
  await s.launch(LAUNCH);
  await s.event('stopped');
  const cases: [string, unknown, RegExp][] = [
    ['continue', undefined, /^continue needs arguments: \{"threadId": <integer>\}$/],
    ['continue', { threadId: '1' }, /^continue: 'threadId' must be an integer, got "1"$/],
    ['next', {}, /^next: 'threadId' is required \(an integer\)$/],
    ['stepIn', { threadId: null }, /^stepIn: 'threadId' must be an integer, got null$/],
    ['stepOut', [], /^stepOut: arguments must be an object, got \[\]$/],
    ['stepBack', { threadId: 1.5 }, /^stepBack: 'threadId' must be an integer, got 1\.5$/],
    ['reverseContinue', 'x', /^reverseContinue: arguments must be an object/],
    ['pause', undefined, /^pause needs arguments/],
    ['stackTrace', { threadId: 1, levels: 'all' }, /^stackTrace: 'levels' must be an integer, got "all"$/],
    ['scopes', {}, /^scopes: 'frameId' is required/],
    ['variables', { variablesReference: '3' }, /^variables: 'variablesReference' must be an integer/],
    ['evaluate', { expression: 42 }, /^evaluate: 'expression' must be a string, got 42$/],
    ['evaluate', {}, /^evaluate: 'expression' is required/],
    ['exceptionInfo', {}, /^exceptionInfo: 'threadId' is required/],
    ['restartFrame', {}, /^restartFrame: 'frameId' is required/],
    ['setBreakpoints', {}, /^setBreakpoints: 'source' is required/],
    ['setBreakpoints', { source: { path: 5 } }, /^setBreakpoints: 'source\.path' must be a string, got 5$/],
    ['setBreakpoints', { source: { path: FIXTURE }, breakpoints: [{ line: 'ten' }] }, /^setBreakpoints: 'breakpoints\[0\]\.line' must be an integer, got "ten"$/],
    ['setFunctionBreakpoints', {}, /^setFunctionBreakpoints: 'breakpoints' is required \(a list\)$/],
    ['setFunctionBreakpoints', { breakpoints: [{}] }, /^setFunctionBreakpoints: 'breakpoints\[0\]\.name' is required/],
    ['setFunctionBreakpoints', { breakpoints: 'fib' }, /^setFunctionBreakpoints: 'breakpoints' must be a list, got "fib"$/],
    ['setExceptionBreakpoints', {}, /^setExceptionBreakpoints: 'filters' is required/],
    ['setExceptionBreakpoints', { filters: [1] }, /^setExceptionBreakpoints: 'filters\[0\]' must be a string, got 1$/],
    ['setExceptionBreakpoints', { filters: [], filterOptions: [{ condition: 'X' }] }, /'filterOptions\[0\]\.filterId' is required/],
    ['flyteSandbox/resolveCall', { action: 'explode' }, /^flyteSandbox\/resolveCall: 'action' must be one of "return", "raise", "forward", got "explode"$/],
    ['flyteSandbox/resolveCall', {}, /^flyteSandbox\/resolveCall: 'action' is required/],
    ['flyteSandbox/resolveCall', { action: 'return', expression: 5 }, /'expression' must be a string/],
    ['flyteSandbox/resolveCall', { action: 'raise', exception: 5 }, /'exception' must be a string or an object/],
    ['flyteSandbox/setStub', { name: 3 }, /^flyteSandbox\/setStub: 'name' must be a string/],
    ['flyteSandbox/rewindTo', { seq: 'one' }, /^flyteSandbox\/rewindTo: 'seq' must be an integer/],
    ['flyteSandbox/pendingCall', { threadId: 'main' }, /'threadId' must be an integer/],
    ['flyteSandbox/nothing', {}, /^unknown request 'flyteSandbox\/nothing'$/],
    ['setVariable', {}, /not supported|'variablesReference' is required/],
  ];
  for (const [command, args, pattern] of cases) {
    const r = await s.request(command, args);
    assert.equal(r.success, false, `${command} ${JSON.stringify(args)} succeeded`);
    assert.match(r.message!, pattern, `${command} ${JSON.stringify(args)}`);
  }
  // the run is still paused where it was and goes on
  const pending = await s.request('flyteSandbox/pendingCall', { threadId: 1 });
  assert.equal((pending.body as { function: string }).function, 'size');
  await s.request('continue', { threadId: 1 });
  await s.event('terminated');
  await s.close();
});
