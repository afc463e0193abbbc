/**
 * A debug run of one sandboxed task: the engine loop with a controller in
 * front of the resolver chain that decides, call by call, whether to pause
 * and wait for the client (breakpoints, stepping, stop-on-every-call), and
 * time travel by replaying recorded results. The run is the instrumented
 * copy of the task's code (unless the launch says `instrument: false`), so
 * it can also stop between statements (`lineStops.ts`) and show each
 * frame's locals (`sandboxFrames.ts`). Like vscode-mock-debug's runtime, it
 * knows nothing of DAP: the adapter translates.
 */
import { EventEmitter } from 'node:events';
import type { CassetteRecorder } from '../cassette/recorder.ts';
import { CassetteMismatch } from '../cassette/replay.ts';
import type { SandboxTask } from '../extract/tasks.ts';
import { instrument, InstrumentError, type Instrumented } from '../instrument/instrument.ts';
import { NEVER, type FrameReport, type ProbeAnswer, type ProbeHit } from '../instrument/probes.ts';
import { isThenable, type CallOutcome, type CallRecord, type ExternalCall, type SandboxFailure } from '../run/outcome.ts';
import type { ProbeResult } from '../run/probe.ts';
import { ResolverChain, type Resolver } from '../run/resolvers.ts';
import { SandboxRun, type History, type RunResult } from '../run/sandboxRun.ts';
import { compileStubExpression, parseExceptionSpec, StubResolver } from '../run/stubs.ts';
import { formatTraceback } from '../run/traceback.ts';
import { isExceptionValue, pyFloatRepr, pyRepr, pyTypeName, tuple, type MontyExceptionValue } from '../values/python.ts';
import { MAIN_THREAD, type CallAction, type EndInfo, type EvaluateResult, type ExceptionDetails, type LaunchInfo, type LocalsInfo, type PendingCallInfo, type RuntimeApi, type RuntimeEvents, type SetLocalResult, type StackFrameInfo, type StopReason, type StoppedInfo, type StubInfo, type ThreadInfo } from './api.ts';
import type { BreakpointStatus, FunctionBreakpointSpec, LineBreakpointSpec } from './breakpoints.ts';
import { DataBreakpoints, type DataBreakpointSpec, type DataBreakpointStatus } from './dataBreakpoints.ts';
import { prepareLaunch, type Forwarder, type RuntimeHooks } from './launchSetup.ts';
import { LineStops, type StepKind, type StepRequest } from './lineStops.ts';
import { replayToEnd } from './plainReplay.ts';
import { evaluate, evaluateTyped, EvalError, type EvalScope } from './pythonEval.ts';
import { framesAt, postMortemFrames, type FramesAtStop, type SandboxFrame } from './sandboxFrames.ts';
import { atCall, entriesFromFrames, entriesFromProbe, labelFrame, type StackEntry } from './stackView.ts';
import type { LaunchConfig } from './launchConfig.ts';
import type { Breakpoints } from './breakpoints.ts';

export type { Forwarder, RuntimeHooks } from './launchSetup.ts';

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

/** A stop between statements (a probe of the instrumented run), or at `breakpoint()` in the task. */
interface LineStop {
  stop: StoppedInfo;
  hit?: ProbeHit;
  settle(answer: ProbeAnswer): void;
}

type State = 'idle' | 'entry' | 'running' | 'exception' | 'ended';

/** A place a run is taken back (or forward) to, by replaying what it recorded. */
type Position = { kind: 'call'; seq: number } | { kind: 'line'; count: number; callsBefore: number; stdoutLength: number };

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

const BREAKPOINT_BUILTIN = 'breakpoint() in the task: the debug session stops here. Production refuses this call and ends the run (RuntimeError: Sandboxed task called unknown external function: breakpoint)';

export class DebugRuntime extends EventEmitter<RuntimeEvents> implements RuntimeApi {
  private config!: LaunchConfig;
  private task!: SandboxTask;
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

  // ── the program's own state (instrumented runs) ──
  /** The instrumented code the runs use now (its variant follows data breakpoints and set locals). */
  private code: Instrumented | undefined;
  private lines: LineStops | undefined;
  private data: DataBreakpoints | undefined;
  private lineStop: LineStop | undefined;
  /** The gate the sandbox holds now: statements from this count on call the host. */
  private sandboxGate = NEVER;
  /** A call the client already saw: when the replay reaches it, answer it (no second stop). */
  private release: { seq: number; outcome?: CallOutcome } | undefined;
  /** The next stop is a repositioning the client does not see (no `stopped` event). */
  private silentStop = false;
  private stopWaiters: (() => void)[] = [];
  /** Frames reported while the last exception unwound (post-mortem locals). */
  private unwind: FrameReport[] = [];
  private postMortem: SandboxFrame[] | undefined;
  /** Line breakpoints hit, by statement count (reverse continue goes back to them). */
  private readonly lineHistory = new Set<number>();
  /** A line or data breakpoint was set while the gate was closed: open it at the next call. */
  private reopen = false;
  /** What the client was shown at this stop, per thread (frame ids point into it). */
  private readonly views = new Map<number, StackEntry[]>();
  private framesCache: FramesAtStop | undefined;

