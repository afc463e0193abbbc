/**
 * A debug run of one sandboxed task: the engine loop with a controller in
 * front of the resolver chain that decides, call by call, whether to pause
 * and wait for the client (breakpoints, stepping, stop-on-every-call), and
 * time travel by replaying recorded results. Like vscode-mock-debug's
 * runtime, it knows nothing of DAP: the adapter translates.
 */
import { EventEmitter } from 'node:events';
import { UsageError } from '../errors.ts';
import { ForwardResolver } from '../forward/forwardResolver.ts';
import type { CassetteRecorder } from '../cassette/recorder.ts';
import { CassetteMismatch } from '../cassette/replay.ts';
import { setUpCassette } from '../cassette/setup.ts';
import { JsStubResolver } from '../run/jsStubs.ts';
import { codeHash } from '../cassette/format.ts';
import type { SandboxTask } from '../extract/tasks.ts';
import { loadProgram } from '../program.ts';
import type { Registry } from '../registry.ts';
import { buildInputs } from '../run/inputs.ts';
import { isThenable, type CallOutcome, type CallRecord, type ExternalCall, type Frame, type SandboxFailure } from '../run/outcome.ts';
import type { ProbeResult } from '../run/probe.ts';
import { ResolverChain, type Resolver } from '../run/resolvers.ts';
import { SandboxRun, type History, type RunResult } from '../run/sandboxRun.ts';
import { compileStubExpression, parseExceptionSpec, StubResolver } from '../run/stubs.ts';
import { isExceptionValue, pyRepr, tuple, type MontyExceptionValue } from '../values/python.ts';
import { formatTraceback } from '../run/traceback.ts';
import { MAIN_THREAD, type StubInfo, type CallAction, type EndInfo, type EvaluateResult, type ExceptionDetails, type LaunchInfo, type PendingCallInfo, type RuntimeApi, type RuntimeEvents, type StackFrameInfo, type StopReason, type StoppedInfo, type ThreadInfo } from './api.ts';
import { Breakpoints, type BreakpointStatus, type FunctionBreakpointSpec, type LineBreakpointSpec } from './breakpoints.ts';
import { LaunchError, resolveLaunchConfig, type LaunchConfig } from './launchConfig.ts';
import { evaluate, EvalError, type EvalScope } from './pythonEval.ts';

/** A call (or a flyte_map gate) waiting for the client. */
interface Pending {
  threadId: number;
  call: ExternalCall;
  kind: 'call' | 'map';
  stop: StoppedInfo;
  raised?: Extract<CallOutcome, { kind: 'raise' }>;
  needsResult?: boolean;
  probe?: ProbeResult;
  settle(outcome: CallOutcome | undefined): void;
}

type State = 'idle' | 'entry' | 'running' | 'exception' | 'ended';

/** Resolves calls the client chose to forward. */
export interface Forwarder extends Resolver {
  forward(call: ExternalCall): PromiseLike<CallOutcome>;
  dispose?(): void;
}

export interface RuntimeHooks {
  /** Builds the resolvers after stubs (cassette, forward) and the explicit forwarder. */
  resolvers?(config: LaunchConfig, task: SandboxTask, output: (text: string) => void): { after: Resolver[]; forwarder?: Forwarder };
}

/** Forwarding to the user's Python: every call named in `forward`, and any call the client forwards by hand. */
function standardResolvers(config: LaunchConfig, task: SandboxTask, output: (text: string) => void): { after: Resolver[]; forwarder: Forwarder } {
  const forwarder = new ForwardResolver({
    module: task.module.path,
    names: config.forward,
    python: config.python,
    ...(config.forwardTimeout !== undefined ? { timeoutMs: config.forwardTimeout * 1000 } : {}),
    onOutput: text => output(text),
    onNotice: text => output(`${text}\n`),
  });
  return { after: config.forward === 'all' || config.forward.length ? [forwarder] : [], forwarder };
}

export function itemThread(seq: number): number {
  return seq + 1;
}

export function signature(fn: string, args: readonly unknown[], kwargs: Record<string, unknown>, max = 80): string {
  const text = [...args.map(a => pyRepr(a)), ...Object.entries(kwargs).map(([k, v]) => `${k}=${pyRepr(v)}`)].join(', ');
  return `${fn}(${text.length > max ? text.slice(0, max - 1) + '…' : text})`;
}

