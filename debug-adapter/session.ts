/**
 * The DAP session: translates requests into RuntimeApi calls and runtime
 * events into DAP events. It holds no loop and no engine state of its own,
 * beyond the variable handles of the current stop and a mirror of the call
 * history for the "Call history" scope.
 */
import { basename } from 'node:path';
import { Breakpoint, ContinuedEvent, DebugSession, Event, ExitedEvent, InitializedEvent, OutputEvent, Scope, Source, StackFrame, StoppedEvent, TerminatedEvent, Thread, ThreadEvent } from '@vscode/debugadapter';
import type { DebugProtocol } from '@vscode/debugprotocol';
import type { CallAction, RuntimeApi, StoppedInfo } from '../engine/debug/api.ts';
import { MAIN_THREAD } from '../engine/debug/api.ts';
import { LaunchError } from '../engine/debug/launchError.ts';
import type { CallRecord } from '../engine/run/outcome.ts';
import { pyRepr } from '../engine/values/python.ts';
import { toWire } from '../engine/values/wire.ts';
import { CallsBySeq } from '../engine/host/callsBySeq.ts';
import { callSummary, type CallSummary } from './callSummary.ts';
import { refusal, RequestGuard } from './requestGuard.ts';
import { launchedInputs } from './launchedInputs.ts';
import { truncate, VariableStore } from './values.ts';

export const EXCEPTION_FILTERS: DebugProtocol.ExceptionBreakpointsFilter[] = [
  { filter: 'uncaught', label: 'Uncaught Exceptions', description: 'Stop when the sandboxed task fails', default: true, supportsCondition: true, conditionDescription: 'Only these exception types, e.g. "ValueError, KeyError"' },
  { filter: 'raised', label: 'Raised Exceptions', description: 'Stop when an external call raises (Flyte then ends the run with it)', default: false, supportsCondition: true, conditionDescription: 'Only these exception types, e.g. "ValueError, KeyError"' },
];

const CALLS_FLUSH_MS = 100;
/**
 * At most this many calls per `flyteSandbox/calls` event (~70 KB): a client
 * that appends each chunk it reads to the bytes it holds until a message is
 * whole (VS Code's own stream adapter does) copies a message O(size^2).
 */
const CALLS_PER_EVENT = 512;

export class FlyteSandboxSession extends DebugSession {
  private readonly vars = new VariableStore();
  /** variablesReference of each Locals scope at this stop → the frame it belongs to (for setVariable, data breakpoints). */
  private readonly localsScopes = new Map<number, number>();
  private readonly history = new CallsBySeq();
  private launchResponse: DebugProtocol.LaunchResponse | undefined;
  private program = '';
  private pendingSummaries = new Map<number, CallRecord>();
  /** Send exact values with each call (the IO panel asks for them, to show and export them). */
  private followValues = false;
  private flushTimer: NodeJS.Timeout | undefined;
  /** Every request answered, in any order and with any arguments (see requestGuard.ts). */
  private readonly guard = new RequestGuard(this);

  constructor(private readonly runtime: RuntimeApi) {
    super();
    this.guard.install();
    this.setDebuggerLinesStartAt1(true);
    this.setDebuggerColumnsStartAt1(true);
    runtime.on('stopped', s => this.onStopped(s));
    runtime.on('continued', c => {
      this.clearVars();
      this.sendEvent(new ContinuedEvent(c.threadId, c.allThreadsContinued));
    });
    runtime.on('thread', t => this.sendEvent(new ThreadEvent(t.reason, t.threadId)));
    runtime.on('output', o => this.sendEvent(new OutputEvent(o.text, o.category)));
    runtime.on('call', r => {
      this.history.set(r);
      this.pendingSummaries.set(r.seq, r);
      this.flushTimer ??= setTimeout(() => this.flushCalls(), CALLS_FLUSH_MS);
    });
    runtime.on('sites', sites => {
      for (const [seq, line, column] of sites) {
        const r = this.history.get(seq);
        if (r) r.site = { file: this.program, line, column };
      }
      this.flushCalls();
      this.sendEvent(new Event('flyteSandbox/callSites', { sites }));
    });
    runtime.on('rewound', ({ seq }) => {
      this.history.dropFrom(seq);
      this.flushCalls();
      this.sendEvent(new Event('flyteSandbox/rewound', { seq }));
    });
    runtime.on('ended', end => {
      this.flushCalls();
      this.sendEvent(new Event('flyteSandbox/result', {
        status: end.status,
        ...(end.status === 'ok' ? { output: pyRepr(end.output), ...(this.followValues ? { outputValue: toWire(end.output) } : {}) } : {}),
        ...(end.error ? { error: { type: end.error.type, message: end.error.message, origin: end.error.origin, frames: end.error.frames, hint: end.error.hint } } : {}),
      }));
      this.sendEvent(new ExitedEvent(end.status === 'ok' ? 0 : 1));
      this.sendEvent(new TerminatedEvent());
    });
  }

