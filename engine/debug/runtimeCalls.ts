/**
 * The controller, call by call and statement by statement: whether a call
 * pauses for the client or goes down the resolver chain, and how the client
 * resumes (continue, the steps, pause, answering a call, ending the run).
 */
import { CassetteMismatch } from '../resolvers/cassette.ts';
import { NEVER } from '../instrument/probes.ts';
import { isThenable, type CallOutcome, type ExternalCall } from '../run/outcome.ts';
import { ResolverChain } from '../run/resolvers.ts';
import { compileStubExpression, parseExceptionSpec } from '../resolvers/stub.ts';
import { isExceptionValue, pyRepr, type MontyExceptionValue } from '../values/python.ts';
import { MAIN_THREAD, type CallAction, type StopReason, type StoppedInfo } from './api.ts';
import { type StepKind, type StepRequest } from './lineStops.ts';
import { evaluate, EvalError, type EvalScope } from './pythonEval.ts';
import { framesAt } from './sandboxFrames.ts';

export type { Forwarder, RuntimeHooks } from './launchSetup.ts';
import { describe, itemThread, type Pending, type Position } from './runtimeShared.ts';
import { callPosition } from './callSites.ts';
import { RuntimeCore } from './runtimeCore.ts';

export abstract class RuntimeCalls extends RuntimeCore {
  /** Replay to a position (time travel, `runtimeTravel.ts`). */
  protected abstract restartAt(to: Position, opts: { reason: StopReason; silent?: boolean; gateFrom?: number; release?: { outcome?: CallOutcome }; releaseBreakpoint?: boolean; keepStep?: StepRequest; stop?: StoppedInfo }): void;
  // ── the controller: pause or pass, call by call ──────────────────────

  protected onCall(call: ExternalCall, kind: 'call' | 'map'): CallOutcome | undefined | Promise<CallOutcome | undefined> {
    if (this.unwind.length) this.unwind = [];
    if (this.lastHit) this.placeCall(call);
    const replayed = this.replayItems.get(call.seq);
    if (replayed && replayed.function === call.function) {
      const ref = replayed.ref ? { ref: replayed.ref } : {};
      if (replayed.status === 'returned') return { kind: 'return', value: replayed.result, source: replayed.source ?? 'interactive', ...ref };
      if (replayed.status === 'raised' && replayed.error) return { kind: 'raise', ...replayed.error, source: replayed.source ?? 'interactive', ...ref };
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

  protected stopDecision(call: ExternalCall, kind: 'call' | 'map'): StoppedInfo | undefined {
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
  protected viaChain(call: ExternalCall): CallOutcome | Promise<CallOutcome | undefined> {
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

  protected suspend(call: ExternalCall, kind: 'call' | 'map', stop: StoppedInfo, extra: Pick<Pending, 'raised' | 'needsResult'> = {}): Promise<CallOutcome | undefined> {
    return new Promise(resolve => {
      const threadId = stop.threadId;
      const pending: Pending = {
        threadId, call, kind, stop, ...extra,
        settle: o => {
          if (this.pendings.get(threadId) === pending) this.pendings.delete(threadId);
          this.wake(() => resolve(o));
        },
      };
      this.pendings.set(threadId, pending);
      if (['breakpoint', 'function breakpoint', 'external call'].includes(stop.reason)) this.stopHistory.add(call.seq);
      if (threadId !== MAIN_THREAD && !this.shownThreads.has(threadId)) {
        this.shownThreads.add(threadId);
        this.emit('thread', { reason: 'started', threadId });
      }
      this.emitStop(stop);
      // the client is looking at this call now: say where it was made (the frames are read once, for the stack too)
      const r = this.run?.calls[call.seq - 1];
      const site = r && !r.site ? this.currentFrames()?.frames[0]?.site : undefined;
      const at = site && callPosition(this.task, site, call.mapIndex !== undefined ? 'flyte_map' : call.function);
      if (r && at) {
        r.site = at;
        this.emit('sites', [[r.seq, at.line, at.column]]);
      }
    });
  }

  /** A line or data breakpoint appeared while the gate was closed: replay to this call with the gate open from here. */
  protected reopenGateAt(call: ExternalCall, kind: 'call' | 'map'): Promise<CallOutcome | undefined> {
    const snap = this.run?.pausedSnapshot;
    const count = snap && this.code ? framesAt(this.task, this.code, snap).count : 0;
    this.silentStop = true;
    this.restartAt({ kind: 'call', seq: call.seq }, { reason: 'goto', silent: true, gateFrom: count + 1, release: {} });
    void kind;
    // This run is abandoned: its call is never answered.
    return new Promise(() => undefined);
  }

  protected gateMayBeNeeded(): void {
    if (!this.lines || this.state !== 'running') return;
    if (this.sandboxGate !== NEVER || !this.lines.needsProbes) return;
    if (this.lineStop) return;
    this.reopen = true;
  }

  // ── execution control ────────────────────────────────────────────────

  /** At the entry, continuing starts the run; at an uncaught exception, it ends it. True when handled so. */
  protected leaveStop(): boolean {
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

  protected resumeLine(): void {
    const ls = this.lineStop!;
    this.emit('continued', { threadId: MAIN_THREAD, allThreadsContinued: false });
    ls.settle(ls.hit ? [this.lines!.gate(ls.hit.count + 1), null] : null);
  }

  protected releasePending(p: Pending): void {
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

  protected async stepBy(threadId: number, kind: StepKind): Promise<void> {
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
    const inPython = this.state === 'running' && this.pendings.size === 0 && !this.lineStop;
    if (inPython && !this.lines) this.emit('output', { category: 'console', text: 'pausing at the next external call (a sandbox running Python code between calls cannot be interrupted: this session is not instrumented)\n' });
    const seconds = Math.round((performance.now() - this.lastCallAt) / 1000);
    if (inPython && this.lines && seconds >= 1) this.lines.pauseNote = `paused in Python code: the sandbox had been running for ${seconds} s without an external call`;
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

  protected async outcomeOf(p: Pending, action: CallAction): Promise<CallOutcome> {
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

  protected eval(expression: string, scope: EvalScope): unknown {
    try {
      return evaluate(expression, scope);
    } catch (e) {
      if (e instanceof EvalError) throw new Error(e.message);
      throw e;
    }
  }

  protected remember(fn: string, action: CallAction): void {
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
    const disposed = this.forwarder?.dispose?.();
    if (this.state !== 'ended') {
      this.state = 'ended';
      this.wakeStopWaiters();
      this.emit('ended', { status: 'error', error: { type: 'RunStopped', message: 'the run was stopped', origin: 'stopped', frames: [] } });
    }
    // the Python workers finish up first (a remote run in flight is aborted on the cluster)
    await disposed;
  }

}