  constructor(private readonly hooks: RuntimeHooks = {}) {
    super();
  }

  // ── launch and configuration ─────────────────────────────────────────

  async launch(args: Record<string, unknown>): Promise<LaunchInfo> {
    const setup = await prepareLaunch(args, this.hooks, text => this.emit('output', { category: 'console', text: text.endsWith('\n') ? text : text + '\n' }));
    Object.assign(this, { config: setup.config, task: setup.task, breakpoints: setup.breakpoints, stubResolver: setup.stubResolver, downstream: setup.downstream, forwarder: setup.forwarder, recorder: setup.recorder, inputValues: setup.inputValues });
    const warnings = setup.warnings;
    if (this.config.instrument) {
      try {
        this.code = await instrument(this.task);
      } catch (e) {
        if (!(e instanceof InstrumentError)) throw e;
        warnings.push(`locals and line stepping are off for this task: ${e.message}`);
      }
    }
    if (this.code) {
      this.breakpoints.useSites(this.code.sites);
      this.data = new DataBreakpoints(this.code.functions, this.code.sites);
      this.lines = new LineStops(this.code.sites, this.breakpoints, this.data, {
        scope: () => this.scopeAtLine(),
        output: (text, category) => this.emit('output', { category, text }),
        describe: site => (site ? `line ${site.line}: ${this.task.module.lineText(site.line).trim()}` : 'a statement'),
        suspend: (stop, hit) => this.suspendLine(stop, hit),
      });
    }
    for (const w of warnings) this.emit('output', { category: 'console', text: `warning: ${w}\n` });
    return { ...setup.info, warnings, ...(this.code ? { lines: [...new Set(this.code.sites.map(s => s.line))].sort((a, b) => a - b) } : {}) };
  }

  async setFunctionBreakpoints(specs: FunctionBreakpointSpec[]): Promise<BreakpointStatus[]> {
    return this.breakpoints.setFunctionBreakpoints(specs);
  }

  async setLineBreakpoints(file: string, specs: LineBreakpointSpec[]): Promise<BreakpointStatus[]> {
    const statuses = this.breakpoints.setLineBreakpoints(file, specs);
    this.gateMayBeNeeded();
    return statuses;
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
    this.emitStop({ reason, threadId: MAIN_THREAD, description: `${this.task.name}(${Object.entries(this.inputValues).map(([k, v]) => `${k}=${pyRepr(v)}`).join(', ')}) · before the first line` });
  }

  private startRun(history?: History, gateFrom = 0): void {
    const id = ++this.runId;
    this.state = 'running';
    this.failure = undefined;
    this.postMortem = undefined;
    this.unwind = [];
    this.lines?.resetRun();
    const controller: Resolver = { source: 'interactive', resolve: call => this.onCall(call, 'call') };
    const gate: Resolver = { source: 'interactive', resolve: call => this.onCall(call, 'map') };
    const lines = this.lines;
    this.sandboxGate = lines ? lines.gate(gateFrom) : NEVER;
    const run = new SandboxRun(this.task, {
      inputs: this.inputValues,
      resolvers: [controller],
      mapGate: gate,
      limits: this.config.limits,
      raiseInSandbox: this.config.raiseInSandbox,
      externals: this.config.externals,
      onBreakpointCall: () => this.suspendBreakpointCall(),
      ...(history ? { history } : {}),
      ...(this.code && lines ? {
        instrumentation: {
          code: this.code,
          gate: this.sandboxGate,
          probe: hit => {
            if (this.unwind.length) this.unwind = [];
            const a = lines.onProbe(hit);
            if (isThenable(a)) return a.then(x => this.gateAnswered(x));
            return this.gateAnswered(a);
          },
          report: r => {
            if (this.unwind.length < 10_000) this.unwind.push(r);
          },
        },
      } : {}),
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
      if (id === this.runId) void this.onRunEnd(result, id);
    });
  }

  private gateAnswered(a: ProbeAnswer): ProbeAnswer {
    if (a) this.sandboxGate = a[0];
    return a;
  }

