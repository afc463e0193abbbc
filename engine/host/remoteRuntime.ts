/**
 * The debug runtime in a child process, behind the same RuntimeApi: the
 * client's thread (the DAP session, the extension host) never runs the
 * interpreter, and a sandbox that stops answering is killed.
 *
 * While the child is held by the sandbox (Python code running without an
 * external call, or a big launch), requests that only look are answered
 * here, from what the child last said and the events since (`RuntimeMirror`),
 * so the client is never left waiting; the others wait for the child.
 */
import { EventEmitter } from 'node:events';
import type { StubInfo, CallAction, DataBreakpointInfo, EvaluateResult, ExceptionDetails, LaunchInfo, LocalsInfo, PendingCallInfo, RuntimeApi, RuntimeEvents, SetLocalResult, StackFrameInfo, ThreadInfo } from '../debug/api.ts';
import type { DataBreakpointSpec, DataBreakpointStatus } from '../debug/dataBreakpoints.ts';
import type { BreakpointStatus, FunctionBreakpointSpec, LineBreakpointSpec } from '../debug/breakpoints.ts';
import { LaunchError } from '../debug/launchError.ts';
import { DEFAULT_LIMITS, watchdogMs } from '../run/limits.ts';
import type { CallRecord } from '../run/outcome.ts';
import type { ProbeResult } from '../run/probe.ts';
import { WatchedChild } from './childProcess.ts';
import { decode, encode, INPUTS_IF_SMALL } from './codec.ts';
import { memoryHint } from './lifetime.ts';
import { decodeRecords, type RecordBlock } from './recordBlock.ts';
import { RuntimeMirror } from './runtimeMirror.ts';
import { ReplayedSettings } from './replayedSettings.ts';
import { ThreadMirror } from './threadMirror.ts';
import { MAX_JSON_DEPTH } from '../values/json.ts';
import { largerThan } from '../values/jsonSize.ts';
import { nestingDepth } from '../values/wireCheck.ts';

/** Requests that set the run going: answered once it goes. */
const RUNS = new Set(['configurationDone', 'continue', 'next', 'stepIn', 'stepOut', 'resolveCall', 'rewindTo', 'restartFrame', 'stepBack', 'reverseContinue']);

/** Extra time past the duration limit before a silent child is killed. */
const GRACE_MS = 10_000;

export class RemoteRuntime extends EventEmitter<RuntimeEvents> implements RuntimeApi {
  /** Started on the first request: a connection that never launches costs no process. */
  private started: WatchedChild | undefined;
  private nextId = 1;
  private readonly waiting = new Map<number, { method: string; resolve: (v: unknown) => void; reject: (e: Error) => void; whileBusy?: () => unknown }>();
  private ended = false;
  private readonly mirror = new RuntimeMirror();
  private readonly threadMirror = new ThreadMirror();
  private maxMemory: number | null = DEFAULT_LIMITS.maxMemory;
  private inputsOnce: Promise<Record<string, unknown>> | undefined;
  /** The client's configuration, for a child that takes over (pause in a runaway sandbox). */
  private readonly settings = new ReplayedSettings();
  /** Which child's messages count: a replaced child's last words are dropped. */
  private generation = 0;
  /** Setting up a child that takes over: its launch's events were heard once already. */
  private muted = false;

  constructor(private readonly toleranceMs = watchdogMs(DEFAULT_LIMITS, GRACE_MS)) {
    super();
  }

  private get child(): WatchedChild {
    this.started ??= this.spawn(this.toleranceMs);
    return this.started;
  }

  /** A client initialized: start the child now, so it warms up while the client sends its configuration (see warmUp.ts). */
  prepare(): void {
    void this.child;
  }

  /** Held by the sandbox right now (false before the child exists). */
  private get busy(): boolean {
    return !this.ended && this.started !== undefined && this.started.busy;
  }

