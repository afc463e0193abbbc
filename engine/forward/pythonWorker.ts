/**
 * One Python process running `python/forward_worker.py`, spoken to in JSON
 * lines. Started on the first request; a crash, a timeout, a line on its
 * stdout that is not a protocol message or a missing interpreter fails the
 * requests in flight with a WorkerError, and the next request starts a fresh
 * process.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { childEnv, trackChild } from '../host/lifetime.ts';
import type { Wire } from '../values/wire.ts';

export const DEFAULT_PYTHON = 'python3';
export const DEFAULT_TIMEOUT_MS = 60_000;
const STDERR_TAIL_CHARS = 2000;
const JUNK_QUOTE_CHARS = 200;
const EXIT_GRACE_MS = 250;

export interface PythonWorkerOptions {
  /** Interpreter to run the worker with (the "python" setting). */
  python?: string;
  /** Where the user sets `python`, for error messages; default `the "python" setting`. */
  pythonSettingName?: string;
  /** Per request; the worker is killed when a request takes longer. 0 or Infinity: no limit. */
  timeoutMs?: number;
  /** Where the user sets the timeout, for error messages; default `the "forwardTimeout" setting`. */
  timeoutSettingName?: string;
  /** What the user's code prints, as it prints it. */
  onOutput?: (text: string, stream: 'stdout' | 'stderr') => void;
  /** Things the worker wants the user to know (e.g. flyte is not importable). */
  onNotice?: (text: string) => void;
  /** The script to run, in python/ (default forward_worker.py). */
  script?: string;
  /** Working directory of the process (flyte looks for ./config.yaml there). */
  cwd?: string;
  /**
   * Stopping the worker closes its stdin and waits this long for it to exit
   * before killing it, so it can clean up what is in flight (abort runs on a
   * cluster). Default 0: killed at once.
   */
  gracefulStopMs?: number;
}

/** Per request: progress events, and what aborting the request does. */
export interface RequestOptions {
  signal?: AbortSignal;
  /** Events the worker sends about this request while it runs. */
  onEvent?: (event: Wire) => void;
  /** Aborting asks the worker to cancel the request (it cleans up) instead of killing the process. */
  cancelOnAbort?: boolean;
}

export type WorkerRequest =
  | { op: 'ping' }
  | { op: 'call'; module: string; function: string; args: Wire; kwargs: Wire }
  | { op: 'import_run' | 'remote_call'; label: string; [field: string]: Wire | undefined };

/** The worker's answer to one request: the function's value, or the exception it raised. */
export type WorkerReply =
  | { ok: true; value: Wire }
  | { ok: false; type: string; message: string; traceback?: string };

/** The worker failed, not the user's function: crash, timeout, protocol violation, no interpreter. */
export class WorkerError extends Error {
  override readonly name = 'WorkerError';
}

type WorkerMessage =
  | ({ id: number } & WorkerReply)
  | { t: 'output'; stream: 'stdout' | 'stderr'; text: string }
  | { t: 'notice'; text: string }
  | { t: 'event'; id: number; event: Wire };

/** A worker stdout line as a protocol message, or undefined if it is not one. */
function parseMessage(line: string): WorkerMessage | undefined {
  let m: unknown;
  try {
    m = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (m === null || typeof m !== 'object' || Array.isArray(m)) return undefined;
  const o = m as Record<string, unknown>;
  if (o.t === 'output') return (o.stream === 'stdout' || o.stream === 'stderr') && typeof o.text === 'string' ? { t: 'output', stream: o.stream, text: o.text } : undefined;
  if (o.t === 'notice') return typeof o.text === 'string' ? { t: 'notice', text: o.text } : undefined;
  if (o.t === 'event') return typeof o.id === 'number' && 'event' in o ? { t: 'event', id: o.id, event: o.event as Wire } : undefined;
  if (typeof o.id !== 'number') return undefined;
  if (o.ok === true && 'value' in o) return { id: o.id, ok: true, value: o.value as Wire };
  if (o.ok === false && typeof o.type === 'string' && typeof o.message === 'string') {
    return { id: o.id, ok: false, type: o.type, message: o.message, ...(typeof o.traceback === 'string' ? { traceback: o.traceback } : {}) };
  }
  return undefined;
}

/** A worker script: beside the running bundle in dist/, else in the source tree's python/ folder. */
export function workerScriptPath(script = 'forward_worker.py'): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const candidates = [join(here, script), join(here, '..', 'python', script), join(here, '..', '..', 'python', script)];
  return candidates.find(p => existsSync(p)) ?? candidates.at(-1)!;
}