function describe(call: ExternalCall): string {
  const sig = signature(call.function, call.args, call.kwargs);
  return call.mapIndex === undefined ? sig : `${sig} · flyte_map item ${call.mapIndex + 1}/${call.mapSize ?? '?'}`;
}

export class DebugRuntime extends EventEmitter<RuntimeEvents> implements RuntimeApi {
  private config!: LaunchConfig;
  private task!: SandboxTask;
  private registry!: Registry;
  private breakpoints!: Breakpoints;
  private stubResolver!: StubResolver;
  private downstream!: ResolverChain;
  private forwarder: Forwarder | undefined;
  private recorder: CassetteRecorder | undefined;
  private inputValues: Record<string, unknown> = {};
  private run: SandboxRun | undefined;
  private runId = 0;
  private state: State = 'idle';
  private failure: SandboxFailure | undefined;
  private lastResult: RunResult | undefined;
  private readonly pendings = new Map<number, Pending>();
  private readonly shownThreads = new Set<number>();
  private stepping: { threadId: number; mapParent?: number } | undefined;
  private pauseRequested = false;
  private stopAt: { seq: number; reason: StopReason } | undefined;
  private replayItems = new Map<number, CallRecord>();
  private skipGate: number | undefined;
  private readonly stopHistory = new Set<number>();

  constructor(private readonly hooks: RuntimeHooks = {}) {
    super();
  }

  // ── launch and configuration ─────────────────────────────────────────

  async launch(args: Record<string, unknown>): Promise<LaunchInfo> {
    const { config, warnings } = resolveLaunchConfig(args);
    this.config = config;
    let program;
    try {
      program = await loadProgram(config.program, config.pythonVersion ? { pythonVersion: config.pythonVersion } : {});
    } catch (e) {
      if (e instanceof UsageError) throw new LaunchError('program', e.message);
      throw e;
    }
    try {
      this.task = program.findTask(config.task);
    } catch (e) {
      if (e instanceof UsageError) throw new LaunchError('task', e.message.replace(/^[^:]*: /, ''));
      throw e;
    }
    this.registry = config.externals.length ? this.task.registry.withExtra(config.externals) : this.task.registry;
    try {
      this.inputValues = buildInputs(this.task, config.inputs, 'inputs');
    } catch (e) {
      if (e instanceof UsageError) throw new LaunchError('inputs', e.message.replace(/^inputs: /, ''));
      throw e;
    }
    if (Array.isArray(config.stopOnExternalCall)) {
      const unknown = config.stopOnExternalCall.filter(n => n !== 'flyte_map' && !this.registry.get(n));
      if (unknown.length) throw new LaunchError('stopOnExternalCall', `${unknown.map(n => `'${n}'`).join(', ')} ${unknown.length > 1 ? 'are' : 'is'} not an external ${this.task.name} may call (registered: ${this.registry.names().join(', ') || '(none)'})`);
    }
    if (Array.isArray(config.forward)) {
      const unknown = config.forward.filter(n => !this.registry.get(n));
      if (unknown.length) throw new LaunchError('forward', `${unknown.map(n => `'${n}'`).join(', ')} ${unknown.length > 1 ? 'are' : 'is'} not an external ${this.task.name} may call (registered: ${this.registry.names().join(', ') || '(none)'})`);
    }
    const unusedStubs = [...config.stubs.keys()].filter(n => !this.registry.get(n));
    if (unusedStubs.length) warnings.push(`stubs for ${unusedStubs.join(', ')} will never be used: ${this.task.name} may call only ${this.registry.names().join(', ') || '(nothing)'}`);
    if (program.encodingWarning) warnings.push(`${program.encodingWarning.file}:${program.encodingWarning.line}:${program.encodingWarning.column}: ${program.encodingWarning.message}`);
    if (program.syntaxWarning) warnings.push(`${program.syntaxWarning.file}:${program.syntaxWarning.line}: Python cannot parse this line, so importing the module would fail in production`);
    this.breakpoints = new Breakpoints(this.task, this.registry);
    this.stubResolver = new StubResolver(new Map(config.stubs));
    const notice = (text: string) => this.emit('output', { category: 'console', text: text.endsWith('\n') ? text : text + '\n' });
    let cassette;
    try {
      cassette = setUpCassette(config, this.task, this.inputValues, notice);
    } catch (e) {
      if (e instanceof UsageError) throw new LaunchError(config.replay ? 'replay' : 'record', e.message);
      throw e;
    }
    this.recorder = cassette.recorder;
    const extra = (this.hooks.resolvers ?? standardResolvers)(config, this.task, notice);
    this.forwarder = extra.forwarder;
    let jsStubs: JsStubResolver | undefined;
    if (config.stubModule) {
      try {
        jsStubs = await JsStubResolver.load(config.stubModule, { output: text => notice(`[stubs.js] ${text}`) });
      } catch (e) {
        if (e instanceof UsageError) throw new LaunchError('stubModule', e.message);
        throw e;
      }
    }
    this.downstream = new ResolverChain([this.stubResolver, ...(jsStubs ? [jsStubs] : []), ...(cassette.resolver ? [cassette.resolver] : []), ...extra.after]);
    for (const w of warnings) this.emit('output', { category: 'console', text: `warning: ${w}\n` });
    const callSites: Record<string, number[]> = {};
    for (const site of this.task.callSites) if (site.name === 'flyte_map' || this.registry.get(site.name)) (callSites[site.name] ??= []).push(site.file.line);
    return {
      task: this.task.name, flyteName: this.task.flyteName, file: this.task.module.path, line: this.task.at.line, externals: this.registry.names(), warnings,
      maxDurationSecs: config.limits.maxDurationSecs, maxMemory: config.limits.maxMemory, codeHash: codeHash(this.task.code), callSites, inputNames: this.task.inputNames,
    };
  }

