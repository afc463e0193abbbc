/**
 * A seeded DAP fuzz: random requests (known and unknown commands, right and
 * wrong arguments, real launches that stop at calls) and malformed frames,
 * in random order, against the real adapter. It asserts what issue 11 asks
 * of the adapter whatever it is sent: every request is answered, with a
 * message a person can read when it fails, and the adapter never exits.
 * The seed decides everything sent, so a failure is reproduced by its seed
 * (printed with it).
 */
import assert from 'node:assert/strict';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { FIXTURE, RawDap, STUBS } from './rawDap.ts';

/** mulberry32: small, seedable, good enough to pick test cases. */
export function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const COMMANDS = ['initialize', 'launch', 'configurationDone', 'continue', 'next', 'threads', 'stackTrace', 'flyteSandbox/resolveCall', 'evaluate', 'setBreakpoints', 'setFunctionBreakpoints', 'setExceptionBreakpoints', 'threads', 'stackTrace', 'scopes', 'variables', 'evaluate', 'continue', 'next', 'stepIn', 'stepOut', 'stepBack', 'reverseContinue', 'restartFrame', 'pause', 'exceptionInfo', 'terminate', 'source', 'completions', 'setVariable', 'goto', 'attach', 'restart', 'loadedSources', 'flyteSandbox/resolveCall', 'flyteSandbox/pendingCall', 'flyteSandbox/stubs', 'flyteSandbox/setStub', 'flyteSandbox/follow', 'flyteSandbox/rewindTo', 'flyteSandbox/nope', 'nonsense', ''];
const FIELDS = ['threadId', 'frameId', 'variablesReference', 'expression', 'context', 'name', 'value', 'source', 'breakpoints', 'filters', 'filterOptions', 'singleThread', 'startFrame', 'levels', 'start', 'count', 'seq', 'action', 'remember', 'exception', 'adapterID', 'pathFormat', 'program', 'inputs', 'stubs', 'stopOnExternalCall', 'limits', 'targetId', 'text', 'column', 'values'];

export interface FuzzResult {
  requests: number;
  frames: number;
  /** Requests answered with an error (most are refused as out of order or ill-formed: that is the point). */
  failures: number;
  sessions: number;
  stops: number;
}