  protected override dispatchRequest(request: DebugProtocol.Request): void {
    if (this.guard.admit(request, refusal(this))) super.dispatchRequest(request);
  }

  /** Calls go to the client in batches (the IO panel follows them live without a message per call). */
  private flushCalls(): void {
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    if (!this.pendingSummaries.size) return;
    let calls: CallSummary[] = [];
    for (const r of this.pendingSummaries.values()) {
      calls.push(callSummary(r, this.followValues));
      if (calls.length === CALLS_PER_EVENT) {
        this.sendEvent(new Event('flyteSandbox/calls', { calls }));
        calls = [];
      }
    }
    this.pendingSummaries.clear();
    if (calls.length) this.sendEvent(new Event('flyteSandbox/calls', { calls }));
  }

  private onStopped(s: StoppedInfo): void {
    this.flushCalls();
    this.clearVars();
    const e = new StoppedEvent(s.reason, s.threadId, s.text) as DebugProtocol.StoppedEvent;
    e.body.description = s.description;
    e.body.allThreadsStopped = false;
    if (s.hitBreakpointIds) e.body.hitBreakpointIds = s.hitBreakpointIds;
    this.sendEvent(e);
  }

  private clearVars(): void {
    this.vars.clear();
    this.localsScopes.clear();
  }

  /** An error response the client shows as is (the adapter's formatter leaves {braces} alone). */
  private fail(response: DebugProtocol.Response, e: unknown): void {
    const message = e instanceof Error ? e.message : String(e);
    this.sendErrorResponse(response, { id: e instanceof LaunchError ? 1001 : 1000, format: message, showUser: true });
  }

  private async handle(response: DebugProtocol.Response, work: () => Promise<void>): Promise<void> {
    try {
      await work();
      this.sendResponse(response);
    } catch (e) {
      this.fail(response, e);
    }
  }

  protected override initializeRequest(response: DebugProtocol.InitializeResponse): void {
    this.runtime.prepare?.();
    response.body = {
      supportsConfigurationDoneRequest: true,
      supportsFunctionBreakpoints: true,
      supportsConditionalBreakpoints: true,
      supportsHitConditionalBreakpoints: true,
      supportsLogPoints: true,
      supportsEvaluateForHovers: true,
      supportsStepBack: true,
      supportsRestartFrame: true,
      supportsExceptionInfoRequest: true,
      supportsExceptionFilterOptions: true,
      exceptionBreakpointFilters: EXCEPTION_FILTERS,
      supportsTerminateRequest: true,
      supportsSingleThreadExecutionRequests: true,
      supportsSetVariable: true,
      supportsDataBreakpoints: true,
    };
    this.sendResponse(response);
  }

  protected override async launchRequest(response: DebugProtocol.LaunchResponse, args: DebugProtocol.LaunchRequestArguments): Promise<void> {
    try {
      const info = await this.runtime.launch(args as Record<string, unknown>);
      this.program = info.file;
      this.launchResponse = response;
      this.sendEvent(new Event('flyteSandbox/launched', { ...info, ...await launchedInputs(this.runtime) }));
      this.sendEvent(new InitializedEvent());
    } catch (e) {
      this.fail(response, e);
    }
  }

  protected override async configurationDoneRequest(response: DebugProtocol.ConfigurationDoneResponse): Promise<void> {
    this.sendResponse(response);
    if (this.launchResponse) {
      this.sendResponse(this.launchResponse);
      this.launchResponse = undefined;
    }
    await this.runtime.configurationDone();
  }