  async setFunctionBreakpoints(specs: FunctionBreakpointSpec[]): Promise<BreakpointStatus[]> {
    return this.breakpoints.setFunctionBreakpoints(specs);
  }

  async setLineBreakpoints(file: string, specs: LineBreakpointSpec[]): Promise<BreakpointStatus[]> {
    return this.breakpoints.setLineBreakpoints(file, specs);
  }

  async setExceptionFilters(filters: { filterId: string; condition?: string }[]): Promise<string[]> {
    return this.breakpoints.setExceptionFilters(filters);
  }

  async configurationDone(): Promise<void> {
    if (this.config.stopOnEntry) this.stopAtEntry('entry');
    else this.startRun();
  }

  // ── the run ──────────────────────────────────────────────────────────

  private stopAtEntry(reason: StopReason): void {
    this.state = 'entry';
    this.emit('stopped', { reason, threadId: MAIN_THREAD, description: `${this.task.name}(${Object.entries(this.inputValues).map(([k, v]) => `${k}=${pyRepr(v)}`).join(', ')}) · before the first line` });
  }

  private startRun(history?: History): void {
    const id = ++this.runId;
    this.state = 'running';
    this.failure = undefined;
    const controller: Resolver = { source: 'interactive', resolve: call => this.onCall(call, 'call') };
    const gate: Resolver = { source: 'interactive', resolve: call => this.onCall(call, 'map') };
    const run = new SandboxRun(this.task, {
      inputs: this.inputValues,
      resolvers: [controller],
      mapGate: gate,
      limits: this.config.limits,
      raiseInSandbox: this.config.raiseInSandbox,
      externals: this.config.externals,
      ...(history ? { history } : {}),
    });
    this.run = run;
    run.on('output', text => this.emit('output', { category: 'stdout', text }));
    run.on('call', r => this.emit('call', r));
    run.on('result', r => {
      this.emit('call', r);
      this.recorder?.changed(() => run.calls as CallRecord[]);
      const thread = itemThread(r.seq);
      if (r.mapParent !== undefined && this.shownThreads.delete(thread)) this.emit('thread', { reason: 'exited', threadId: thread });
    });
    void run.execute().then(result => {
      if (id === this.runId) this.onRunEnd(result);
    });
  }

  private onRunEnd(result: RunResult): void {
    this.lastResult = result;
    this.recorder?.finish(result.calls, result.status === 'ok' ? 'ok' : result.error?.origin === 'stopped' ? 'incomplete' : 'error', result.output, result.error);
    for (const t of this.shownThreads) this.emit('thread', { reason: 'exited', threadId: t });
    this.shownThreads.clear();
    const f = result.error;
    if (f && f.origin !== 'stopped') {
      this.emit('output', { category: 'stderr', text: formatTraceback(f) + '\n' });
      if (this.breakpoints.breaksOn('uncaught', f.type)) {
        this.state = 'exception';
        this.failure = f;
        this.emit('stopped', { reason: 'exception', threadId: MAIN_THREAD, description: `${f.type}: ${f.message}`, text: f.message });
        return;
      }
    }
    this.finish(result);
  }

