/**
 * The debug runtime's base layer: the launch, the state it keeps, the life
 * of a run (the instrumented engine loop with the controller in front of
 * the resolver chain), and how stops reach the client. The controller
 * (`runtimeCalls.ts`), time travel (`runtimeTravel.ts`) and what the client
 * looks at (`runtime.ts`) are the layers above.
 */
import { EventEmitter } from 'node:events';
import type { CassetteRecorder } from '../cassette/recorder.ts';
import type { SandboxTask } from '../extract/tasks.ts';
import { instrument, InstrumentError, type Instrumented } from '../instrument/instrument.ts';
import { NEVER, type FrameReport, type ProbeAnswer, type ProbeHit } from '../instrument/probes.ts';
import { isThenable, type CallOutcome, type CallRecord, type ExternalCall, type SandboxFailure } from '../run/outcome.ts';
import { ResolverChain, type Resolver } from '../run/resolvers.ts';
import { SandboxRun, type History, type RunResult } from '../run/sandboxRun.ts';
import type { StubResolver } from '../resolvers/stub.ts';
import { formatTraceback } from '../run/traceback.ts';
import { pyRepr, tuple } from '../values/python.ts';
import { MAIN_THREAD, type EndInfo, type LaunchInfo, type RuntimeEvents, type StopReason, type StoppedInfo } from './api.ts';
import type { BreakpointStatus, FunctionBreakpointSpec, LineBreakpointSpec } from './breakpoints.ts';
import { DataBreakpoints } from './dataBreakpoints.ts';
import { prepareLaunch, type Forwarder, type RuntimeHooks } from './launchSetup.ts';
import { LineStops } from './lineStops.ts';
import { Checkpoints } from './checkpoints.ts';
import { callPosition, resolveCallSites } from './callSites.ts';
import { replayToEnd } from './plainReplay.ts';
import { type EvalScope } from './pythonEval.ts';
import { framesAt, postMortemFrames, type FramesAtStop, type SandboxFrame } from './sandboxFrames.ts';
import { type StackEntry } from './stackView.ts';
import type { LaunchConfig } from './launchConfig.ts';
import type { Breakpoints } from './breakpoints.ts';

export type { Forwarder, RuntimeHooks } from './launchSetup.ts';
import { breakpointBuiltin, itemThread, type LineStop, type Pending, type State } from './runtimeShared.ts';

export abstract class RuntimeCore extends EventEmitter<RuntimeEvents> {
  protected config!: LaunchConfig;
  protected task!: SandboxTask;
  protected breakpoints!: Breakpoints;
  protected stubResolver!: StubResolver;
  protected downstream!: ResolverChain;
  protected forwarder: Forwarder | undefined;
  protected recorder: CassetteRecorder | undefined;
  protected inputValues: Record<string, unknown> = {};
  protected run: SandboxRun | undefined;
  protected runId = 0;
  protected state: State = 'idle';
  protected failure: SandboxFailure | undefined;
  protected lastResult: RunResult | undefined;
  protected readonly pendings = new Map<number, Pending>();
  protected readonly shownThreads = new Set<number>();
  protected stepping: { threadId: number; mapParent?: number } | undefined;
  protected pauseRequested = false;
  protected stopAt: { seq: number; reason: StopReason } | undefined;
  protected replayItems = new Map<number, CallRecord>();
  protected skipGate: number | undefined;
  protected readonly stopHistory = new Set<number>();