  protected override async setBreakPointsRequest(response: DebugProtocol.SetBreakpointsResponse, args: DebugProtocol.SetBreakpointsArguments): Promise<void> {
    await this.handle(response, async () => {
      const specs = (args.breakpoints ?? []).map(b => ({ line: b.line, ...(b.condition ? { condition: b.condition } : {}), ...(b.hitCondition ? { hitCondition: b.hitCondition } : {}), ...(b.logMessage !== undefined ? { logMessage: b.logMessage } : {}) }));
      const statuses = await this.runtime.setLineBreakpoints(args.source.path ?? '', specs);
      response.body = { breakpoints: statuses.map(s => this.breakpoint(s, args.source)) };
    });
  }

  protected override async setFunctionBreakPointsRequest(response: DebugProtocol.SetFunctionBreakpointsResponse, args: DebugProtocol.SetFunctionBreakpointsArguments): Promise<void> {
    await this.handle(response, async () => {
      const specs = args.breakpoints.map(b => ({ name: b.name, ...(b.condition ? { condition: b.condition } : {}), ...(b.hitCondition ? { hitCondition: b.hitCondition } : {}), ...((b as { logMessage?: string }).logMessage !== undefined ? { logMessage: (b as { logMessage?: string }).logMessage } : {}) }));
      const statuses = await this.runtime.setFunctionBreakpoints(specs);
      response.body = { breakpoints: statuses.map(s => this.breakpoint(s)) };
    });
  }

  private breakpoint(s: { id: number; verified: boolean; message?: string; line?: number }, source?: DebugProtocol.Source): DebugProtocol.Breakpoint {
    const bp = new Breakpoint(s.verified, s.line) as DebugProtocol.Breakpoint;
    bp.id = s.id;
    if (s.message) bp.message = s.message;
    if (source) bp.source = source;
    if (!s.verified) bp.reason = 'failed';
    return bp;
  }

  protected override async setExceptionBreakPointsRequest(response: DebugProtocol.SetExceptionBreakpointsResponse, args: DebugProtocol.SetExceptionBreakpointsArguments): Promise<void> {
    await this.handle(response, async () => {
      const filters = [...args.filters.map(f => ({ filterId: f })), ...(args.filterOptions ?? []).map(f => ({ filterId: f.filterId, ...(f.condition ? { condition: f.condition } : {}) }))];
      const problems = await this.runtime.setExceptionFilters(filters);
      response.body = { breakpoints: filters.map(f => ({ verified: !problems.some(p => p.includes(`'${f.filterId}'`)) })) };
    });
  }

  protected override async threadsRequest(response: DebugProtocol.ThreadsResponse): Promise<void> {
    await this.handle(response, async () => {
      response.body = { threads: (await this.runtime.threads()).map(t => new Thread(t.id, t.name)) };
    });
  }

  protected override async stackTraceRequest(response: DebugProtocol.StackTraceResponse, args: DebugProtocol.StackTraceArguments): Promise<void> {
    await this.handle(response, async () => {
      const frames = await this.runtime.stack(args.threadId);
      const start = args.startFrame ?? 0;
      const slice = frames.slice(start, args.levels ? start + args.levels : undefined);
      response.body = {
        stackFrames: slice.map(f => {
          const frame = new StackFrame(f.id, f.name, f.file ? new Source(basename(f.file), f.file) : undefined, f.line, f.column) as DebugProtocol.StackFrame;
          if (f.label) frame.presentationHint = 'label';
          return frame;
        }),
        totalFrames: frames.length,
      };
    });
  }