  private spawn(toleranceMs: number): WatchedChild {
    const generation = ++this.generation;
    return new WatchedChild('runtimeHost.js', 'runtimeChild.ts', toleranceMs, {
      message: m => { if (generation === this.generation) this.onMessage(m as Parameters<RemoteRuntime['onMessage']>[0]); },
      unresponsive: ms => this.lost('TimeoutError', `the sandbox process did not answer for ${Math.round(ms / 1000)} s and was killed (the debugger's watchdog; Monty's own limit did not stop it)`),
      exit: (how, stderr, memory) => (memory
        ? this.lost('MemoryError', `the sandbox process used ${Math.round(memory.rss / 1048576)} MiB and was stopped: ${memoryHint(this.maxMemory, memory.bound)}`)
        : this.lost('SandboxCrashed', `the sandbox process exited unexpectedly (${how})${stderr ? `: ${stderr.split('\n').slice(-5).join('\n')}` : ''}`)),
      busy: () => this.answerWhileBusy(),
    });
  }

  /** The child stopped answering: what only looks is answered from the mirror now. */
  private answerWhileBusy(): void {
    for (const [id, w] of [...this.waiting]) {
      if (!w.whileBusy) continue;
      this.waiting.delete(id);
      w.resolve(w.whileBusy());
    }
  }

  /** A client handler that throws must not take this process down with it. */
  private deliver(name: string, args: unknown[]): void {
    if (this.muted) return;
    try {
      (this.emit as (n: string, ...a: unknown[]) => boolean)(name, ...args);
    } catch (e) {
      process.stderr.write(`flyte-sandbox: internal error while handling the runtime's '${name}' event: ${e instanceof Error ? e.message : String(e)}\n`);
    }
  }

  private onMessage(m: { t: string; id?: number; ok?: boolean; result?: unknown; error?: unknown; events?: unknown; calls?: RecordBlock }): void {
    if (m.t === 'events') {
      if (m.calls) {
        decodeRecords(m.calls, () => undefined, r => {
          this.mirror.call(r);
          this.threadMirror.record(r);
          this.deliver('call', [r]);
        });
      }
      for (const [name, args] of decode(m.events as never) as [keyof RuntimeEvents, unknown[]][]) {
        if (name === 'ended') this.ended = true;
        this.mirror.event(name, args);
        this.deliver(name, args);
      }
      return;
    }
    if (m.t !== 'reply' || m.id === undefined) return;
    const w = this.waiting.get(m.id);
    if (!w) return;
    this.waiting.delete(m.id);
    if (m.ok) w.resolve(this.mirror.reply(m.id, decode(m.result as never)));
    else {
      const e = decode(m.error as never) as Error & { attribute?: string };
      w.reject(e.name === 'LaunchError' && e.attribute ? new LaunchError(e.attribute, e.message.replace(`${e.attribute}: `, '')) : e);
    }
  }

  /** The child is gone: every request fails, and the session ends saying why. */
  private lost(type: string, message: string): void {
    for (const w of this.waiting.values()) w.reject(new Error(message));
    this.waiting.clear();
    if (this.ended) return;
    this.ended = true;
    this.deliver('output', [{ category: 'stderr', text: `${type}: ${message}\n` }]);
    this.deliver('ended', [{ status: 'error', error: { type, message, origin: type === 'TimeoutError' || type === 'MemoryError' ? 'limit' : 'sandbox', frames: [] } }]);
  }

  private call<T>(method: string, ...args: unknown[]): Promise<T> {
    return this.request<T>(method, args);
  }

  /** A request that only looks: while the child is held, `whileBusy` answers it instead. */
  private look<T>(method: string, whileBusy: () => T, ...args: unknown[]): Promise<T> {
    if (this.busy) return Promise.resolve(whileBusy());
    return this.request<T>(method, args, whileBusy);
  }