  private finish(result: RunResult): void {
    this.state = 'ended';
    if (result.status === 'ok') this.emit('output', { category: 'console', text: `result: ${pyRepr(result.output)}\n` });
    this.forwarder?.dispose?.();
    this.emit('ended', { status: result.status, ...(result.status === 'ok' ? { output: result.output } : {}), ...(result.error ? { error: result.error } : {}) } satisfies EndInfo);
  }

  // ── the controller: pause or pass, call by call ──────────────────────

  private scope(call?: { args: unknown[]; kwargs: Record<string, unknown> }): EvalScope {
    return { args: call?.args ?? [], kwargs: call?.kwargs ?? {}, inputs: this.inputValues, history: () => this.historyValue() };
  }

  private historyValue(): unknown[] {
    return (this.run?.calls ?? []).filter(r => r.status === 'returned' || r.status === 'raised').map(r => new Map<string, unknown>([
      ['seq', r.seq], ['function', r.function], ['args', tuple([...r.args])], ['kwargs', new Map(Object.entries(r.kwargs))],
      ['result', r.status === 'returned' ? r.result : null],
      ['error', r.error ? `${r.error.type}: ${r.error.message}` : null], ['source', r.source ?? null],
    ]));
  }

  private onCall(call: ExternalCall, kind: 'call' | 'map'): CallOutcome | undefined | Promise<CallOutcome | undefined> {
    const replayed = this.replayItems.get(call.seq);
    if (replayed && replayed.function === call.function) {
      if (replayed.status === 'returned') return { kind: 'return', value: replayed.result, source: replayed.source ?? 'interactive' };
      if (replayed.status === 'raised' && replayed.error) return { kind: 'raise', ...replayed.error, source: replayed.source ?? 'interactive' };
    }
    const stop = this.stopDecision(call, kind);
    if (stop) return this.suspend(call, kind, stop);
    return kind === 'map' ? undefined : this.viaChain(call);
  }

  private stopDecision(call: ExternalCall, kind: 'call' | 'map'): StoppedInfo | undefined {
    // Runs for every call: nothing here may cost more than a few comparisons unless it is going to stop.
    const every = this.config.stopOnExternalCall;
    if (every === 'none' && !this.stopAt && !this.skipGate && !this.pauseRequested && !this.stepping && !this.breakpoints.watches(call.function)) return undefined;
    const threadId = call.mapIndex === undefined ? MAIN_THREAD : itemThread(call.seq);
    const at = (reason: StopReason, extra: Partial<StoppedInfo> = {}): StoppedInfo => ({ reason, threadId, description: describe(call), ...extra });
    if (this.stopAt?.seq === call.seq) {
      const reason = this.stopAt.reason;
      this.stopAt = undefined;
      return at(reason);
    }
    if (kind === 'map' && this.skipGate === call.seq) {
      this.skipGate = undefined;
      return undefined;
    }
    if (this.pauseRequested) {
      this.pauseRequested = false;
      return at('pause');
    }
    const step = this.stepping;
    if (step && (step.threadId === MAIN_THREAD || call.mapParent === step.mapParent || call.mapIndex === undefined)) {
      this.stepping = undefined;
      return at('step');
    }
    if (this.breakpoints.watches(call.function)) {
      const hit = this.breakpoints.check(call, this.scope(call), () => (call.mapIndex === undefined ? this.run?.probe()?.frames.at(-1) : undefined));
      for (const log of hit.logs) this.emit('output', { category: 'console', text: log + '\n' });
      for (const err of hit.errors) this.emit('output', { category: 'stderr', text: err + '\n' });
      if (hit.stop.length) return at(hit.kind ?? 'breakpoint', { hitBreakpointIds: hit.stop });
    }
    if (every === 'all' || (Array.isArray(every) && every.includes(call.function))) return at('external call');
    return undefined;
  }