export async function fuzzAdapter(seed: number, steps: number): Promise<FuzzResult> {
  const rnd = random(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const int = (n: number) => Math.floor(rnd() * n);
  const anyValue = (depth = 0): unknown => {
    switch (int(depth > 2 ? 7 : 10)) {
      case 0: return int(5);
      case 1: return -int(1e9);
      case 2: return pick(['', 'x', '1 + 1', '!return 5', '!raise ValueError("f")', '!forward', '!help', 'args[0]', 'history', '\u0000', 'é'.repeat(int(50))]);
      case 3: return rnd() < 0.5;
      case 4: return null;
      case 5: return 1.5;
      case 6: return undefined;
      case 7: return Array.from({ length: int(3) }, () => anyValue(depth + 1));
      case 8: return Object.fromEntries(Array.from({ length: int(4) }, () => [pick(FIELDS), anyValue(depth + 1)]));
      default: return { line: int(40), name: pick(['fib', 'load', 'size', 'x']) };
    }
  };
  const goodArgs = (command: string): Record<string, unknown> => {
    switch (command) {
      case 'initialize': return { adapterID: 'flyte-sandbox', pathFormat: 'path' };
      case 'launch': return { type: 'flyte-sandbox', request: 'launch', program: FIXTURE, inputs: { n: int(4), path: 'p' }, stubs: STUBS, stopOnExternalCall: pick(['all', 'none', ['fib'], ['size', 'flyte_map']]), stopOnEntry: rnd() < 0.2 };
      case 'flyteSandbox/resolveCall': return { threadId: pick([1, 2, 3, 7]), action: pick(['return', 'raise', 'forward']), value: int(10), exception: 'ValueError: x' };
      case 'setFunctionBreakpoints': return { breakpoints: [{ name: pick(['fib', 'size', 'nope']) }] };
      case 'setBreakpoints': return { source: { path: FIXTURE }, breakpoints: [{ line: int(40) }] };
      case 'setExceptionBreakpoints': return { filters: [pick(['uncaught', 'raised', 'nope'])] };
      default: return { threadId: pick([1, 1, 2, 6, 999]), frameId: pick([1000, 2000, 7]), variablesReference: int(8), expression: pick(['args', '1/0', 'inputs', '!return 1', '!stub args[0]']), seq: int(6), name: 'fib' };
    }
  };
  const garbage = (): Buffer => {
    const body = JSON.stringify({ seq: 900_000 + int(1000), type: 'request', command: pick(COMMANDS) });
    switch (int(9)) {
      case 0: return Buffer.from(`Content-Length: ${body.length - 1 - int(5)}\r\n\r\n${body}`);
      case 1: return Buffer.from(`Content-Length: ${body.length + 1 + int(50)}\r\n\r\n${body}`);
      case 2: return Buffer.from(`Content-Length: ${pick(['-1', 'abc', '', '1e3', '99999999999999'])}\r\n\r\n`);
      case 3: return Buffer.from(`Content-Length: 4\r\n\r\nnull`);
      case 4: return Buffer.concat([Buffer.from(`Content-Length: 5\r\n\r\n`), Buffer.from([0x22, 0xff, 0xfe, 0xfd, 0x22])]);
      case 5: return Buffer.from(`Content-Length: ${body.length}\n\n${body}`);
      case 6: return Buffer.from(Array.from({ length: 1 + int(200) }, () => int(256)));
      case 7: return Buffer.from(`Content-Length: 2\r\n\r\n[]`);
      default: return Buffer.from(`Content-Length: 30\r\n\r\n{"type": "event", "event": "x"}`);
    }
  };

  const result: FuzzResult = { requests: 0, frames: 0, failures: 0, sessions: 0, stops: 0 };
  let s = RawDap.spawn();
  let deferred: number[] = [];
  /** End the session as a client would, checking on the way out that it answered everything. */
  const finish = async (): Promise<void> => {
    assert.ok((await s.request('threads')).seq > 0, 'still answering');
    await s.request('disconnect', {});
    for (const seq of deferred) await s.response(seq);
    await s.close();
    assert.equal(s.exit?.code, 0, `the adapter's exit: ${JSON.stringify(s.exit)}; stderr: ${s.stderr.slice(-2000)}`);
    result.stops += s.messages.filter(m => m.type === 'event' && (m as DebugProtocol.Event).event === 'stopped').length;
    result.sessions++;
  };
  const begin = async (): Promise<void> => {
    deferred = [];
    // Most sessions start like a client would, so the fuzz reaches launched and stopped states.
    if (rnd() < 0.8) await s.request('initialize', goodArgs('initialize'));
    if (rnd() < 0.6) {
      const seq = s.send('launch', goodArgs('launch'));
      result.requests++;
      await s.until(() => s.messages.some(m => (m.type === 'response' && (m as DebugProtocol.Response).request_seq === seq) || (m.type === 'event' && (m as DebugProtocol.Event).event === 'initialized')) || undefined);
      if (!s.messages.some(m => m.type === 'response' && (m as DebugProtocol.Response).request_seq === seq)) deferred.push(seq);
      if (rnd() < 0.7) await s.request('configurationDone', {});
    }
  };
  try {
    await begin();
    for (let step = 0; step < steps; step++) {
      if (rnd() < 0.12) {
        s.raw(garbage());
        result.frames++;
        continue;
      }
      // A session that has ended (or was ended) is replaced now and then, as a client starts a new one.
      const over = s.messages.some(m => m.type === 'event' && (m as DebugProtocol.Event).event === 'terminated');
      if (over && rnd() < 0.3) {
        await finish();
        s = RawDap.spawn();
        await begin();
        continue;
      }
      const command = rnd() < 0.1 ? pick(COMMANDS) + pick(['', 'X', '/x']) : pick(COMMANDS);
      const args = rnd() < 0.6 ? goodArgs(command) : rnd() < 0.8 ? anyValue() : undefined;
      const seq = s.send(command, args);
      result.requests++;
      if (command === 'launch') {
        // answered now (refused) or after configurationDone: wait for either the response or the initialized event
        const at = s.messages.length;
        await s.until(() => s.messages.slice(at - 1).some(m => (m.type === 'response' && (m as DebugProtocol.Response).request_seq === seq) || (m.type === 'event' && (m as DebugProtocol.Event).event === 'initialized')) || undefined);
        if (!s.messages.some(m => m.type === 'response' && (m as DebugProtocol.Response).request_seq === seq)) deferred.push(seq);
        continue;
      }
      const r = await s.response(seq);
      if (!r.success) {
        result.failures++;
        assert.ok(r.message && r.message.length > 3, `${command}: an error without a message`);
        assert.doesNotMatch(r.message, /Cannot read propert|is not a function|\(reading '|\{_stack\}/, `${command} ${JSON.stringify(args)?.slice(0, 200)}: ${r.message}`);
      }
      assert.equal(s.exit, undefined, `the adapter exited after ${command}: ${s.stderr.slice(-2000)}`);
    }
    await finish();
    return result;
  } catch (e) {
    if (!s.exit) s.kill();
    const err = e as Error;
    err.message = `DAP fuzz failed with seed ${seed} (rerun: FUZZ_SEED=${seed}): ${err.message}`;
    throw err;
  }
}