  protected override async scopesRequest(response: DebugProtocol.ScopesResponse, args: DebugProtocol.ScopesArguments): Promise<void> {
    await this.handle(response, async () => {
      const threadId = Math.floor(args.frameId / 1000) || MAIN_THREAD;
      const scopes: DebugProtocol.Scope[] = [];
      const locals = await this.runtime.frameLocals(args.frameId);
      if (locals) {
        const entries = [...locals.locals.entries()];
        const ref = this.vars.add(() => [
          ...(locals.unavailable ? [{ name: '⚠ locals', value: locals.unavailable, variablesReference: 0 }] : []),
          ...entries.map(([k, v]) => this.vars.typedVariable(k, v, locals.types.get(k), k)),
        ]);
        this.localsScopes.set(ref, args.frameId);
        const scope = new Scope('Locals', ref, false) as DebugProtocol.Scope;
        scope.presentationHint = 'locals';
        scope.namedVariables = entries.length;
        scopes.push(scope);
      }
      const pending = await this.runtime.pending(threadId);
      if (pending) {
        const ref = this.vars.add(() => [
          { name: 'function', value: pending.function, type: 'str', variablesReference: 0 },
          { name: 'call', value: `#${pending.seq}${pending.mapIndex !== undefined ? `, flyte_map item ${pending.mapIndex + 1}/${pending.mapSize}` : ''}${pending.kind === 'map' ? ', flyte_map (before its items)' : ''}`, variablesReference: 0 },
          ...pending.args.map((a, i) => this.vars.variable(`args[${i}]`, a, `args[${i}]`)),
          ...Object.entries(pending.kwargs).map(([k, v]) => this.vars.variable(k, v, `kwargs[${JSON.stringify(k)}]`)),
          ...(pending.raised ? [{ name: 'raised', value: `${pending.raised.type}: ${pending.raised.message}`, variablesReference: 0 }] : []),
          ...(pending.needsResult ? [{ name: 'needs a result', value: 'no stub, cassette or forward answers this call: !return, !raise or !forward', variablesReference: 0 }] : []),
        ]);
        scopes.push(new Scope('Pending call', ref, false));
      }
      const inputs = await this.runtime.inputs();
      scopes.push(new Scope('Inputs', this.vars.add(() => Object.entries(inputs).map(([k, v]) => this.vars.variable(k, v, `inputs[${JSON.stringify(k)}]`))), false));
      const done = this.history.values().filter(r => r.status !== 'pending');
      const historyScope = new Scope('Call history', this.vars.add((start = 0, count = done.length) => done.slice(start, start + count).map(r => this.historyVariable(r))), false) as DebugProtocol.Scope;
      historyScope.indexedVariables = done.length;
      scopes.push(historyScope);
      const stdout = await this.runtime.stdout();
      const lines = stdout.split('\n');
      if (lines.at(-1) === '') lines.pop();
      const outputScope = new Scope('Output', this.vars.add((start = 0, count = lines.length) => lines.slice(start, start + count).map((l, i) => ({ name: String(start + i + 1), value: l, variablesReference: 0 }))), false) as DebugProtocol.Scope;
      outputScope.indexedVariables = lines.length;
      scopes.push(outputScope);
      response.body = { scopes };
    });
  }

  private historyVariable(r: CallRecord): DebugProtocol.Variable {
    const outcome = r.status === 'returned' ? `-> ${truncate(pyRepr(r.result), 120)}` : r.status === 'raised' ? `raised ${r.error!.type}: ${r.error!.message}` : r.status;
    const ref = this.vars.add(() => [
      ...r.args.map((a, i) => this.vars.variable(`args[${i}]`, a)),
      ...Object.entries(r.kwargs).map(([k, v]) => this.vars.variable(k, v)),
      ...(r.status === 'returned' ? [this.vars.variable('result', r.result)] : []),
      ...(r.error ? [{ name: 'error', value: `${r.error.type}: ${r.error.message}`, variablesReference: 0 }, ...(r.error.traceback ? [{ name: 'traceback', value: r.error.traceback, variablesReference: 0 }] : [])] : []),
      { name: 'source', value: r.source ?? '-', variablesReference: 0 },
      ...(r.ref ? [{ name: r.ref.kind === 'production' ? 'production action' : 'remote run', value: `${r.ref.name}${r.ref.url ? ` ${r.ref.url}` : ''}`, variablesReference: 0 }] : []),
      { name: 'duration', value: r.durationMs !== undefined ? `${r.durationMs.toFixed(3)} ms` : '-', variablesReference: 0 },
      ...(r.mapParent !== undefined ? [{ name: 'flyte_map', value: `item ${r.mapIndex} of call #${r.mapParent}`, variablesReference: 0 }] : []),
    ]);
    const name = `#${r.seq} ${truncate(`${r.function}(${[...r.args.map(a => pyRepr(a)), ...Object.entries(r.kwargs).map(([k, v]) => `${k}=${pyRepr(v)}`)].join(', ')})`, 80)}`;
    return { name, value: `${outcome}  [${r.source ?? '-'}]`, variablesReference: ref };
  }

