/**
 * The debug runtime in a child process, behind the same RuntimeApi: the
 * client's thread (the DAP session, the extension host) never runs the
 * interpreter, and a sandbox that stops answering is killed.
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
import { decodeRecords, type RecordBlock } from './recordBlock.ts';
import { ThreadMirror } from './threadMirror.ts';
import { largerThan } from '../values/jsonSize.ts';

/** Extra time past the duration limit before a silent child is killed. */
const GRACE_MS = 10_000;

export class RemoteRuntime extends EventEmitter<RuntimeEvents> implements RuntimeApi {
  private child: WatchedChild;
  private nextId = 1;
  private readonly waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private ended = false;
  private readonly mirror = new ThreadMirror();
  private inputsOnce: Promise<Record<string, unknown>> | undefined;

  constructor(toleranceMs = watchdogMs(DEFAULT_LIMITS, GRACE_MS)) {
    super();
    this.child = this.spawn(toleranceMs);
  }

  private spawn(toleranceMs: number): WatchedChild {
    return new WatchedChild('runtimeHost.js', 'runtimeChild.ts', toleranceMs, {
      message: m => this.onMessage(m as Parameters<RemoteRuntime['onMessage']>[0]),
      unresponsive: ms => this.lost('TimeoutError', `the sandbox process did not answer for ${Math.round(ms / 1000)} s and was killed (the debugger's watchdog; Monty's own limit did not stop it)`),
      exit: (how, stderr) => this.lost('SandboxCrashed', `the sandbox process exited unexpectedly (${how})${stderr ? `: ${stderr.split('\n').slice(-5).join('\n')}` : ''}`),
    });
  }

  private onMessage(m: { t: string; id?: number; ok?: boolean; result?: unknown; error?: unknown; events?: unknown; calls?: RecordBlock }): void {
    if (m.t === 'events') {
      if (m.calls) {
        decodeRecords(m.calls, () => undefined, r => {
          this.mirror.record(r);
          this.emit('call', r);
        });
      }
      for (const [name, args] of decode(m.events as never) as [keyof RuntimeEvents, unknown[]][]) {
        if (name === 'ended') this.ended = true;
        (this.emit as (n: string, ...a: unknown[]) => boolean)(name, ...args);
      }
      return;
    }
    if (m.t !== 'reply' || m.id === undefined) return;
    const w = this.waiting.get(m.id);
    if (!w) return;
    this.waiting.delete(m.id);
    if (m.ok) w.resolve(decode(m.result as never));
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
    this.emit('output', { category: 'stderr', text: `${type}: ${message}\n` });
    this.emit('ended', { status: 'error', error: { type, message, origin: type === 'TimeoutError' ? 'limit' : 'sandbox', frames: [] } });
  }

  private call<T>(method: string, ...args: unknown[]): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      if (this.ended && method !== 'terminate') {
        reject(new Error('the debug run has ended'));
        return;
      }
      const id = this.nextId++;
      this.waiting.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.child.send({ t: 'call', id, method, args: encode(args) });
    });
  }

  async launch(args: Record<string, unknown>): Promise<LaunchInfo> {
    const info = await this.call<LaunchInfo>('launch', args);
    this.inputsOnce = undefined;
    this.mirror.launched(info.task);
    // The watchdog tolerates the run's own duration limit plus a grace period.
    this.child.toleranceMs = info.maxDurationSecs == null ? Infinity : info.maxDurationSecs * 1000 + GRACE_MS;
    return info;
  }

  setFunctionBreakpoints(specs: FunctionBreakpointSpec[]): Promise<BreakpointStatus[]> { return this.call('setFunctionBreakpoints', specs); }
  setLineBreakpoints(file: string, specs: LineBreakpointSpec[]): Promise<BreakpointStatus[]> { return this.call('setLineBreakpoints', file, specs); }
  setExceptionFilters(filters: { filterId: string; condition?: string }[]): Promise<string[]> { return this.call('setExceptionFilters', filters); }
  configurationDone(): Promise<void> { return this.call('configurationDone'); }
  /** Answered here at once when only the main thread exists, however busy the child is (threadMirror.ts). */
  threads(): Promise<ThreadInfo[]> { const local = this.mirror.threads(); return local ? Promise.resolve(local) : this.call('threads'); }
  stack(threadId: number): Promise<StackFrameInfo[]> { return this.call('stack', threadId); }
  pending(threadId: number): Promise<PendingCallInfo | undefined> { return this.call('pending', threadId); }
  /** Fetched once per launch: they do not change, and may be large (every stop's scopes ask for them). */
  inputs(): Promise<Record<string, unknown>> { return (this.inputsOnce ??= this.call('inputs')); }
  /** Without fetching them when they are larger than `maxBytes` as JSON (the child looks). */
  async inputsIfSmall(maxBytes: number): Promise<Record<string, unknown> | undefined> {
    if (this.inputsOnce) {
      const inputs = await this.inputsOnce;
      return largerThan(inputs, maxBytes) ? undefined : inputs;
    }
    return (await this.call<Record<string, unknown> | null>(INPUTS_IF_SMALL, maxBytes)) ?? undefined;
  }
  calls(): Promise<CallRecord[]> { return this.call('calls'); }
  stdout(): Promise<string> { return this.call('stdout'); }
  evaluate(expression: string, threadId?: number, frameId?: number): Promise<EvaluateResult> { return this.call('evaluate', expression, threadId, frameId); }
  continue(threadId: number, singleThread?: boolean): Promise<void> { return this.call('continue', threadId, singleThread); }
  next(threadId: number): Promise<void> { return this.call('next', threadId); }
  stepIn(threadId: number): Promise<void> { return this.call('stepIn', threadId); }
  stepOut(threadId: number): Promise<void> { return this.call('stepOut', threadId); }
  frameLocals(frameId: number): Promise<LocalsInfo | undefined> { return this.call('frameLocals', frameId); }
  setLocal(frameId: number, name: string, expression: string): Promise<SetLocalResult> { return this.call('setLocal', frameId, name, expression); }
  dataBreakpointInfo(frameId: number, name: string): Promise<DataBreakpointInfo> { return this.call('dataBreakpointInfo', frameId, name); }
  setDataBreakpoints(specs: DataBreakpointSpec[]): Promise<DataBreakpointStatus[]> { return this.call('setDataBreakpoints', specs); }
  pause(): Promise<void> { return this.call('pause'); }
  stepBack(threadId: number): Promise<void> { return this.call('stepBack', threadId); }
  reverseContinue(threadId: number): Promise<void> { return this.call('reverseContinue', threadId); }
  restartFrame(threadId: number, frameId?: number): Promise<void> { return this.call('restartFrame', threadId, frameId); }
  rewindTo(seq: number): Promise<void> { return this.call('rewindTo', seq); }
  resolveCall(threadId: number, action: CallAction): Promise<void> { return this.call('resolveCall', threadId, action); }
  exceptionInfo(threadId: number): Promise<ExceptionDetails | undefined> { return this.call('exceptionInfo', threadId); }
  where(threadId: number): Promise<ProbeResult | undefined> { return this.call('where', threadId); }
  stubs(): Promise<StubInfo[]> { return this.call('stubs'); }
  follow(on: boolean): Promise<void> { return this.call('follow', on); }
  setStub(name: string, expression: string | undefined): Promise<void> { return this.call('setStub', name, expression); }

  async terminate(): Promise<void> {
    if (!this.ended) {
      try {
        await Promise.race([this.call('terminate'), new Promise(r => setTimeout(r, 1000))]);
      } catch {
        // the child is gone already
      }
    }
    this.ended = true;
    this.child.stop();
  }
}
