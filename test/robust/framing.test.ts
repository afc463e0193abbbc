/**
 * Malformed DAP framing (issue 11: the stdio adapter exited silently or went
 * deaf for good; in --server mode every such connection kept its runtime
 * child alive): each bad frame is reported on stderr and in an output
 * event, requests that can still be identified are answered, the reader
 * resynchronises, and a connection that ends frees its children.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, test } from 'node:test';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { FrameReader, type FrameProblem } from '../../debug-adapter/framing.ts';
import { assertNoLeftovers, leftovers } from '../leftovers.ts';
import { ADAPTER, FIXTURE, RawDap, STUBS } from './rawDap.ts';

after(async () => assertNoLeftovers('the framing tests'));

function frame(body: string | Buffer, header = (n: number) => `Content-Length: ${n}\r\n\r\n`): Buffer {
  const b = typeof body === 'string' ? Buffer.from(body) : body;
  return Buffer.concat([Buffer.from(header(b.length)), b]);
}

function request(seq: number, command: string, args?: unknown): string {
  return JSON.stringify({ seq, type: 'request', command, ...(args ? { arguments: args } : {}) });
}

function read(chunks: Buffer[]): { messages: DebugProtocol.ProtocolMessage[]; problems: FrameProblem[] } {
  const messages: DebugProtocol.ProtocolMessage[] = [];
  const problems: FrameProblem[] = [];
  const r = new FrameReader(m => messages.push(m), p => problems.push(p));
  for (const c of chunks) r.push(c);
  r.end();
  return { messages, problems };
}

test('FrameReader: good frames in any chunking, a long body read once, bad frames reported and skipped', () => {
  const good = Buffer.concat([frame(request(1, 'threads')), frame(request(2, 'evaluate', { expression: 'x'.repeat(40_000) }))]);
  for (const size of [1, 7, 4096, good.length]) {
    const chunks: Buffer[] = [];
    for (let i = 0; i < good.length; i += size) chunks.push(good.subarray(i, i + size));
    const { messages, problems } = read(chunks);
    assert.deepEqual(messages.map(m => m.seq), [1, 2], `chunks of ${size}`);
    assert.deepEqual(problems, []);
  }
  const next = frame(request(9, 'threads'));
  const cases: [string, Buffer, RegExp, number | undefined][] = [
    ['not JSON', frame('{"seq": 3, "type": "request", "command": "threads"'), /a frame's body of \d+ bytes is not JSON/, 3],
    ['null', frame('null'), /a frame's body is null, not a protocol message object/, undefined],
    ['a list', frame('[1, 2]'), /a frame's body is a list/, undefined],
    ['invalid UTF-8', frame(Buffer.concat([Buffer.from('{"seq": 4, "type": "request", "command": "threads", "x": "'), Buffer.from([0xff, 0xfe]), Buffer.from('"}')])), /a frame's body is not valid UTF-8 \(\d+ bytes\)/, 4],
    ['no command', frame('{"seq": 5, "type": "request"}'), /a request without a "command" string was skipped/, undefined],
    ['an event', frame('{"seq": 6, "type": "event", "event": "x"}'), /a message of type "event" was skipped/, undefined],
    ['length abc', Buffer.from('Content-Length: abc\r\n\r\n'), /Content-Length "abc" is not a byte count/, undefined],
    ['length negative', Buffer.from('Content-Length: -5\r\n\r\n'), /Content-Length "-5" is not a byte count/, undefined],
    ['length over the limit', Buffer.from('Content-Length: 99999999999\r\n\r\n'), /Content-Length 99999999999 is over the limit/, undefined],
    ['no length', Buffer.from('Content-Type: json\r\n\r\n'), /skipped \d+ bytes that are not a frame \(a header without Content-Length\)/, undefined],
    ['too small', frame(request(7, 'threads'), n => `Content-Length: ${n - 10}\r\n\r\n`), /is not JSON|skipped/, 7],
    ['too large', frame(request(8, 'threads'), n => `Content-Length: ${n + 500}\r\n\r\n`), /Content-Length \d+ is larger than the message \(the next frame header starts after \d+ bytes\)/, 8],
  ];
  for (const [what, bad, pattern, answerable] of cases) {
    const { messages, problems } = read([bad, next]);
    assert.deepEqual(messages.map(m => m.seq), [9], `${what}: the next frame is read`);
    assert.ok(problems.some(p => pattern.test(p.message)), `${what}: ${problems.map(p => p.message).join(' | ')}`);
    assert.deepEqual(problems.map(p => p.request?.seq).filter(x => x !== undefined), answerable === undefined ? [] : [answerable], `${what}: which request can still be answered`);
  }
  const lf = read([frame(request(1, 'threads'), n => `Content-Length: ${n}\n\n`)]);
  assert.deepEqual(lf.messages.map(m => m.seq), [1]);
  assert.match(lf.problems[0]!.message, /LF only; DAP expects CRLF \(accepted\)/);
  const cut = read([Buffer.from('Content-Length: 100\r\n\r\n{"seq": 3, "type": "request", "command": "threads"')]);
  assert.match(cut.problems[0]!.message, /the input ended inside a frame: Content-Length 100 announced, \d+ bytes received/);
});

test('the stdio adapter reports each bad frame, answers what it can, and goes on answering (was: exit 0 or deaf for good)', { timeout: 120_000 }, async () => {
  const s = RawDap.spawn();
  assert.equal((await s.request('initialize', { adapterID: 'flyte-sandbox', pathFormat: 'path' })).success, true);
  const bad: [string, Buffer][] = [
    ['not JSON', frame('this is not json')],
    ['null', frame('null')],
    ['invalid UTF-8', frame(Buffer.from([0x7b, 0xff, 0x7d]))],
    ['length too small', frame(request(101, 'threads'), n => `Content-Length: ${n - 9}\r\n\r\n`)],
    ['length abc', Buffer.from('Content-Length: abc\r\n\r\n{}')],
    ['negative length', Buffer.from('Content-Length: -1\r\n\r\n')],
    ['length too large', frame(request(102, 'threads'), n => `Content-Length: ${n + 1000}\r\n\r\n`)],
    ['LF-only headers', frame(request(103, 'threads'), n => `Content-Length: ${n}\n\n`)],
  ];
  for (const [what, bytes] of bad) {
    const at = s.messages.length;
    s.raw(bytes);
    const r = await s.request('threads');
    assert.equal(r.success, true, `${what}: the next request is answered`);
    const reported = s.messages.slice(at).filter(m => m.type === 'event' && (m as DebugProtocol.Event).event === 'output').map(m => (m as DebugProtocol.OutputEvent).body.output);
    assert.ok(reported.some(o => /bad DAP frame on stdio/.test(o)), `${what}: reported in an output event`);
  }
  for (const seq of [101, 102]) assert.match((await s.response(seq)).message!, /^the request's frame was malformed: /, `request ${seq} answered`);
  assert.equal((await s.response(103)).success, true, 'the LF-only request was handled');
  assert.match(s.stderr, /bad DAP frame on stdio: a frame's body of \d+ bytes is not JSON/);
  // a real session still works on the same connection
  const launched = await s.launch({ type: 'flyte-sandbox', request: 'launch', program: FIXTURE, inputs: { n: 1, path: 'p' }, stubs: STUBS, stopOnExternalCall: 'none' }, false);
  assert.equal(launched.success, true, launched.message);
  await s.event('terminated');
  // the input ending inside a frame ends the adapter cleanly
  s.raw('Content-Length: 50\r\n\r\n{"seq"');
  await s.close();
  assert.equal(s.exit?.code, 0, s.stderr);
  assert.match(s.stderr, /the input ended inside a frame/);
});

test('--server: a connection that sends junk and goes, with or without disconnect, frees its runtime child; the server goes on', { timeout: 120_000 }, async () => {
  const server = spawn(process.execPath, [ADAPTER, '--server=0'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  const port = await new Promise<number>((resolve, reject) => {
    server.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      const m = /listening on 127\.0\.0\.1:(\d+)/.exec(stderr);
      if (m) resolve(Number(m[1]));
    });
    server.once('exit', code => reject(new Error(`server exited with ${code}: ${stderr}`)));
  });
  try {
    const children = () => leftovers().filter(p => /runtimeHost\.js/.test(p.cmd)).length;
    for (let i = 0; i < 5; i++) {
      const c = await RawDap.connect(port);
      const r = await c.launch({ type: 'flyte-sandbox', request: 'launch', program: FIXTURE, inputs: { n: 1, path: 'p' }, stubs: STUBS, stopOnExternalCall: 'all' });
      assert.equal(r.success, true, r.message);
      await c.event('stopped');
      c.raw(frame('{"garbage": '));
      c.raw(Buffer.from('Content-Length: 999999\r\n\r\n{"seq": 1'));
      if (i % 2) await c.request('disconnect', {});
      await c.close();
      await c.exited;
    }
    // nothing of the five sessions is left, while the server itself runs on
    while (children() > 0) await new Promise(r => setTimeout(r, 50));
    const last = await RawDap.connect(port);
    assert.equal((await last.request('initialize', { adapterID: 'x', pathFormat: 'path' })).success, true);
    await last.close();
    assert.equal(server.exitCode, null, 'the server is still up');
  } finally {
    server.kill('SIGTERM');
    await new Promise(r => server.once('exit', r));
  }
});