  private async onRunEnd(result: RunResult, id: number): Promise<void> {
    if (this.code && result.status === 'error' && result.error && result.error.origin !== 'stopped') {
      const reports = this.unwind;
      result = await this.exactFailure(result);
      if (id !== this.runId) return;
      if (result.error) this.postMortem = postMortemFrames(this.code, result.error.frames, reports);
    }
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
        this.emitStop({ reason: 'exception', threadId: MAIN_THREAD, description: `${f.type}: ${f.message}`, text: f.message });
        return;
      }
    }
    this.finish(result);
  }

  /**
   * The instrumented run's tracebacks lose frames at its handlers: replay the
   * calls on the plain code for the exact failure. Both must fail alike.
   */
  private async exactFailure(result: RunResult): Promise<RunResult> {
    const plain = await replayToEnd(this.task, result.calls, { inputs: this.inputValues, limits: this.config.limits, raiseInSandbox: this.config.raiseInSandbox, externals: this.config.externals });
    const a = result.error!;
    const b = plain.error;
    if (plain.calls.length === result.calls.length && b && b.type === a.type && b.message === a.message) {
      return { ...result, error: { ...a, frames: b.frames.length ? b.frames : a.frames, ...(b.hint && !a.hint ? { hint: b.hint } : {}) } };
    }
    this.emit('output', { category: 'stderr', text: `warning: the debugger's instrumented run failed with ${a.type}: ${a.message}, but the task's own code ${b ? `fails with ${b.type}: ${b.message}` : 'does not fail'} on the same calls. This is a bug of the debugger; set "instrument": false to debug without it.\n` });
    return result;
  }

  private finish(result: RunResult): void {
    this.state = 'ended';
    if (result.status === 'ok') this.emit('output', { category: 'console', text: `result: ${pyRepr(result.output)}\n` });
    this.forwarder?.dispose?.();
    this.wakeStopWaiters();
    this.emit('ended', { status: result.status, ...(result.status === 'ok' ? { output: result.output } : {}), ...(result.error ? { error: result.error } : {}) } satisfies EndInfo);
  }

  // ── stops ────────────────────────────────────────────────────────────

  /** Every stop goes through here: the client hears of it unless it is a silent repositioning. */
  private emitStop(stop: StoppedInfo): void {
    this.views.clear();
    this.framesCache = undefined;
    this.wakeStopWaiters();
    if (this.silentStop) {
      this.silentStop = false;
      return;
    }
    this.emit('stopped', stop);
  }

  private wakeStopWaiters(): void {
    const waiters = this.stopWaiters;
    this.stopWaiters = [];
    for (const w of waiters) w();
  }

  /** Resolves at the next stop (or the end of the run). */
  private nextStop(): Promise<void> {
    return new Promise(resolve => this.stopWaiters.push(resolve));
  }

  private suspendLine(stop: StoppedInfo, hit: ProbeHit | undefined): Promise<ProbeAnswer> {
    return new Promise(resolve => {
      this.lineStop = {
        stop, ...(hit ? { hit } : {}),
        settle: answer => {
          this.lineStop = undefined;
          resolve(this.gateAnswered(answer));
        },
      };
      if (hit && (stop.reason === 'breakpoint' || stop.reason === 'data breakpoint')) this.lineHistory.add(hit.count);
      this.emitStop(stop);
    });
  }

  /** `breakpoint()` in the task: a stop in a debug session, a refused call in production. */
  private suspendBreakpointCall(): Promise<void> {
    if (this.release?.seq === -1) {
      this.release = undefined;
      return Promise.resolve();
    }
    this.emit('output', { category: 'console', text: `${BREAKPOINT_BUILTIN}.\n` });
    return this.suspendLine({ reason: 'breakpoint', threadId: MAIN_THREAD, description: 'breakpoint() · production refuses this call', text: BREAKPOINT_BUILTIN }, undefined).then(() => undefined);
  }

  // ── the controller: pause or pass, call by call ──────────────────────

  private scope(call?: { args: unknown[]; kwargs: Record<string, unknown> }, frame?: { locals?: ReadonlyMap<string, unknown>; types?: ReadonlyMap<string, string> }): EvalScope {
    return { args: call?.args ?? [], kwargs: call?.kwargs ?? {}, inputs: this.inputValues, history: () => this.historyValue(), ...(frame?.locals ? { locals: frame.locals, localTypes: frame.types ?? new Map() } : {}) };
  }

  /** Conditions and logpoints at a statement see the innermost frame's locals. */
  private scopeAtLine(): EvalScope {
    const snap = this.run?.pausedSnapshot;
    const at = snap && this.code ? framesAt(this.task, this.code, snap) : undefined;
    return this.scope(undefined, at?.frames[0]);
  }

  private historyValue(): unknown[] {
    return (this.run?.calls ?? []).filter(r => r.status === 'returned' || r.status === 'raised').map(r => new Map<string, unknown>([
      ['seq', r.seq], ['function', r.function], ['args', tuple([...r.args])], ['kwargs', new Map(Object.entries(r.kwargs))],
      ['result', r.status === 'returned' ? r.result : null],
      ['error', r.error ? `${r.error.type}: ${r.error.message}` : null], ['source', r.source ?? null],
    ]));
  }

  private onCall(call: ExternalCall, kind: 'call' | 'map'): CallOutcome | undefined | Promise<CallOutcome | undefined> {
    if (this.unwind.length) this.unwind = [];
    const replayed = this.replayItems.get(call.seq);
    if (replayed && replayed.function === call.function) {
      if (replayed.status === 'returned') return { kind: 'return', value: replayed.result, source: replayed.source ?? 'interactive' };
      if (replayed.status === 'raised' && replayed.error) return { kind: 'raise', ...replayed.error, source: replayed.source ?? 'interactive' };
    }
    if (this.release?.seq === call.seq && call.mapIndex === undefined) {
      const r = this.release;
      this.release = undefined;
      if (kind === 'map') return undefined;
      return r.outcome ?? this.viaChain(call);
    }
    if (this.reopen && call.mapIndex === undefined && this.code) {
      this.reopen = false;
      return this.reopenGateAt(call, kind);
    }
    const stop = this.stopDecision(call, kind);
    if (stop) return this.suspend(call, kind, stop);
    return kind === 'map' ? undefined : this.viaChain(call);
  }

  private stopDecision(call: ExternalCall, kind: 'call' | 'map'): StoppedInfo | undefined {
    // Runs for every call: nothing here may cost more than a few comparisons unless it is going to stop.
    const every = this.config.stopOnExternalCall;
    const lineStep = this.lines?.step;
    if (every === 'none' && !this.stopAt && !this.skipGate && !this.pauseRequested && !this.stepping && !lineStep && !this.breakpoints.watches(call.function)) return undefined;
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
      if (this.lines) this.lines.pauseRequested = false;
      return at('pause');
    }
    if (lineStep?.kind === 'in') {
      this.lines!.step = undefined;
      return at('step');
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
      if (hit.stop.length) {
        if (this.lines) this.lines.step = undefined;
        return at(hit.kind ?? 'breakpoint', { hitBreakpointIds: hit.stop });
      }
    }
    // Stepping by line goes over the calls it meets: they are answered as on continue.
    if (lineStep) return undefined;
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
      this.emitStop(stop);
    });
  }

  /** A line or data breakpoint appeared while the gate was closed: replay to this call with the gate open from here. */
  private reopenGateAt(call: ExternalCall, kind: 'call' | 'map'): Promise<CallOutcome | undefined> {
    const snap = this.run?.pausedSnapshot;
    const count = snap && this.code ? framesAt(this.task, this.code, snap).count : 0;
    this.silentStop = true;
    this.restartAt({ kind: 'call', seq: call.seq }, { reason: 'goto', silent: true, gateFrom: count + 1, release: {} });
    void kind;
    // This run is abandoned: its call is never answered.
    return new Promise(() => undefined);
  }

  private gateMayBeNeeded(): void {
    if (!this.lines || this.state !== 'running') return;
    if (this.sandboxGate !== NEVER || !this.lines.needsProbes) return;
    if (this.lineStop) return;
    this.reopen = true;
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
    if (this.lines) this.lines.step = undefined;
    if (this.leaveStop()) return;
    if (this.lineStop && threadId === MAIN_THREAD) {
      this.resumeLine();
      return;
    }
    const targets = singleThread || threadId !== MAIN_THREAD ? [this.pendings.get(threadId)] : [...this.pendings.values()];
    for (const p of targets) if (p) this.releasePending(p);
    if (!singleThread && this.lineStop) this.resumeLine();
  }

  private resumeLine(): void {
    const ls = this.lineStop!;
    this.emit('continued', { threadId: MAIN_THREAD, allThreadsContinued: false });
    ls.settle(ls.hit ? [this.lines!.gate(ls.hit.count + 1), null] : null);
  }

  private releasePending(p: Pending): void {
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
    await this.stepBy(threadId, 'over');
  }

  async stepIn(threadId: number): Promise<void> {
    await this.stepBy(threadId, 'in');
  }

  async stepOut(threadId: number): Promise<void> {
    await this.stepBy(threadId, 'out');
  }

  private async stepBy(threadId: number, kind: StepKind): Promise<void> {
    const lines = this.lines;
    const p = this.pendings.get(threadId);
    if (!lines || (p && p.call.mapIndex !== undefined) || threadId !== MAIN_THREAD) {
      // Not instrumented, or a flyte_map item: step from call to call.
      if (kind === 'out') return this.continue(threadId, true);
      this.stepping = { threadId, ...(p?.call.mapParent !== undefined ? { mapParent: p.call.mapParent } : {}) };
      if (this.leaveStop()) return;
      if (p) this.releasePending(p);
      return;
    }
    if (this.state === 'entry') {
      lines.step = { kind: 'in', frame: -1, depth: Number.MAX_SAFE_INTEGER };
      this.startRun();
      return;
    }
    if (this.state === 'exception') {
      this.finish(this.lastResult!);
      return;
    }
    if (this.lineStop?.hit) {
      const hit = this.lineStop.hit;
      lines.step = { kind, frame: hit.frame, depth: hit.depth };
      this.resumeLine();
      return;
    }
    // At an external call or breakpoint(): the step starts in the innermost frame waiting there.
    const at = this.currentFrames();
    const inner = at?.frames.find(f => !f.fn.module || this.task.kind === 'code-string');
    if (!at || !inner) {
      if (p) this.releasePending(p);
      else if (this.lineStop) this.resumeLine();
      return;
    }
    lines.step = { kind, frame: inner.frame, depth: inner.depth };
    if (this.sandboxGate <= at.count + 1) {
      if (p) this.releasePending(p);
      else if (this.lineStop) this.resumeLine();
      return;
    }
    // The gate is closed: replay to this very point with it open from the next statement on.
    const step = lines.step;
    if (p) {
      const seq = p.call.seq;
      const outcome = p.raised;
      this.emit('continued', { threadId: MAIN_THREAD, allThreadsContinued: false });
      this.restartAt({ kind: 'call', seq }, { reason: 'step', silent: false, gateFrom: at.count + 1, release: outcome ? { outcome } : {}, keepStep: step });
    } else if (this.lineStop) {
      this.emit('continued', { threadId: MAIN_THREAD, allThreadsContinued: false });
      const last = (this.run?.calls.length ?? 0) + 1;
      this.restartAt({ kind: 'call', seq: last }, { reason: 'step', silent: false, gateFrom: at.count + 1, releaseBreakpoint: true, keepStep: step });
    }
  }

  async pause(): Promise<void> {
    this.pauseRequested = true;
    if (this.lines) this.lines.pauseRequested = true;
    if (this.state === 'running' && this.pendings.size === 0 && !this.lineStop && this.sandboxGate === NEVER) this.emit('output', { category: 'console', text: 'pausing at the next external call (a sandbox running Python code between calls cannot be interrupted)\n' });
  }

  async resolveCall(threadId: number, action: CallAction): Promise<void> {
    const p = this.pendings.get(threadId) ?? (this.pendings.size === 1 ? [...this.pendings.values()][0] : undefined);
    if (!p) throw new Error(this.state === 'running' ? (this.lineStop ? 'the run is stopped between statements, not at an external call' : 'no call is waiting on this thread') : `no pending call: the run is ${this.state === 'entry' ? 'at its entry' : this.state}`);
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
    this.lineStop?.settle(null);
    this.forwarder?.dispose?.();
    if (this.state !== 'ended') {
      this.state = 'ended';
      this.wakeStopWaiters();
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
    const hit = this.lineStop?.hit;
    if (hit && this.lines && threadId === MAIN_THREAD) {
      await this.ensureLogged(hit.count);
      const target = this.lines.log.findBefore(hit.count, s => s.frame === hit.frame || s.depth < hit.depth);
      if (!target) {
        this.rewindToEntry();
        return;
      }
      this.restartAt({ kind: 'line', count: target.count, callsBefore: target.callsBefore, stdoutLength: target.stdoutLength }, { reason: 'step' });
      return;
    }
    const target = this.currentSeq(threadId) - 1;
    if (target < 1) {
      this.rewindToEntry();
      return;
    }
    this.rewind(target, 'step');
  }

  async reverseContinue(threadId: number): Promise<void> {
    const calls = this.run?.calls ?? [];
    let best: Position | undefined;
    for (let seq = this.currentSeq(threadId) - 1; seq >= 1 && !best; seq--) {
      const r = calls[seq - 1];
      if (!r) continue;
      const call = { seq: r.seq, function: r.function, args: r.args, kwargs: r.kwargs, mapParent: r.mapParent, mapIndex: r.mapIndex } as ExternalCall;
      if (this.stopHistory.has(seq) || this.breakpoints.matchesHistory(call, this.scope(r))) best = { kind: 'call', seq };
    }
    const hit = this.lineStop?.hit;
    const from = hit?.count ?? this.currentFrames()?.count ?? 0;
    if (this.lines && (this.lineHistory.size || this.breakpoints.hasLineBreakpoints)) {
      await this.ensureLogged(from);
      const line = this.lines.log.findBefore(from, s => this.lineHistory.has(s.count) || (this.breakpoints.onSite(s.site) && !this.breakpoints.conditionalOn(s.site)));
      // The later of the two: a statement is after call #k when k calls came before it.
      if (line && (!best || best.kind !== 'call' || line.callsBefore >= best.seq)) best = { kind: 'line', count: line.count, callsBefore: line.callsBefore, stdoutLength: line.stdoutLength };
    }
    if (!best) {
      this.rewindToEntry();
      return;
    }
    if (best.kind === 'call') this.rewind(best.seq, 'breakpoint');
    else this.restartAt(best, { reason: 'breakpoint' });
  }

  async restartFrame(threadId: number, frameId?: number): Promise<void> {
    const entry = frameId !== undefined ? this.views.get(threadId)?.[frameId - threadId * 1000] : undefined;
    const frame = entry?.frame;
    if (frame && this.lines && frame.frame >= 0) {
      const now = this.lineStop?.hit?.count ?? this.currentFrames()?.count ?? 0;
      await this.ensureLogged(now);
      const first = this.lines.log.findFirst(s => s.frame === frame.frame, now + 1);
      if (first) {
        this.restartAt({ kind: 'line', count: first.count, callsBefore: first.callsBefore, stdoutLength: first.stdoutLength }, { reason: 'goto' });
        return;
      }
    }
    const seq = this.currentSeq(threadId);
    if (seq < 1 || seq > (this.run?.calls.length ?? 0)) throw new Error('no pending call to run again from');
    this.rewind(seq, 'goto');
  }

  async rewindTo(seq: number): Promise<void> {
    const calls = this.run?.calls ?? [];
    if (!Number.isInteger(seq) || seq < 1 || seq > calls.length) throw new Error(`no call #${seq}: this run has made ${calls.length} call${calls.length === 1 ? '' : 's'}`);
    this.rewind(seq, 'goto');
  }

  /** Make sure the log knows every statement up to `count`: if not, replay silently to here with every probe calling in. */
  private async ensureLogged(count: number): Promise<void> {
    const lines = this.lines!;
    if (lines.log.complete(count)) return;
    const hit = this.lineStop?.hit;
    const p = this.pendings.get(MAIN_THREAD);
    if (hit) {
      const now = lines.log.get(hit.count)!;
      this.restartAt({ kind: 'line', count: hit.count, callsBefore: now.callsBefore, stdoutLength: now.stdoutLength }, { reason: this.lineStop!.stop.reason, silent: true, gateFrom: 0, stop: this.lineStop!.stop });
    } else if (p && p.call.mapIndex === undefined) {
      this.restartAt({ kind: 'call', seq: p.call.seq }, { reason: p.stop.reason, silent: true, gateFrom: 0, stop: p.stop });
    } else return;
    await this.nextStop();
  }

  private abandonRun(silent = false): { records: CallRecord[]; stdout: string } {
    const records = [...(this.run?.calls ?? [])];
    const stdout = this.run?.stdout ?? '';
    this.runId++;
    this.run?.stop();
    for (const p of [...this.pendings.values()]) p.settle(undefined);
    this.pendings.clear();
    this.lineStop?.settle(null);
    if (!silent) for (const t of this.shownThreads) this.emit('thread', { reason: 'exited', threadId: t });
    this.shownThreads.clear();
    this.stepping = undefined;
    this.pauseRequested = false;
    return { records, stdout };
  }

  private rewindToEntry(): void {
    this.abandonRun();
    this.lines?.dropSetsFrom(0);
    this.emit('rewound', { seq: 1 });
    this.stopAtEntry('step');
  }

  private rewind(target: number, reason: StopReason): void {
    this.restartAt({ kind: 'call', seq: target }, { reason });
  }

  /**
   * Replay to a position: a call (paused there again, or answered at once
   * with `release`), or a statement (stopped before it). `silent`: the
   * client is not told (the position is the one it already sees).
   */
  private restartAt(to: Position, opts: { reason: StopReason; silent?: boolean; gateFrom?: number; release?: { outcome?: CallOutcome }; releaseBreakpoint?: boolean; keepStep?: StepRequest; stop?: StoppedInfo }): void {
    const { records, stdout } = this.abandonRun(opts.silent);
    this.silentStop = opts.silent ?? false;
    if (this.lines) {
      this.lines.step = opts.keepStep;
      this.lines.stopAt = undefined;
      this.lines.pauseRequested = false;
    }
    let history: History;
    if (to.kind === 'call') {
      const rec = records[to.seq - 1];
      const until = rec ? rec.mapParent ?? rec.seq : to.seq;
      this.replayItems = new Map(records.filter(r => r.mapParent !== undefined && r.seq < to.seq).map(r => [r.seq, r]));
      this.skipGate = rec?.mapParent;
      if (opts.release) this.release = { seq: to.seq, ...(opts.release.outcome ? { outcome: opts.release.outcome } : {}) };
      else if (opts.releaseBreakpoint) this.release = { seq: -1 };
      else this.stopAt = { seq: to.seq, reason: opts.reason };
      history = { records: records.slice(0, until - 1), stdout, until };
      if (this.lines) this.lines.dropSetsFrom(NEVER);
    } else {
      this.replayItems = new Map();
      this.skipGate = undefined;
      this.lines!.stopAt = { count: to.count, reason: opts.reason };
      this.lines!.dropSetsFrom(to.count + 1);
      history = { records: records.slice(0, to.callsBefore), stdout, until: to.callsBefore + 1, stdoutOffset: to.stdoutLength };
    }
    if (!opts.silent) this.emit('rewound', { seq: history.until });
    this.startRun(history, opts.gateFrom ?? 0);
  }

  // ── looking ──────────────────────────────────────────────────────────

  /** The sandbox frames where the run is paused now (instrumented runs only), cached until it moves. */
  private currentFrames(): FramesAtStop | undefined {
    if (!this.code) return undefined;
    if (this.framesCache) return this.framesCache;
    const snap = this.run?.pausedSnapshot;
    if (!snap || this.state !== 'running') return undefined;
    this.framesCache = framesAt(this.task, this.code, snap);
    return this.framesCache;
  }

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
    return (await this.view(threadId)).map(e => e.info);
  }

  private async view(threadId: number): Promise<StackEntry[]> {
    const cached = this.views.get(threadId);
    if (cached) return cached;
    const entries = await this.buildView(threadId);
    this.views.set(threadId, entries);
    return entries;
  }

  private async buildView(threadId: number): Promise<StackEntry[]> {
    const base = threadId * 1000;
    if (this.state === 'entry') {
      return [{ info: { id: base, name: `${this.task.name}  [before the first line]`, file: this.task.module.path, line: this.task.at.line, column: this.task.at.column } }];
    }
    if (this.state === 'exception' && this.failure) {
      return this.postMortem ? entriesFromFrames(base, this.postMortem) : entriesFromProbe(base, this.failure.frames);
    }
    const p = this.pendings.get(threadId);
    if (this.lineStop && threadId === MAIN_THREAD && !p) {
      const at = this.currentFrames();
      return at ? entriesFromFrames(base, at.frames) : [];
    }
    let python: StackEntry[];
    const call = p?.call ?? this.pendings.get(MAIN_THREAD)?.call ?? [...this.pendings.values()][0]?.call;
    const at = this.currentFrames();
    if (at && call) python = entriesFromFrames(base, atCall(this.task, at, call).frames, 1);
    else if (at) python = entriesFromFrames(base, at.frames, 1);
    else {
      const where = await this.where(threadId);
      python = entriesFromProbe(base, where?.frames ?? [], 1);
    }
    const inner = python[0]?.info;
    if (p) return [labelFrame(base, `${describe(p.call)}  [${p.kind === 'map' ? 'flyte_map, before its items' : p.call.mapIndex !== undefined ? 'flyte_map item' : 'pending external call'}]`, this.task, inner), ...python];
    const calls = this.run?.calls ?? [];
    const mapParent = calls.find(r => r.function === 'flyte_map' && r.status === 'pending');
    if (threadId === MAIN_THREAD && mapParent) {
      const items = calls.filter(c => c.mapParent === mapParent.seq);
      const done = items.filter(c => c.status !== 'pending').length;
      return [labelFrame(base, `${signature('flyte_map', mapParent.args, mapParent.kwargs, 40)}  [${done}/${items.length} items done]`, this.task, inner), ...python];
    }
    return python.map((e, i) => ({ ...e, info: { ...e.info, id: base + i } }));
  }

  /** The sandbox frame behind a DAP frame id of the current stop. */
  private async frameOf(frameId: number): Promise<SandboxFrame | undefined> {
    const threadId = Math.floor(frameId / 1000) || MAIN_THREAD;
    const entries = await this.view(threadId);
    return entries.find(e => e.info.id === frameId)?.frame;
  }

  async frameLocals(frameId: number): Promise<LocalsInfo | undefined> {
    let f = await this.frameOf(frameId);
    // The pending call's label frame shows the locals of the frame that makes the call.
    if (!f && frameId % 1000 === 0) f = (await this.view(Math.floor(frameId / 1000) || MAIN_THREAD)).find(e => e.frame)?.frame;
    if (!f) return undefined;
    if (f.fn.module && this.task.kind === 'decorated') return undefined;
    const note = this.state === 'exception' ? `post-mortem: the locals of ${f.name} when the exception passed through it` : this.framesCache?.note;
    return { function: f.name, locals: f.locals ?? new Map(), types: f.types ?? new Map(), ...(f.locals ? {} : { unavailable: note ?? `${f.name} could not report its locals` }), ...(note && f.locals ? { note } : {}) };
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

  async evaluate(expression: string, threadId?: number, frameId?: number): Promise<EvaluateResult> {
    const trimmed = expression.trim();
    const thread = threadId ?? MAIN_THREAD;
    if (trimmed.startsWith('!')) return this.command(trimmed, thread);
    const p = this.pendings.get(thread) ?? this.pendings.get(MAIN_THREAD);
    let frame: SandboxFrame | undefined;
    if (frameId !== undefined) frame = await this.frameOf(frameId) ?? (frameId % 1000 === 0 ? (await this.view(thread)).find(e => e.frame)?.frame : undefined);
    else if (this.lineStop || p) frame = this.currentFrames()?.frames[0];
    const locals = frame?.locals;
    let value: unknown;
    let pyType: string;
    try {
      ({ value, type: pyType } = this.evalTyped(trimmed, this.scope(p?.call, frame)));
    } catch (e) {
      const m = /^NameError: name '([^']+)' is not defined/.exec((e as Error).message);
      if (m && locals) throw new Error(`${(e as Error).message}: ${m[1]} is not bound in this frame (not assigned yet, or not one of its locals); the expression also sees inputs, args, kwargs and history`);
      throw e;
    }
    return { result: pyType === 'float' && typeof value === 'number' ? pyFloatRepr(value) : pyRepr(value), value, type: pyType || pyTypeName(value), ...(pyType ? { pyType } : {}) };
  }

  private evalTyped(expression: string, scope: EvalScope): { value: unknown; type: string } {
    try {
      return evaluateTyped(expression, scope);
    } catch (e) {
      if (e instanceof EvalError) throw new Error(e.message);
      throw e;
    }
  }

  // ── changing the run's state (beyond production) ─────────────────────

  /**
   * Assign a local of the innermost frame at a line stop, then stay there
   * with the new value (a replay with the assignment made before the
   * statement). Production cannot do this; the run from here on is a what-if.
   */
  async setLocal(frameId: number, name: string, expression: string): Promise<SetLocalResult> {
    const hit = this.lineStop?.hit;
    if (!this.lines || !this.code) throw new Error('setting a local needs the instrumented run (the launch has "instrument": false, or the task could not be instrumented)');
    const f = await this.frameOf(frameId);
    if (!f) throw new Error('no sandbox frame with this id at the current stop');
    if (!hit || f.frame !== hit.frame) {
      throw new Error(hit ? `only the innermost frame (${this.currentFrames()?.frames[0]?.name ?? '?'}) can be changed: ${f.name} is in the middle of a statement` : 'a local can be set only at a stop between statements (the current statement is waiting on an external call): step to the next line first (F10)');
    }
    if (!f.fn.locals.includes(name)) throw new Error(`${name} is not a local of ${f.name} (its locals: ${f.fn.locals.join(', ') || 'none'})`);
    const { value, type: pyType } = this.evalTyped(expression, this.scope(undefined, f));
    const logged = this.lines.log.get(hit.count);
    const previous = this.lines.sets.find(s => s.count === hit.count);
    const values = new Map(previous?.values ?? []);
    values.set(name, value);
    const floats = [...(previous?.floats ?? []).filter(n => n !== name), ...(pyType === 'float' ? [name] : [])];
    this.lines.addSet({ count: hit.count, site: hit.site, frame: hit.frame, values, floats });
    this.lines.log.truncateAfter(hit.count);
    this.code = await instrument(this.task, this.lines.variant());
    const stop = this.lineStop!.stop;
    this.restartAt({ kind: 'line', count: hit.count, callsBefore: logged?.callsBefore ?? hit.callsBefore, stdoutLength: logged?.stdoutLength ?? hit.stdoutLength }, { reason: stop.reason, silent: true, stop });
    await this.nextStop();
    const shown = pyType === 'float' && typeof value === 'number' ? pyFloatRepr(value) : pyRepr(value);
    const text = `${name} = ${shown} in ${f.name}, set by the debugger (beyond production: a deployed task cannot do this; the run goes on from here as a what-if)`;
    this.emit('output', { category: 'console', text: `${text}\n` });
    return { value, pyType, text };
  }

  async dataBreakpointInfo(frameId: number, name: string): Promise<{ dataId: string | null; description: string; accessTypes?: ['write'] }> {
    if (!this.data) return { dataId: null, description: 'data breakpoints need the instrumented run (the launch has "instrument": false)' };
    const f = await this.frameOf(frameId);
    return this.data.info(f?.fn, name);
  }

  async setDataBreakpoints(specs: DataBreakpointSpec[]): Promise<DataBreakpointStatus[]> {
    if (!this.data || !this.lines) return specs.map((_, i) => ({ id: i + 1, verified: false, message: 'data breakpoints need the instrumented run (the launch has "instrument": false)' }));
    const before = JSON.stringify([...this.data.watchMap()]);
    const statuses = this.data.set(specs);
    if (JSON.stringify([...this.data.watchMap()]) === before) return statuses;
    this.code = await instrument(this.task, this.lines.variant());
    await this.repositionSilently();
    this.gateMayBeNeeded();
    return statuses;
  }

  /** Take the run to where it is paused again, on the current code variant, with the gate open from here. */
  private async repositionSilently(): Promise<void> {
    const hit = this.lineStop?.hit;
    const p = this.pendings.get(MAIN_THREAD);
    if (this.state !== 'running' || this.pendings.size > 1) return;
    if (hit) {
      const logged = this.lines!.log.get(hit.count);
      this.restartAt({ kind: 'line', count: hit.count, callsBefore: logged?.callsBefore ?? hit.callsBefore, stdoutLength: logged?.stdoutLength ?? hit.stdoutLength }, { reason: this.lineStop!.stop.reason, silent: true });
    } else if (p && p.kind === 'call' && !p.raised && !p.needsResult) {
      const count = this.currentFrames()?.count ?? 0;
      this.restartAt({ kind: 'call', seq: p.call.seq }, { reason: p.stop.reason, silent: true, gateFrom: count + 1 });
    } else return;
    await this.nextStop();
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
  'Python expressions see the selected frame\'s locals, inputs, and at a pending call args, kwargs, and history.',
  '!return <expr>   resume the pending call with this value',
  '!stub <expr>     the same, and use it for every later call to this function',
  '!raise <exc>     make the call fail, e.g. !raise ValueError("bad")',
  '!forward         run the real Python function',
].join('\n');