  private request<T>(method: string, args: unknown[], whileBusy?: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      if (this.ended && method !== 'terminate') {
        reject(new Error('the debug run has ended'));
        return;
      }
      const id = this.nextId++;
      this.waiting.set(id, { method, resolve: resolve as (v: unknown) => void, reject, ...(whileBusy ? { whileBusy } : {}) });
      this.mirror.asked(id, method, args);
      this.settings.note(method, args);
      this.child.send({ t: 'call', id, method, args: encode(args) });
    });
  }

  async launch(args: Record<string, unknown>): Promise<LaunchInfo> {
    // Checked here, without recursion: decoding a value nested thousands deep on the other side would overflow its stack.
    for (const [attribute, value] of Object.entries(args ?? {})) {
      if (nestingDepth(value) > MAX_JSON_DEPTH) throw new LaunchError(attribute, `the value is nested more than ${MAX_JSON_DEPTH} levels deep (Python's json module cannot read it either)`);
    }
    const info = await this.call<LaunchInfo>('launch', args);
    this.inputsOnce = undefined;
    this.threadMirror.launched(info.task);
    // The watchdog tolerates the run's own duration limit plus a grace period.
    this.child.toleranceMs = info.maxDurationSecs == null ? Infinity : info.maxDurationSecs * 1000 + GRACE_MS;
    this.maxMemory = info.maxMemory === undefined ? this.maxMemory : info.maxMemory;
    this.mirror.launched(info);
    return info;
  }

  setFunctionBreakpoints(specs: FunctionBreakpointSpec[]): Promise<BreakpointStatus[]> { return this.call('setFunctionBreakpoints', specs); }
  setLineBreakpoints(file: string, specs: LineBreakpointSpec[]): Promise<BreakpointStatus[]> { return this.call('setLineBreakpoints', file, specs); }
  setExceptionFilters(filters: { filterId: string; condition?: string }[]): Promise<string[]> { return this.call('setExceptionFilters', filters); }
  configurationDone(): Promise<void> { return this.call('configurationDone'); }
  /** Answered here at once when only the main thread exists, however busy the child is (threadMirror.ts). */
  threads(): Promise<ThreadInfo[]> { const local = this.threadMirror.threads(); return local ? Promise.resolve(local) : this.look('threads', () => this.mirror.threads()); }
  stack(threadId: number): Promise<StackFrameInfo[]> { return this.look('stack', () => this.mirror.stack(threadId, this.child.silentMs), threadId); }
  pending(threadId: number): Promise<PendingCallInfo | undefined> { return this.look('pending', () => undefined, threadId); }
  /** Fetched once per launch: they do not change, and may be large (every stop's scopes ask for them). */
  inputs(): Promise<Record<string, unknown>> {
    if (!this.inputsOnce && this.busy) return Promise.resolve(this.mirror.inputs());
    return (this.inputsOnce ??= this.look('inputs', () => this.mirror.inputs()));
  }
  /** Without fetching them when they are larger than `maxBytes` as JSON (the child looks). */
  async inputsIfSmall(maxBytes: number): Promise<Record<string, unknown> | undefined> {
    if (this.inputsOnce) {
      const inputs = await this.inputsOnce;
      return largerThan(inputs, maxBytes) ? undefined : inputs;
    }
    return (await this.call<Record<string, unknown> | null>(INPUTS_IF_SMALL, maxBytes)) ?? undefined;
  }
  calls(): Promise<CallRecord[]> { return this.look('calls', () => this.mirror.calls()); }
  stdout(): Promise<string> { return this.look('stdout', () => this.mirror.stdout()); }
  evaluate(expression: string, threadId?: number, frameId?: number): Promise<EvaluateResult> { return this.call('evaluate', expression, threadId, frameId); }
  continue(threadId: number, singleThread?: boolean): Promise<void> { return this.call('continue', threadId, singleThread); }
  next(threadId: number): Promise<void> { return this.call('next', threadId); }
  stepIn(threadId: number): Promise<void> { return this.call('stepIn', threadId); }
  stepOut(threadId: number): Promise<void> { return this.call('stepOut', threadId); }
  frameLocals(frameId: number): Promise<LocalsInfo | undefined> { return this.look('frameLocals', () => undefined, frameId); }
  setLocal(frameId: number, name: string, expression: string): Promise<SetLocalResult> { return this.call('setLocal', frameId, name, expression); }
  dataBreakpointInfo(frameId: number, name: string): Promise<DataBreakpointInfo> { return this.call('dataBreakpointInfo', frameId, name); }
  setDataBreakpoints(specs: DataBreakpointSpec[]): Promise<DataBreakpointStatus[]> { return this.call('setDataBreakpoints', specs); }
  pause(): Promise<void> {
    if (this.busy && this.settings.configured) {
      // An instrumented run takes a pause between statements (it yields there); one held anyway is inside a single statement.
      if (this.settings.launch?.instrument !== false) return this.replaceSpinningChild();
      void this.call('pause').catch(() => undefined);
      this.deliver('output', [{ category: 'console', text: `the sandbox has been running Python code for ${Math.round(this.child.silentMs / 1000)} s without an external call, and this session is not instrumented ("instrument": false): it pauses at the next external call\n` }]);
      return Promise.resolve();
    }
    return this.call('pause');
  }

  /**
   * Pause a sandbox that runs Python code without an external call: its child
   * cannot take a request, so it is killed and a fresh one replays the run
   * (deterministic: the same code, inputs and call results) to the loop it was
   * spinning in, and pauses there.
   */
  private async replaceSpinningChild(): Promise<void> {
    const seconds = Math.round(this.child.silentMs / 1000);
    const records = this.mirror.calls().filter(r => r.status !== 'pending');
    const stdout = this.mirror.stdout();
    this.deliver('output', [{ category: 'console', text: `pausing: the sandbox has been running Python code for ${seconds} s without an external call, so its process cannot stop by itself; the debugger stops it and replays the run (${records.length} recorded call${records.length === 1 ? '' : 's'}, the same results) to where it was\n` }]);
    const old = this.started!;
    this.started = undefined;
    old.stop();
    // What set the run going (configurationDone, continue, a step) is done; what asked the old child something is not answered.
    for (const w of this.waiting.values()) {
      if (RUNS.has(w.method)) w.resolve(undefined);
      else w.reject(new Error('the sandbox process was replaced to pause the run: ask again'));
    }
    this.waiting.clear();
    this.muted = true;
    try {
      await this.settings.apply((method, ...args) => this.call(method, ...args));
    } finally {
      this.muted = false;
    }
    this.child.toleranceMs = old.toleranceMs;
    await this.call('resumeSpinning', records, stdout, seconds);
  }

  stepBack(threadId: number): Promise<void> { return this.call('stepBack', threadId); }
  reverseContinue(threadId: number): Promise<void> { return this.call('reverseContinue', threadId); }
  restartFrame(threadId: number, frameId?: number): Promise<void> { return this.call('restartFrame', threadId, frameId); }
  rewindTo(seq: number): Promise<void> { return this.call('rewindTo', seq); }
  resolveCall(threadId: number, action: CallAction): Promise<void> { return this.call('resolveCall', threadId, action); }
  exceptionInfo(threadId: number): Promise<ExceptionDetails | undefined> { return this.look('exceptionInfo', () => undefined, threadId); }
  where(threadId: number): Promise<ProbeResult | undefined> { return this.look('where', () => undefined, threadId); }
  stubs(): Promise<StubInfo[]> { return this.look('stubs', () => this.mirror.stubs()); }
  follow(on: boolean): Promise<void> { return this.call('follow', on); }
  setStub(name: string, expression: string | undefined): Promise<void> { return this.call('setStub', name, expression); }

  async terminate(): Promise<void> {
    if (!this.started && !this.ended) {
      // Nothing was ever started: end the session without starting a process to do it.
      this.ended = true;
      this.deliver('ended', [{ status: 'error', error: { type: 'RunStopped', message: 'the run was stopped', origin: 'stopped', frames: [] } }]);
      return;
    }
    if (!this.ended) {
      try {
        // A child that answers is given the time its Python workers need to finish up (abort remote runs in flight).
        await Promise.race([this.call('terminate'), new Promise(r => setTimeout(r, this.busy ? 1000 : 35_000).unref())]);
      } catch {
        // the child is gone already
      }
    }
    const endedHere = !this.ended;
    this.ended = true;
    this.started?.stop();
    // A child held by the sandbox could not say it ended: say it for it.
    if (endedHere) this.deliver('ended', [{ status: 'error', error: { type: 'RunStopped', message: 'the run was stopped', origin: 'stopped', frames: [] } }]);
  }
}