  /** Ask the stubs/cassette/forward chain; stop when it raises (and `raised` is on) or has no answer. */
  private viaChain(call: ExternalCall): CallOutcome | Promise<CallOutcome | undefined> {
    const after = (o: CallOutcome | undefined): CallOutcome | Promise<CallOutcome | undefined> => {
      const threadId = call.mapIndex === undefined ? MAIN_THREAD : itemThread(call.seq);
      if (!o) {
        return this.suspend(call, 'call', { reason: 'exception', threadId, description: `${describe(call)} needs a result: no stub, cassette or forward answers it`, text: `Give it one: !return <python expr>, !raise ValueError("..."), !forward, or add a stub for ${call.function}` }, { needsResult: true });
      }
      if (o.kind === 'raise' && this.breakpoints.breaksOn('raised', o.type)) {
        return this.suspend(call, 'call', { reason: 'exception', threadId, description: `${o.type} raised by ${describe(call)}`, text: o.message }, { raised: o });
      }
      return o;
    };
    let r: ReturnType<ResolverChain['resolve']>;
    try {
      r = this.downstream.resolve(call);
    } catch (e) {
      if (!(e instanceof CassetteMismatch)) throw e;
      const threadId = call.mapIndex === undefined ? MAIN_THREAD : itemThread(call.seq);
      return this.suspend(call, 'call', { reason: 'exception', threadId, description: `${describe(call)}: the cassette does not match`, text: e.failure.message }, { needsResult: true });
    }
    return isThenable(r) ? r.then(after) : after(r);
  }

  private suspend(call: ExternalCall, kind: 'call' | 'map', stop: StoppedInfo, extra: Pick<Pending, 'raised' | 'needsResult'> = {}): Promise<CallOutcome | undefined> {
    return new Promise(resolve => {
      const threadId = stop.threadId;
      const pending: Pending = {
        threadId, call, kind, stop, ...extra,
        settle: o => {
          if (this.pendings.get(threadId) === pending) this.pendings.delete(threadId);
          resolve(o);
        },
      };
      this.pendings.set(threadId, pending);
      if (['breakpoint', 'function breakpoint', 'external call'].includes(stop.reason)) this.stopHistory.add(call.seq);
      if (threadId !== MAIN_THREAD && !this.shownThreads.has(threadId)) {
        this.shownThreads.add(threadId);
        this.emit('thread', { reason: 'started', threadId });
      }
      this.emit('stopped', stop);
    });
  }

  // ── execution control ────────────────────────────────────────────────

  /** At the entry, continuing starts the run; at an uncaught exception, it ends it. True when handled so. */
  private leaveStop(): boolean {
    if (this.state === 'entry') this.startRun();
    else if (this.state === 'exception') this.finish(this.lastResult!);
    else return false;
    return true;
  }

  async continue(threadId: number, singleThread = false): Promise<void> {
    if (this.leaveStop()) return;
    const targets = singleThread || threadId !== MAIN_THREAD ? [this.pendings.get(threadId)] : [...this.pendings.values()];
    for (const p of targets) if (p) this.release(p);
  }

  private release(p: Pending): void {
    this.emit('continued', { threadId: p.threadId, allThreadsContinued: false });
    if (p.kind === 'map') p.settle(undefined);
    else if (p.raised) p.settle(p.raised);
    else {
      this.pendings.delete(p.threadId);
      const r = this.viaChain(p.call);
      if (isThenable(r)) void r.then(o => p.settle(o));
      else p.settle(r);
    }
  }

  async next(threadId: number): Promise<void> {
    const p = this.pendings.get(threadId);
    this.stepping = { threadId, ...(p?.call.mapParent !== undefined ? { mapParent: p.call.mapParent } : {}) };
    if (this.leaveStop()) return;
    if (p) this.release(p);
  }

  async pause(): Promise<void> {
    this.pauseRequested = true;
    if (this.state === 'running' && this.pendings.size === 0) this.emit('output', { category: 'console', text: 'pausing at the next external call (a sandbox running Python code between calls cannot be interrupted)\n' });
  }

  async resolveCall(threadId: number, action: CallAction): Promise<void> {
    const p = this.pendings.get(threadId) ?? (this.pendings.size === 1 ? [...this.pendings.values()][0] : undefined);
    if (!p) throw new Error(this.state === 'running' ? 'no call is waiting on this thread' : `no pending call: the run is ${this.state === 'entry' ? 'at its entry' : this.state}`);
    if (p.kind === 'map' && action.action === 'forward') throw new Error('flyte_map itself cannot be forwarded: continue to run its items, or !return a whole result list');
    const outcome = await this.outcomeOf(p, action);
    if (action.action !== 'raise' && action.remember) this.remember(p.call.function, action);
    this.emit('continued', { threadId: p.threadId, allThreadsContinued: false });
    p.settle(outcome);
  }

