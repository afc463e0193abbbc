/**
 * A DAP client for hostile tests: it can send any bytes (bad frames
 * included), any request in any order, and it records every message and
 * the adapter's stderr and exit. Waiting has no deadline of its own: a test
 * that is never answered fails by the test's timeout, so nothing here
 * depends on how fast a busy machine is.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import type { DebugProtocol } from '@vscode/debugprotocol';

export const ROOT = join(import.meta.dirname, '..', '..');
export const ADAPTER = join(ROOT, 'dist', 'debugAdapter.js');
export const FIXTURE = join(ROOT, 'test', 'fixtures', 'dap', 'flow.py');
export const STUBS = { load: { python: "{'__flyte_io_type__': 'File', 'path': args[0]}" }, fib: { python: 'args[0] * 10' }, size: { python: "len(args[0]['path'])" } };

type Message = DebugProtocol.Response | DebugProtocol.Event | DebugProtocol.Request;

export class RawDap {
  readonly messages: Message[] = [];
  stderr = '';
  exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  private buffer = Buffer.alloc(0);
  private seq = 1;
  private waiters: (() => void)[] = [];
  private inputEnded = false;
  readonly exited: Promise<void>;

  private constructor(private readonly out: NodeJS.WritableStream, input: NodeJS.ReadableStream, readonly child?: ChildProcessWithoutNullStreams, private readonly socket?: Socket) {
    input.on('data', (d: Buffer) => this.receive(d));
    input.on('end', () => {
      this.inputEnded = true;
      this.wake();
    });
    this.exited = new Promise(resolve => {
      if (child) {
        child.stderr.on('data', (d: Buffer) => {
          this.stderr += d.toString();
          this.wake();
        });
        child.on('exit', (code, signal) => {
          this.exit = { code, signal };
          this.wake();
          resolve();
        });
      } else {
        socket!.on('close', () => {
          this.exit = { code: null, signal: null };
          this.wake();
          resolve();
        });
      }
    });
  }

  /** The adapter over stdio, as VS Code starts it. */
  static spawn(args: string[] = []): RawDap {
    const child = spawn(process.execPath, [ADAPTER, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    child.stdin.on('error', () => undefined);
    return new RawDap(child.stdin, child.stdout, child);
  }

  /** A connection to an adapter serving on a TCP port or a Unix socket. */
  static async connect(to: number | string): Promise<RawDap> {
    const socket = typeof to === 'number' ? connect(to, '127.0.0.1') : connect(to);
    socket.on('error', () => undefined);
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    return new RawDap(socket, socket, undefined, socket);
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  /** Resolves once `probe` returns something, re-checked whenever anything arrives. */
  async until<T>(probe: () => T | undefined | false): Promise<T> {
    for (;;) {
      const v = probe();
      if (v !== undefined && v !== false) return v;
      if (this.inputEnded && this.exit) throw new Error(`the adapter is gone (exit ${JSON.stringify(this.exit)}) and what the test waits for never came; its stderr:\n${this.stderr}`);
      await new Promise<void>(r => this.waiters.push(r));
    }
  }

  private receive(d: Buffer): void {
    this.buffer = Buffer.concat([this.buffer, d]);
    for (;;) {
      const end = this.buffer.indexOf('\r\n\r\n');
      if (end < 0) break;
      const m = /Content-Length: (\d+)/i.exec(this.buffer.subarray(0, end).toString());
      if (!m) throw new Error(`adapter sent a bad header: ${this.buffer.subarray(0, end).toString()}`);
      const length = Number(m[1]);
      if (this.buffer.length < end + 4 + length) break;
      this.messages.push(JSON.parse(this.buffer.subarray(end + 4, end + 4 + length).toString('utf8')) as Message);
      this.buffer = this.buffer.subarray(end + 4 + length);
    }
    this.wake();
  }

  /** Write bytes as they are. */
  raw(bytes: string | Buffer): void {
    this.out.write(bytes);
  }

  /** Frame and send any object; returns the seq it was given (when it is a request). */
  frame(body: unknown): void {
    const text = JSON.stringify(body);
    this.out.write(`Content-Length: ${Buffer.byteLength(text)}\r\n\r\n${text}`);
  }

  /** Send a request (arguments left out when undefined) and wait for its response. */
  request(command: string, args?: unknown): Promise<DebugProtocol.Response> {
    const seq = this.seq++;
    this.frame({ seq, type: 'request', command, ...(args !== undefined ? { arguments: args } : {}) });
    return this.response(seq);
  }

  /** Send without waiting. */
  send(command: string, args?: unknown): number {
    const seq = this.seq++;
    this.frame({ seq, type: 'request', command, ...(args !== undefined ? { arguments: args } : {}) });
    return seq;
  }

  /** A seq number for a hand-made frame. */
  nextSeq(): number {
    return this.seq++;
  }

  response(seq: number): Promise<DebugProtocol.Response> {
    return this.until(() => this.messages.find((m): m is DebugProtocol.Response => m.type === 'response' && (m as DebugProtocol.Response).request_seq === seq));
  }

  /** The first event named `name` (and matching `predicate`) after the `after`-th message. */
  event<T = Record<string, unknown>>(name: string, predicate: (body: T) => boolean = () => true, after = 0): Promise<T> {
    return this.until(() => {
      const found = this.messages.slice(after).find(m => m.type === 'event' && (m as DebugProtocol.Event).event === name && predicate(((m as DebugProtocol.Event).body ?? {}) as T)) as DebugProtocol.Event | undefined;
      return found ? ((found.body ?? {}) as T) : undefined;
    });
  }

  output(): string {
    return this.messages.filter(m => m.type === 'event' && (m as DebugProtocol.Event).event === 'output').map(m => ((m as DebugProtocol.OutputEvent).body.output)).join('');
  }

  /** initialize, launch, wait for initialized, configurationDone; returns the launch response. */
  async launch(args: Record<string, unknown>, initialize = true): Promise<DebugProtocol.Response> {
    if (initialize) {
      const init = await this.request('initialize', { adapterID: 'flyte-sandbox', linesStartAt1: true, columnsStartAt1: true, pathFormat: 'path' });
      if (!init.success) throw new Error(`initialize failed: ${init.message}`);
    }
    const at = this.messages.length;
    const seq = this.send('launch', args);
    await this.until(() => this.messages.slice(at).some(m => (m.type === 'event' && (m as DebugProtocol.Event).event === 'initialized') || (m.type === 'response' && (m as DebugProtocol.Response).request_seq === seq)) || undefined);
    const early = this.messages.find((m): m is DebugProtocol.Response => m.type === 'response' && (m as DebugProtocol.Response).request_seq === seq);
    if (early) return early;
    await this.request('configurationDone', {});
    return this.response(seq);
  }

  /** Close our end; for a spawned adapter, wait for it to exit. */
  async close(): Promise<void> {
    if (this.socket) this.socket.end();
    else this.child!.stdin.end();
    if (this.child) await this.exited;
  }

  /** End our side of a socket connection without waiting. */
  socketEnd(): void {
    this.socket?.end();
  }

  kill(signal: NodeJS.Signals = 'SIGKILL'): void {
    this.child?.kill(signal);
  }
}
