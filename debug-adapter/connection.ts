/**
 * One DAP connection (stdio, a TCP socket or a Unix socket) and its session:
 * frames are read by `FrameReader` (bad ones reported on stderr and in an
 * output event, and answered when they were requests), the session answers,
 * and whenever the connection ends, with or without `disconnect`, the
 * session's runtime and its child processes are ended too.
 *
 * Everything a connection does runs in its own async context, so an error
 * nobody caught can be traced to the connection it came from and end only
 * that one (`--server` serves many).
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { PassThrough } from 'node:stream';
import { OutputEvent } from '@vscode/debugadapter';
import type { DebugProtocol } from '@vscode/debugprotocol';
import type { RuntimeApi } from '../engine/debug/api.ts';
import { FrameReader, type FrameProblem } from './framing.ts';
import { FlyteSandboxSession } from './session.ts';

const current = new AsyncLocalStorage<Connection>();
const open = new Set<Connection>();

/** How long a runtime may take to end cleanly before the connection gives up on it (it is killed either way). */
const DISPOSE_MS = 3000;

export class Connection {
  readonly session: FlyteSandboxSession;
  private readonly runtime: RuntimeApi;
  private ended: Promise<void> | undefined;

  constructor(readonly name: string, makeRuntime: () => RuntimeApi, input: NodeJS.ReadableStream, private readonly output: NodeJS.WritableStream, private readonly onEnd: () => void = () => undefined) {
    open.add(this);
    // The runtime's child process is started in this connection's context, so its callbacks run in it too.
    const { runtime, session } = current.run(this, () => {
      const r = makeRuntime();
      return { runtime: r, session: new FlyteSandboxSession(r) };
    });
    this.runtime = runtime;
    this.session = session;
    // The connection, not the library, decides when it ends (the library would exit the process on stdio).
    session.setRunAsServer(true);
    session.start(new PassThrough(), output);
    const reader = new FrameReader(m => this.session.handleMessage(m), p => this.problem(p));
    input.on('data', (chunk: Buffer | string) => current.run(this, () => reader.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk)));
    input.on('end', () => {
      reader.end();
      void this.end('the client closed the connection');
    });
    input.on('close', () => void this.end('the client closed the connection'));
    input.on('error', (e: Error) => void this.end(`the connection failed: ${e.message}`));
    output.on('error', () => void this.end('the client stopped reading'));
  }

  /** A frame that could not be handled: say what was wrong, and answer it when it was a request. */
  private problem(p: FrameProblem): void {
    const text = `flyte-sandbox debug adapter: bad DAP frame on ${this.name}: ${p.message}`;
    process.stderr.write(`${text}\n`);
    this.session.sendEvent(new OutputEvent(`${text}\n`, 'stderr'));
    if (p.request) {
      const response: DebugProtocol.Response = { seq: 0, type: 'response', request_seq: p.request.seq, command: p.request.command, success: false, message: `the request's frame was malformed: ${p.message}`, body: { error: { id: 1017, format: `the request's frame was malformed: ${p.message}`, showUser: true } } };
      this.session.sendResponse(response);
    }
  }

  /** An error no handler caught, traced to this connection: report it and end the connection. */
  fail(e: unknown): void {
    const message = e instanceof Error ? e.message : String(e);
    process.stderr.write(`flyte-sandbox debug adapter: internal error on ${this.name}, ending that session: ${message}\n${e instanceof Error && process.env.FLYTE_SANDBOX_DEBUG ? `${e.stack}\n` : ''}`);
    try {
      this.session.sendEvent(new OutputEvent(`internal error of the debug adapter: ${message}; this session ends (please report it)\n`, 'stderr'));
    } catch {
      // the connection is broken too
    }
    void this.end(`internal error: ${message}`);
  }

  /** End the session's runtime (its child processes die with it), then the connection. Idempotent. */
  end(why: string): Promise<void> {
    this.ended ??= (async () => {
      open.delete(this);
      if (process.env.FLYTE_SANDBOX_DEBUG) process.stderr.write(`flyte-sandbox debug adapter: ${this.name} ended (${why})\n`);
      await Promise.race([this.runtime.terminate().catch(() => undefined), new Promise(r => setTimeout(r, DISPOSE_MS).unref())]);
      this.session.removeAllListeners();
      const out = this.output as NodeJS.WritableStream & { destroy?: () => void };
      if (out !== process.stdout) out.destroy?.();
      this.onEnd();
    })();
    return this.ended;
  }
}

/** The connection whose code is running now, if any. */
export function currentConnection(): Connection | undefined {
  return current.getStore();
}

/** End every open connection (the adapter is going away). */
export async function endAll(why: string): Promise<void> {
  await Promise.all([...open].map(c => c.end(why)));
}