  private async outcomeOf(p: Pending, action: CallAction): Promise<CallOutcome> {
    const scope = this.scope(p.call);
    switch (action.action) {
      case 'return': {
        const value = action.expression !== undefined ? this.eval(action.expression, scope) : action.value;
        return { kind: 'return', value, source: 'interactive' };
      }
      case 'raise': {
        if (action.expression !== undefined) {
          const v = this.eval(action.expression, scope);
          if (!isExceptionValue(v)) throw new Error(`!raise needs an exception, e.g. ValueError("bad input"); ${action.expression} is ${pyRepr(v)}`);
          return { kind: 'raise', type: (v as MontyExceptionValue).excType, message: (v as MontyExceptionValue).message, source: 'interactive' };
        }
        const e = typeof action.exception === 'string' ? parseExceptionSpec(action.exception) : action.exception ?? { type: 'Exception', message: '' };
        return { kind: 'raise', type: e.type, message: e.message, source: 'interactive' };
      }
      case 'forward': {
        if (!this.forwarder) throw new Error('forwarding is not available in this session (set "forward" or "python" in the launch configuration)');
        return this.forwarder.forward(p.call);
      }
    }
  }

  private eval(expression: string, scope: EvalScope): unknown {
    try {
      return evaluate(expression, scope);
    } catch (e) {
      if (e instanceof EvalError) throw new Error(e.message);
      throw e;
    }
  }

  private remember(fn: string, action: CallAction): void {
    if (action.action === 'return') {
      if (action.expression !== undefined) this.stubResolver.stubs.set(fn, { kind: 'python', expression: action.expression, compiled: compileStubExpression(action.expression, `stub:${fn}`) });
      else this.stubResolver.stubs.set(fn, { kind: 'value', value: action.value });
      this.emit('output', { category: 'console', text: `later calls to ${fn} return ${action.expression ?? pyRepr(action.value)} (remembered stub)\n` });
    }
  }

  async terminate(): Promise<void> {
    this.runId++;
    if (this.run && this.state !== 'ended' && this.state !== 'exception') this.recorder?.finish(this.run.calls, 'incomplete');
    this.run?.stop();
    for (const p of [...this.pendings.values()]) p.settle(undefined);
    this.pendings.clear();
    this.forwarder?.dispose?.();
    if (this.state !== 'ended') {
      this.state = 'ended';
      this.emit('ended', { status: 'error', error: { type: 'RunStopped', message: 'the run was stopped', origin: 'stopped', frames: [] } });
    }
  }

  // ── time travel ──────────────────────────────────────────────────────

  /** The seq the client is looking at: the pending call of the thread, or one past the last call. */
  private currentSeq(threadId: number): number {
    const p = this.pendings.get(threadId) ?? this.pendings.get(MAIN_THREAD) ?? [...this.pendings.values()][0];
    if (p) return p.call.seq;
    if (this.state === 'entry') return 0;
    return (this.run?.calls.length ?? 0) + 1;
  }

  async stepBack(threadId: number): Promise<void> {
    const target = this.currentSeq(threadId) - 1;
    if (target < 1) {
      this.rewindToEntry();
      return;
    }
    this.rewind(target, 'step');
  }

  async reverseContinue(threadId: number): Promise<void> {
    const calls = this.run?.calls ?? [];
    for (let seq = this.currentSeq(threadId) - 1; seq >= 1; seq--) {
      const r = calls[seq - 1];
      if (!r) continue;
      const call = { seq: r.seq, function: r.function, args: r.args, kwargs: r.kwargs, mapParent: r.mapParent, mapIndex: r.mapIndex } as ExternalCall;
      if (this.stopHistory.has(seq) || this.breakpoints.matchesHistory(call, this.scope(r))) {
        this.rewind(seq, 'breakpoint');
        return;
      }
    }
    this.rewindToEntry();
  }

  async restartFrame(threadId: number): Promise<void> {
    const seq = this.currentSeq(threadId);
    if (seq < 1 || seq > (this.run?.calls.length ?? 0)) throw new Error('no pending call to run again from');
    this.rewind(seq, 'goto');
  }

  async rewindTo(seq: number): Promise<void> {
    const calls = this.run?.calls ?? [];
    if (!Number.isInteger(seq) || seq < 1 || seq > calls.length) throw new Error(`no call #${seq}: this run has made ${calls.length} call${calls.length === 1 ? '' : 's'}`);
    this.rewind(seq, 'goto');
  }