  protected override async variablesRequest(response: DebugProtocol.VariablesResponse, args: DebugProtocol.VariablesArguments): Promise<void> {
    await this.handle(response, async () => {
      const children = this.vars.get(args.variablesReference);
      response.body = { variables: children ? children(args.start, args.count) : [] };
    });
  }

  protected override async evaluateRequest(response: DebugProtocol.EvaluateResponse, args: DebugProtocol.EvaluateArguments): Promise<void> {
    await this.handle(response, async () => {
      const threadId = args.frameId !== undefined ? Math.floor(args.frameId / 1000) || MAIN_THREAD : undefined;
      const r = await this.runtime.evaluate(args.expression, threadId, args.frameId);
      const d = r.value !== undefined ? this.vars.typedVariable('', r.value, r.pyType) : { value: r.result, variablesReference: 0 };
      response.body = { result: r.value !== undefined ? d.value : r.result, variablesReference: d.variablesReference, ...('type' in d && d.type ? { type: d.type } : {}) };
    });
  }

  protected override async continueRequest(response: DebugProtocol.ContinueResponse, args: DebugProtocol.ContinueArguments): Promise<void> {
    this.clearVars();
    response.body = { allThreadsContinued: !args.singleThread && args.threadId === MAIN_THREAD };
    await this.handle(response, () => this.runtime.continue(args.threadId, args.singleThread ?? false));
  }

  protected override async nextRequest(response: DebugProtocol.NextResponse, args: DebugProtocol.NextArguments): Promise<void> {
    this.clearVars();
    await this.handle(response, () => this.runtime.next(args.threadId));
  }

  protected override async stepInRequest(response: DebugProtocol.StepInResponse, args: DebugProtocol.StepInArguments): Promise<void> {
    this.clearVars();
    await this.handle(response, () => this.runtime.stepIn(args.threadId));
  }

  protected override async stepOutRequest(response: DebugProtocol.StepOutResponse, args: DebugProtocol.StepOutArguments): Promise<void> {
    this.clearVars();
    await this.handle(response, () => this.runtime.stepOut(args.threadId));
  }

  protected override async setVariableRequest(response: DebugProtocol.SetVariableResponse, args: DebugProtocol.SetVariableArguments): Promise<void> {
    await this.handle(response, async () => {
      const frameId = this.localsScopes.get(args.variablesReference);
      if (frameId === undefined) throw new Error(`only a frame's locals can be set (${args.name} is not in a Locals scope)`);
      const r = await this.runtime.setLocal(frameId, args.name, args.value);
      const d = this.vars.typedVariable(args.name, r.value, r.pyType);
      response.body = { value: d.value, ...(d.type ? { type: d.type } : {}), variablesReference: d.variablesReference };
    });
  }

  protected override async dataBreakpointInfoRequest(response: DebugProtocol.DataBreakpointInfoResponse, args: DebugProtocol.DataBreakpointInfoArguments): Promise<void> {
    await this.handle(response, async () => {
      const frameId = args.variablesReference !== undefined ? this.localsScopes.get(args.variablesReference) : args.frameId;
      if (frameId === undefined) {
        response.body = { dataId: null, description: `${args.name}: data breakpoints are on a frame's locals only` };
        return;
      }
      const info = await this.runtime.dataBreakpointInfo(frameId, args.name);
      response.body = { dataId: info.dataId, description: info.description, ...(info.accessTypes ? { accessTypes: info.accessTypes } : {}), canPersist: false };
    });
  }

  protected override async setDataBreakpointsRequest(response: DebugProtocol.SetDataBreakpointsResponse, args: DebugProtocol.SetDataBreakpointsArguments): Promise<void> {
    await this.handle(response, async () => {
      const statuses = await this.runtime.setDataBreakpoints(args.breakpoints.map(b => ({ dataId: b.dataId, ...(b.condition ? { condition: b.condition } : {}), ...(b.hitCondition ? { hitCondition: b.hitCondition } : {}) })));
      response.body = { breakpoints: statuses.map(s => ({ id: s.id, verified: s.verified, ...(s.message ? { message: s.message } : {}) })) };
    });
  }