interface Pending {
  label: string;
  onEvent: ((event: Wire) => void) | undefined;
  resolve: (reply: WorkerReply) => void;
  reject: (error: WorkerError) => void;
  timer: NodeJS.Timeout | undefined;
}

/** One process's lifetime. Once it has ended (for whatever reason) it is never used again. */
class WorkerProcess {
  readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private partialLine = '';
  private stderrTail = '';
  private endedBecause: string | undefined;
  /** Resolves when the process has exited (or could not start). */
  readonly gone: Promise<void>;

  constructor(private readonly child: ChildProcessWithoutNullStreams, private readonly python: string, private readonly options: PythonWorkerOptions, private readonly onEnd: () => void) {
    this.gone = new Promise(resolve => {
      child.once('exit', () => resolve());
      child.once('error', () => resolve());
    });
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => this.receive(chunk));
    child.stderr.on('data', (chunk: string) => { this.stderrTail = (this.stderrTail + chunk).slice(-STDERR_TAIL_CHARS); });
    // Writes to a dead worker fail here; the 'close' or 'error' handler reports why it died.
    child.stdin.on('error', () => {});
    child.on('error', (e: NodeJS.ErrnoException) => this.end(this.startFailure(e)));
    // 'close' comes once the pipes are drained (replies written just before dying still count);
    // a grandchild holding the pipes open must not keep the calls waiting, hence the grace period.
    child.on('close', (code, signal) => this.end(this.crashMessage(code, signal)));
    child.on('exit', (code, signal) => setTimeout(() => this.end(this.crashMessage(code, signal)), EXIT_GRACE_MS).unref());
  }

  get ended(): boolean {
    return this.endedBecause !== undefined;
  }

  send(request: WorkerRequest, label: string, timeoutMs: number, options: RequestOptions = {}): Promise<WorkerReply> {
    const signal = options.signal;
    if (this.endedBecause !== undefined) return Promise.reject(new WorkerError(this.endedBecause));
    if (signal?.aborted) return Promise.reject(new WorkerError(`${label} was cancelled before it was sent to the Python worker`));
    const id = this.nextId++;
    return new Promise<WorkerReply>((resolve, reject) => {
      // The function may be stuck in sync code: stopping the worker is the only way to stop it,
      // unless the request can clean up after itself (cancelOnAbort).
      const onAbort = options.cancelOnAbort
        ? () => {
          if (this.endedBecause === undefined) this.child.stdin.write(JSON.stringify({ id: this.nextId++, op: 'cancel', target: id }) + '\n');
          this.settle(id)?.reject(new WorkerError(`${label} was cancelled`));
        }
        : () => this.end(`the Python worker was stopped because the run no longer wants the result of ${label}`);
      signal?.addEventListener('abort', onAbort, { once: true });
      const done = () => signal?.removeEventListener('abort', onAbort);
      const timer = timeoutMs > 0 && Number.isFinite(timeoutMs) ? setTimeout(() => this.timedOut(id, timeoutMs), timeoutMs) : undefined;
      this.pending.set(id, {
        label,
        onEvent: options.onEvent,
        resolve: reply => { done(); resolve(reply); },
        reject: error => { done(); reject(error); },
        timer,
      });
      this.child.stdin.write(JSON.stringify({ id, ...request }) + '\n');
    });
  }

  private settle(id: number): Pending | undefined {
    const p = this.pending.get(id);
    if (!p) return undefined;
    this.pending.delete(id);
    clearTimeout(p.timer);
    return p;
  }

  private receive(chunk: string): void {
    let start = 0;
    for (let nl = chunk.indexOf('\n'); nl !== -1; nl = chunk.indexOf('\n', start)) {
      const line = this.partialLine + chunk.slice(start, nl);
      this.partialLine = '';
      start = nl + 1;
      if (this.endedBecause !== undefined) return;
      if (line.trim()) this.handle(line);
    }
    this.partialLine += chunk.slice(start);
  }

  private handle(line: string): void {
    const m = parseMessage(line);
    if (!m) {
      const quoted = JSON.stringify(line.length > JUNK_QUOTE_CHARS ? line.slice(0, JUNK_QUOTE_CHARS) + '…' : line);
      this.end(`the Python worker wrote something that is not a protocol message to its stdout: ${quoted}. Something in the forwarded code writes to file descriptor 1 directly (os.write, a C extension, a subprocess inheriting stdout); the worker was stopped`);
      return;
    }
    if ('t' in m) {
      if (m.t === 'output') this.options.onOutput?.(m.text, m.stream);
      else if (m.t === 'event') this.pending.get(m.id)?.onEvent?.(m.event);
      else this.options.onNotice?.(m.text);
      return;
    }
    const { id, ...reply } = m;
    this.settle(id)?.resolve(reply);
  }

  private timedOut(id: number, timeoutMs: number): void {
    const p = this.settle(id);
    if (!p) return;
    const seconds = timeoutMs >= 1000 ? `${timeoutMs / 1000} s` : `${timeoutMs} ms`;
    p.reject(new WorkerError(`${p.label} did not return within ${seconds}, so the Python worker was stopped (raise ${this.options.timeoutSettingName ?? 'the "forwardTimeout" setting'} if the function needs longer; 0 means no limit)`));
    this.end(`the Python worker was stopped because ${p.label} did not return within ${seconds}`);
  }

  private startFailure(e: NodeJS.ErrnoException): string {
    const setting = this.options.pythonSettingName ?? 'the "python" setting';
    if (e.code === 'ENOENT') return `the Python interpreter '${this.python}' was not found, so the call cannot be forwarded: set ${setting} to a Python 3.10+ interpreter`;
    return `the Python interpreter '${this.python}' could not be started (${e.message}): check ${setting}`;
  }

  private crashMessage(code: number | null, signal: NodeJS.Signals | null): string {
    const how = signal ? `was killed by ${signal}` : `exited with code ${code}`;
    const running = [...this.pending.values()].map(p => p.label);
    const during = running.length ? ` while running ${running.join(', ')}` : '';
    const stderr = this.stderrTail.trim();
    return `the Python worker ${how}${during}${stderr ? `; its stderr ended with:\n${stderr}` : ' (nothing on its stderr)'}`;
  }

  /** Kill the process and fail what is in flight. First reason wins: later events of the same dying process change nothing. */
  end(reason: string, graceMs = 0): void {
    if (this.endedBecause !== undefined) return;
    this.endedBecause = reason;
    if (graceMs > 0) {
      // EOF on stdin asks the worker to finish up (it aborts what it started) and exit.
      this.child.stdin.end();
      setTimeout(() => this.child.kill('SIGKILL'), graceMs).unref();
    } else {
      this.child.kill('SIGKILL');
    }
    for (const id of [...this.pending.keys()]) this.settle(id)!.reject(new WorkerError(reason));
    this.onEnd();
  }
}