  private abandonRun(): { records: CallRecord[]; stdout: string } {
    const records = [...(this.run?.calls ?? [])];
    const stdout = this.run?.stdout ?? '';
    this.runId++;
    this.run?.stop();
    for (const p of [...this.pendings.values()]) p.settle(undefined);
    this.pendings.clear();
    for (const t of this.shownThreads) this.emit('thread', { reason: 'exited', threadId: t });
    this.shownThreads.clear();
    this.stepping = undefined;
    this.pauseRequested = false;
    return { records, stdout };
  }

  private rewindToEntry(): void {
    this.abandonRun();
    this.emit('rewound', { seq: 1 });
    this.stopAtEntry('step');
  }

  private rewind(target: number, reason: StopReason): void {
    const { records, stdout } = this.abandonRun();
    const rec = records[target - 1]!;
    const until = rec.mapParent ?? rec.seq;
    this.replayItems = new Map(records.filter(r => r.mapParent !== undefined && r.seq < target).map(r => [r.seq, r]));
    this.skipGate = rec.mapParent;
    this.stopAt = { seq: target, reason };
    this.emit('rewound', { seq: target });
    this.startRun({ records: records.slice(0, until - 1), stdout, until });
  }

  // ── looking ──────────────────────────────────────────────────────────

  async threads(): Promise<ThreadInfo[]> {
    const out: ThreadInfo[] = [{ id: MAIN_THREAD, name: `${this.task?.name ?? 'sandbox'} (sandbox)` }];
    const calls = this.run?.calls ?? [];
    for (const r of calls) {
      if (r.mapParent === undefined || r.status !== 'pending') continue;
      const size = this.pendings.get(itemThread(r.seq))?.call.mapSize ?? calls.filter(c => c.mapParent === r.mapParent).length;
      out.push({ id: itemThread(r.seq), name: `flyte_map ${r.function} [${(r.mapIndex ?? 0) + 1}/${size}]` });
    }
    return out;
  }

  async where(threadId: number): Promise<ProbeResult | undefined> {
    const p = this.pendings.get(threadId) ?? this.pendings.get(MAIN_THREAD);
    if (p && !p.probe && this.run) p.probe = this.run.probe();
    return p?.probe ?? (this.state === 'running' ? this.run?.probe() : undefined);
  }

  async stack(threadId: number): Promise<StackFrameInfo[]> {
    const base = threadId * 1000;
    const frame = (f: Frame, i: number): StackFrameInfo => ({ id: base + i, name: f.function, file: f.file, line: f.line, column: f.column });
    if (this.state === 'entry') {
      return [{ id: base, name: `${this.task.name}  [before the first line]`, file: this.task.module.path, line: this.task.at.line, column: this.task.at.column }];
    }
    if (this.state === 'exception' && this.failure) {
      return [...this.failure.frames].reverse().map((f, i) => frame(f, i));
    }
    const p = this.pendings.get(threadId);
    const where = await this.where(threadId);
    const python = [...(where?.frames ?? [])].reverse().map((f, i) => frame(f, i + 1));
    const site = where?.frames.at(-1);
    const top = (name: string): StackFrameInfo => ({ id: base, name, label: true, line: site?.line ?? this.task.at.line, column: site?.column ?? 1, file: site?.file ?? this.task.module.path });
    if (p) return [top(`${describe(p.call)}  [${p.kind === 'map' ? 'flyte_map, before its items' : p.call.mapIndex !== undefined ? 'flyte_map item' : 'pending external call'}]`), ...python];
    const calls = this.run?.calls ?? [];
    const mapParent = calls.find(r => r.function === 'flyte_map' && r.status === 'pending');
    if (threadId === MAIN_THREAD && mapParent) {
      const items = calls.filter(c => c.mapParent === mapParent.seq);
      const done = items.filter(c => c.status !== 'pending').length;
      return [top(`${signature('flyte_map', mapParent.args, mapParent.kwargs, 40)}  [${done}/${items.length} items done]`), ...python];
    }
    return python;
  }

  async pending(threadId: number): Promise<PendingCallInfo | undefined> {
    const p = this.pendings.get(threadId);
    if (!p) return undefined;
    const c = p.call;
    return {
      threadId: p.threadId, seq: c.seq, function: c.function, args: c.args, kwargs: c.kwargs, kind: p.kind,
      ...(c.mapParent !== undefined ? { mapParent: c.mapParent, mapIndex: c.mapIndex!, mapSize: c.mapSize! } : {}),
      ...(p.raised ? { raised: { type: p.raised.type, message: p.raised.message, ...(p.raised.traceback ? { traceback: p.raised.traceback } : {}) } } : {}),
      ...(p.needsResult ? { needsResult: true } : {}),
      ...(this.suggestion(c.function) !== undefined ? { suggestion: this.suggestion(c.function)! } : {}),
    };
  }