  // ── the program's own state (instrumented runs) ──
  /** The instrumented code the runs use now (its variant follows data breakpoints and set locals). */
  protected code: Instrumented | undefined;
  protected lines: LineStops | undefined;
  protected data: DataBreakpoints | undefined;
  protected lineStop: LineStop | undefined;
  /** The gate the sandbox holds now: statements from this count on call the host. */
  protected sandboxGate = NEVER;
  /** Copies of the run at probes, for replays that start near where they go (checkpoints.ts). */
  protected readonly checkpoints = new Checkpoints();
  /** When the last external call was answered (or the run started): how long the sandbox has run Python code since. */
  protected lastCallAt = 0;
  /** A call the client already saw: when the replay reaches it, answer it (no second stop). */
  protected release: { seq: number; outcome?: CallOutcome } | undefined;
  /** The next stop is a repositioning the client does not see (no `stopped` event). */
  protected silentStop = false;
  protected stopWaiters: (() => void)[] = [];
  /** Frames reported while the last exception unwound (post-mortem locals). */
  protected unwind: FrameReport[] = [];
  protected postMortem: SandboxFrame[] | undefined;
  /** Line breakpoints hit, by statement count (reverse continue goes back to them). */
  protected readonly lineHistory = new Set<number>();
  /** A line or data breakpoint was set while the gate was closed: open it at the next call. */
  protected reopen = false;
  /** What the client was shown at this stop, per thread (frame ids point into it). */
  protected readonly views = new Map<number, StackEntry[]>();
  protected framesCache: FramesAtStop | undefined;
  protected followCalls = false;
  /** The latest statement that called in (it is the current one while the gate stays open). */
  protected lastHit: ProbeHit | undefined;

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
        describe: site => (site ? `line ${site.line}: ${this.task.codeModule.lineText(site.line).trim()}` : 'a statement'),
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
    if (this.config.stopAtCall) this.stopAt = { seq: this.config.stopAtCall, reason: 'breakpoint' };
    if (this.config.stopOnEntry) this.stopAtEntry('entry');
    else this.startRun();
  }

  // ── the run ──────────────────────────────────────────────────────────

  protected stopAtEntry(reason: StopReason): void {
    this.state = 'entry';
    this.emitStop({ reason, threadId: MAIN_THREAD, description: `${this.task.name}(${Object.entries(this.inputValues).map(([k, v]) => `${k}=${pyRepr(v)}`).join(', ')}) · before the first line` });
  }

  protected startRun(history?: History, gateFrom = 0, floor = gateFrom): void {
    const id = ++this.runId;
    this.state = 'running';
    this.failure = undefined;
    this.postMortem = undefined;
    this.unwind = [];
    this.lines?.resetRun();
    const controller: Resolver = { source: 'interactive', resolve: call => this.onCall(call, 'call') };
    const gate: Resolver = { source: 'interactive', resolve: call => this.onCall(call, 'map') };
    const lines = this.lines;
    if (!history) this.checkpoints.clear();
    if (lines) lines.floor = floor;
    if (lines) lines.wanted = lines.gate(gateFrom);
    this.sandboxGate = lines ? ajar(lines.gate(gateFrom), Math.max(gateFrom, 0)) : NEVER;
    const code = this.code;
    const run = new SandboxRun(this.task, {
      inputs: this.inputValues,
      resolvers: [controller],
      mapGate: gate,
      limits: this.config.limits,
      raiseInSandbox: this.config.raiseInSandbox,
      externals: this.config.externals,
      onBreakpointCall: production => this.suspendBreakpointCall(production),
      ...(history ? { history } : {}),
      ...(this.code && lines ? {
        instrumentation: {
          code: this.code,
          gate: this.sandboxGate,
          probe: hit => {
            if (this.unwind.length) this.unwind = [];
            this.lastHit = hit;
            const a = lines.onProbe(hit);
            if (isThenable(a)) return a.then(x => this.gateAnswered(ajarAnswer(lines.answered(x), hit.count)));
            return this.gateAnswered(ajarAnswer(lines.answered(a), hit.count));
          },
          checkpoint: (hit, dump) => this.checkpoints.offer(hit, dump, code!.code, lines.sets),
          report: r => {
            if (this.unwind.length < 10_000) this.unwind.push(r);
          },
        },
      } : {}),
    });
    this.run = run;
    run.on('output', text => this.emit('output', { category: 'stdout', text }));
    run.on('call', r => this.emit('call', r));
    this.lastCallAt = performance.now();
    run.on('result', r => {
      this.lastCallAt = performance.now();
      this.emit('call', r);
      this.recorder?.changed(() => run.calls as CallRecord[]);
      const thread = itemThread(r.seq);
      if (r.mapParent !== undefined && this.shownThreads.delete(thread)) this.emit('thread', { reason: 'exited', threadId: thread });
    });
    this.wake(() => void run.execute().then(result => {
      if (id === this.runId) void this.onRunEnd(result, id);
    }));
  }

  /**
   * Set in a runtime child: a request that sets the run going (configurationDone,
   * continue, a step) is answered before the sandbox runs, which may not yield
   * again for a long time (a loop without an external call).
   */
  deferRuns = false;

  protected wake(go: () => void): void {
    if (this.deferRuns) setImmediate(go);
    else go();
  }

  protected gateAnswered(a: ProbeAnswer): ProbeAnswer {
    if (a) this.sandboxGate = a[0];
    return a;
  }

  protected async onRunEnd(result: RunResult, id: number): Promise<void> {
    if (this.code && result.status === 'error' && result.error && result.error.origin !== 'stopped') {
      const reports = this.unwind;
      result = await this.exactFailure(result);
      if (id !== this.runId) return;
      if (result.error) this.postMortem = postMortemFrames(this.code, result.error.frames, reports);
    }
    this.lastResult = result;
    // A client that follows the calls (the IO panel) gets every call's line before the end.
    if (this.followCalls) await this.placeCalls(result.calls, id);
    if (id !== this.runId) return;
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
  protected async exactFailure(result: RunResult): Promise<RunResult> {
    const plain = await replayToEnd(this.task, result.calls, { inputs: this.inputValues, limits: this.config.limits, raiseInSandbox: this.config.raiseInSandbox, externals: this.config.externals });
    const a = result.error!;
    const b = plain.error;
    if (plain.calls.length === result.calls.length && b && b.type === a.type && b.message === a.message) {
      return { ...result, error: { ...a, frames: b.frames.length ? b.frames : a.frames, ...(b.hint && !a.hint ? { hint: b.hint } : {}) } };
    }
    this.emit('output', { category: 'stderr', text: `warning: the debugger's instrumented run failed with ${a.type}: ${a.message}, but the task's own code ${b ? `fails with ${b.type}: ${b.message}` : 'does not fail'} on the same calls. This is a bug of the debugger; set "instrument": false to debug without it.\n` });
    return result;
  }

  protected finish(result: RunResult): void {
    this.state = 'ended';
    if (result.status === 'ok') this.emit('output', { category: 'console', text: `result: ${pyRepr(result.output)}\n` });
    void this.forwarder?.dispose?.();
    this.wakeStopWaiters();
    this.emit('ended', { status: result.status, ...(result.status === 'ok' ? { output: result.output } : {}), ...(result.error ? { error: result.error } : {}) } satisfies EndInfo);
  }

  // ── stops ────────────────────────────────────────────────────────────

  /** Every stop goes through here: the client hears of it unless it is a silent repositioning. */
  protected emitStop(stop: StoppedInfo): void {
    this.views.clear();
    this.framesCache = undefined;
    this.wakeStopWaiters();
    if (this.silentStop) {
      this.silentStop = false;
      return;
    }
    this.emit('stopped', stop);
  }

  protected wakeStopWaiters(): void {
    const waiters = this.stopWaiters;
    this.stopWaiters = [];
    for (const w of waiters) w();
  }

  /** Resolves at the next stop (or the end of the run). */
  protected nextStop(): Promise<void> {
    return new Promise(resolve => this.stopWaiters.push(resolve));
  }

  protected suspendLine(stop: StoppedInfo, hit: ProbeHit | undefined): Promise<ProbeAnswer> {
    return new Promise(resolve => {
      this.lineStop = {
        stop, ...(hit ? { hit } : {}),
        settle: answer => {
          this.lineStop = undefined;
          const a = this.gateAnswered(answer);
          this.wake(() => resolve(a));
        },
      };
      if (hit && (stop.reason === 'breakpoint' || stop.reason === 'data breakpoint')) this.lineHistory.add(hit.count);
      this.emitStop(stop);
    });
  }

  /** `breakpoint()` in the task: a stop in a debug session, a refused call in production. */
  protected suspendBreakpointCall(production: string): Promise<void> {
    if (this.release?.seq === -1) {
      this.release = undefined;
      return Promise.resolve();
    }
    const text = breakpointBuiltin(production);
    this.emit('output', { category: 'console', text: `${text}.\n` });
    return this.suspendLine({ reason: 'breakpoint', threadId: MAIN_THREAD, description: 'breakpoint() · production refuses this call', text }, undefined).then(() => undefined);
  }

  // ── the controller: pause or pass, call by call ──────────────────────
  protected scope(call?: { args: unknown[]; kwargs: Record<string, unknown> }, frame?: { locals?: ReadonlyMap<string, unknown>; types?: ReadonlyMap<string, string> }): EvalScope {
    return { args: call?.args ?? [], kwargs: call?.kwargs ?? {}, inputs: this.inputValues, history: () => this.historyValue(), ...(frame?.locals ? { locals: frame.locals, localTypes: frame.types ?? new Map() } : {}) };
  }

  /** Conditions and logpoints at a statement see the innermost frame's locals. */
  protected scopeAtLine(): EvalScope {
    const snap = this.run?.pausedSnapshot;
    const at = snap && this.code ? framesAt(this.task, this.code, snap) : undefined;
    return this.scope(undefined, at?.frames[0]);
  }

  protected historyValue(): unknown[] {
    return (this.run?.calls ?? []).filter(r => r.status === 'returned' || r.status === 'raised').map(r => new Map<string, unknown>([
      ['seq', r.seq], ['function', r.function], ['args', tuple([...r.args])], ['kwargs', new Map(Object.entries(r.kwargs))],
      ['result', r.status === 'returned' ? r.result : null],
      ['error', r.error ? `${r.error.type}: ${r.error.message}` : null], ['source', r.source ?? null],
    ]));
  }

  /** The sandbox frames where the run is paused now (instrumented runs only), cached until it moves. */
  protected currentFrames(): FramesAtStop | undefined {
    if (!this.code) return undefined;
    if (this.framesCache) return this.framesCache;
    const snap = this.run?.pausedSnapshot;
    if (!snap || this.state !== 'running') return undefined;
    this.framesCache = framesAt(this.task, this.code, snap);
    return this.framesCache;
  }

  /** Where each call without a site was made: a silent replay with every probe open (runs of up to 200,000 calls). */
  private async placeCalls(records: readonly CallRecord[], id: number): Promise<void> {
    const code = this.code;
    if (!code || records.length > 200_000 || !records.some(r => r.site === undefined)) return;
    const placed = await resolveCallSites(this.task, code, records, { inputs: this.inputValues, externals: this.config.externals, raiseInSandbox: this.config.raiseInSandbox }).catch(() => []);
    if (id === this.runId && placed.length) this.emit('sites', placed.map(r => [r.seq, r.site!.line, r.site!.column]));
  }

  /** Place every call before the run ends (a client shows each call's line). */
  async follow(on: boolean): Promise<void> {
    this.followCalls = on;
  }

  /** The call a statement makes, placed exactly when the gate is open (its probe called in just before). */
  protected placeCall(call: ExternalCall): void {
    const hit = this.lastHit;
    const r = this.run?.calls[call.seq - 1];
    if (!r || r.site || !hit || !this.code || this.sandboxGate > hit.count + 1) return;
    const site = this.code.sites[hit.site - 1];
    if (!site) return;
    if (call.mapIndex !== undefined) {
      r.site = (call.mapParent !== undefined ? this.run?.calls[call.mapParent - 1]?.site : undefined) ?? callPosition(this.task, site, 'flyte_map', 0);
      return;
    }
    // which of the statement's calls to this name: those made since its probe called in
    let nth = 0;
    const calls = this.run!.calls;
    for (let i = hit.callsBefore; i < call.seq - 1; i++) if (calls[i]?.function === call.function && calls[i]?.mapParent === undefined) nth++;
    r.site = callPosition(this.task, site, call.function, nth);
  }

  protected abstract onCall(call: ExternalCall, kind: 'call' | 'map'): CallOutcome | undefined | Promise<CallOutcome | undefined>;
  protected abstract gateMayBeNeeded(): void;
  protected abstract leaveStop(): boolean;
}

/**
 * The gate is never shut for long: the sandbox calls the host at least every
 * this many statements, so a loop without external calls still takes a pause
 * (the run yields to requests there) and leaves checkpoints behind.
 */
const AJAR = 4096;

function ajar(gate: number, count: number): number {
  return Math.min(gate, count + AJAR);
}

function ajarAnswer(a: ProbeAnswer, count: number): ProbeAnswer {
  // null leaves the sandbox's gate where it is (open: the next statement calls in again)
  if (!a) return a;
  return a[0] <= count + AJAR ? a : [count + AJAR, a[1], ...(a[2] ? [a[2]] : [])] as ProbeAnswer;
}