  protected override async stepBackRequest(response: DebugProtocol.StepBackResponse, args: DebugProtocol.StepBackArguments): Promise<void> {
    this.clearVars();
    await this.handle(response, () => this.runtime.stepBack(args.threadId));
  }

  protected override async reverseContinueRequest(response: DebugProtocol.ReverseContinueResponse, args: DebugProtocol.ReverseContinueArguments): Promise<void> {
    this.clearVars();
    await this.handle(response, () => this.runtime.reverseContinue(args.threadId));
  }

  protected override async restartFrameRequest(response: DebugProtocol.RestartFrameResponse, args: DebugProtocol.RestartFrameArguments): Promise<void> {
    this.clearVars();
    await this.handle(response, () => this.runtime.restartFrame(Math.floor(args.frameId / 1000) || MAIN_THREAD, args.frameId));
  }

  protected override async pauseRequest(response: DebugProtocol.PauseResponse): Promise<void> {
    await this.handle(response, () => this.runtime.pause());
  }

  protected override async exceptionInfoRequest(response: DebugProtocol.ExceptionInfoResponse, args: DebugProtocol.ExceptionInfoArguments): Promise<void> {
    await this.handle(response, async () => {
      const info = await this.runtime.exceptionInfo(args.threadId);
      if (!info) throw new Error('this thread is not stopped on an exception');
      response.body = { exceptionId: info.type, description: info.message, breakMode: info.breakMode, details: { message: info.message, typeName: info.type, stackTrace: info.stackTrace } };
    });
  }

  protected override async terminateRequest(response: DebugProtocol.TerminateResponse): Promise<void> {
    await this.handle(response, () => this.runtime.terminate());
  }

  protected override async disconnectRequest(response: DebugProtocol.DisconnectResponse): Promise<void> {
    await this.handle(response, () => this.runtime.terminate());
  }

  protected override async customRequest(command: string, response: DebugProtocol.Response, args: unknown): Promise<void> {
    const a = (args ?? {}) as Record<string, unknown>;
    switch (command) {
      case 'flyteSandbox/resolveCall':
        await this.handle(response, async () => {
          const threadId = typeof a.threadId === 'number' ? a.threadId : MAIN_THREAD;
          await this.runtime.resolveCall(threadId, a as unknown as CallAction);
        });
        return;
      case 'flyteSandbox/pendingCall':
        await this.handle(response, async () => {
          const p = await this.runtime.pending(typeof a.threadId === 'number' ? a.threadId : MAIN_THREAD);
          response.body = p ? { seq: p.seq, function: p.function, kind: p.kind, threadId: p.threadId, args: p.args.map(x => pyRepr(x)), kwargs: Object.fromEntries(Object.entries(p.kwargs).map(([k, v]) => [k, pyRepr(v)])), suggestion: p.suggestion ?? null, raised: p.raised ?? null, needsResult: p.needsResult ?? false } : null;
        });
        return;
      case 'flyteSandbox/stubs':
        await this.handle(response, async () => {
          response.body = { stubs: await this.runtime.stubs() };
        });
        return;
      case 'flyteSandbox/setStub':
        await this.handle(response, async () => {
          if (typeof a.name !== 'string') throw new Error('flyteSandbox/setStub needs {"name": <function>, "expression"?: <python>}');
          await this.runtime.setStub(a.name, typeof a.expression === 'string' ? a.expression : undefined);
        });
        return;
      case 'flyteSandbox/follow':
        // A client that starts following mid-run gets every call again, now with its values.
        this.followValues = a.values === true;
        if (this.followValues) for (const r of this.history.values()) this.pendingSummaries.set(r.seq, r);
        await this.runtime.follow(this.followValues).catch(() => undefined);
        this.sendResponse(response);
        this.flushCalls();
        return;
      case 'flyteSandbox/rewindTo':
        await this.handle(response, async () => {
          if (typeof a.seq !== 'number') throw new Error('flyteSandbox/rewindTo needs {"seq": <call number>}');
          await this.runtime.rewindTo(a.seq);
        });
        return;
      default:
        this.fail(response, new Error(`unknown request '${command}'`));
    }
  }

  /** The program being debugged (for clients that need it, e.g. the IO panel). */
  get programPath(): string {
    return this.program;
  }
}