  private suggestion(fn: string): string | undefined {
    const stub = this.stubResolver.stubs.get(fn);
    if (stub?.kind === 'python') return stub.expression;
    if (stub?.kind === 'value') return pyRepr(stub.value);
    const last = [...(this.run?.calls ?? [])].reverse().find(r => r.function === fn && r.status === 'returned');
    return last ? pyRepr(last.result) : undefined;
  }

  async stubs(): Promise<StubInfo[]> {
    return [...this.stubResolver.stubs.entries()].map(([name, s]) => ({
      name,
      kind: s.kind,
      text: s.kind === 'python' ? s.expression : s.kind === 'value' ? pyRepr(s.value) : `${s.type}: ${s.message}`,
    }));
  }

  async setStub(name: string, expression: string | undefined): Promise<void> {
    if (expression === undefined) this.stubResolver.stubs.delete(name);
    else this.stubResolver.stubs.set(name, { kind: 'python', expression, compiled: compileStubExpression(expression, `stub:${name}`) });
  }

  async inputs(): Promise<Record<string, unknown>> {
    return this.inputValues;
  }

  async calls(): Promise<CallRecord[]> {
    return [...(this.run?.calls ?? [])];
  }

  async stdout(): Promise<string> {
    return this.run?.stdout ?? '';
  }

  async exceptionInfo(threadId: number): Promise<ExceptionDetails | undefined> {
    if (this.state === 'exception' && this.failure) {
      return { type: this.failure.type, message: this.failure.message, stackTrace: formatTraceback(this.failure), breakMode: 'unhandled' };
    }
    const p = this.pendings.get(threadId);
    if (p?.raised) return { type: p.raised.type, message: p.raised.message, stackTrace: p.raised.traceback ?? `${p.raised.type}: ${p.raised.message}`, breakMode: 'always' };
    if (p?.needsResult) return { type: 'NoResultError', message: p.stop.description, stackTrace: p.stop.text ?? '', breakMode: 'always' };
    return undefined;
  }

  async evaluate(expression: string, threadId?: number): Promise<EvaluateResult> {
    const trimmed = expression.trim();
    const thread = threadId ?? MAIN_THREAD;
    if (trimmed.startsWith('!')) return this.command(trimmed, thread);
    const p = this.pendings.get(thread) ?? this.pendings.get(MAIN_THREAD);
    const value = this.eval(trimmed, this.scope(p?.call));
    return { result: pyRepr(value), value, type: typeof value === 'object' && value !== null ? (value instanceof Map ? 'dict' : Array.isArray(value) ? 'list' : 'object') : typeof value };
  }

  private async command(text: string, threadId: number): Promise<EvaluateResult> {
    const m = /^!(\w+)\s*([\s\S]*)$/.exec(text)!;
    const [, verb, rest] = m as unknown as [string, string, string];
    const target = this.pendings.has(threadId) ? threadId : MAIN_THREAD;
    switch (verb) {
      case 'return':
      case 'stub':
        if (!rest) throw new Error(`!${verb} needs a Python expression, e.g. !${verb} args[0] * 2`);
        await this.resolveCall(target, { action: 'return', expression: rest, remember: verb === 'stub' });
        return { result: verb === 'stub' ? `returned and remembered ${rest}` : `returned ${rest}` };
      case 'raise':
        if (!rest) throw new Error('!raise needs an exception, e.g. !raise ValueError("bad input")');
        await this.resolveCall(target, { action: 'raise', expression: rest });
        return { result: `raised ${rest}${this.config.raiseInSandbox ? ' inside the sandbox (raiseInSandbox)' : '; as in Flyte the run ends with it'}` };
      case 'forward':
        await this.resolveCall(target, { action: 'forward' });
        return { result: 'forwarded' };
      case 'help':
        return { result: HELP };
      default:
        throw new Error(`unknown command !${verb}\n${HELP}`);
    }
  }
}

const HELP = [
  'Python expressions see args, kwargs (the pending call), inputs and history.',
  '!return <expr>   resume the pending call with this value',
  '!stub <expr>     the same, and use it for every later call to this function',
  '!raise <exc>     make the call fail, e.g. !raise ValueError("bad")',
  '!forward         run the real Python function',
].join('\n');