export class PythonWorker {
  readonly python: string;
  readonly timeoutMs: number;
  private current: WorkerProcess | undefined;

  constructor(private readonly options: PythonWorkerOptions = {}) {
    this.python = options.python ?? DEFAULT_PYTHON;
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  }

  /** Rejects only with a WorkerError; an exception of the user's function is a reply with ok: false. */
  request(request: WorkerRequest, signal?: AbortSignal | RequestOptions): Promise<WorkerReply> {
    const label = request.op === 'call' ? `${request.function}()` : request.op === 'ping' ? 'ping' : request.label;
    const options: RequestOptions = signal instanceof AbortSignal ? { signal } : signal ?? {};
    return this.process().send(request, label, this.timeoutMs, options);
  }

  /**
   * Stops the worker (gracefully when `gracefulStopMs` is set: it finishes
   * up, aborting what it started); resolves when the process has exited. A
   * later request starts a new one.
   */
  dispose(): Promise<void> {
    const proc = this.current;
    proc?.end('the Python worker was disposed', this.options.gracefulStopMs ?? 0);
    this.current = undefined;
    return proc?.gone ?? Promise.resolve();
  }

  private process(): WorkerProcess {
    if (this.current && !this.current.ended) return this.current;
    // The worker watches this process and exits when it is gone (see lifetime.ts); this process kills it on exit.
    const child = spawn(this.python, ['-u', workerScriptPath(this.options.script)], { stdio: 'pipe', env: childEnv(), ...(this.options.cwd ? { cwd: this.options.cwd } : {}) });
    trackChild(child);
    const proc: WorkerProcess = new WorkerProcess(child, this.python, this.options, () => {
      if (this.current === proc) this.current = undefined;
    });
    this.current = proc;
    return proc;
  }
}
