/**
 * A debug run of one sandboxed task, as a client sees it (`RuntimeApi`):
 * threads, the stack, each frame's locals, evaluation, and the changes a
 * user may make beyond production (setting a local, data breakpoints). The
 * layers below: `runtimeCore.ts` (launch, the run, stops), `runtimeCalls.ts`
 * (the controller), `runtimeTravel.ts` (time travel). Like vscode-mock-debug's
 * runtime, it knows nothing of DAP: the adapter translates.
 */
import { instrument } from '../instrument/instrument.ts';
import { type CallRecord } from '../run/outcome.ts';
import type { ProbeResult } from '../run/probe.ts';
import { compileStubExpression } from '../resolvers/stub.ts';
import { formatTraceback } from '../run/traceback.ts';
import { pyFloatRepr, pyRepr, pyTypeName } from '../values/python.ts';
import { MAIN_THREAD, type EvaluateResult, type ExceptionDetails, type LocalsInfo, type PendingCallInfo, type RuntimeApi, type SetLocalResult, type StackFrameInfo, type StubInfo, type ThreadInfo } from './api.ts';
import { type DataBreakpointSpec, type DataBreakpointStatus } from './dataBreakpoints.ts';
import { evaluateTyped, EvalError, type EvalScope } from './pythonEval.ts';
import { type SandboxFrame } from './sandboxFrames.ts';
import { atCall, entriesFromFrames, entriesFromProbe, labelFrame, type StackEntry } from './stackView.ts';

export type { Forwarder, RuntimeHooks } from './launchSetup.ts';
import { describe, itemThread, signature } from './runtimeShared.ts';
import { RuntimeTravel } from './runtimeTravel.ts';

export { itemThread, signature } from './runtimeShared.ts';

export class DebugRuntime extends RuntimeTravel implements RuntimeApi {
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
    return (await this.view(threadId)).map(e => e.info);
  }

  protected async view(threadId: number): Promise<StackEntry[]> {
    const cached = this.views.get(threadId);
    if (cached) return cached;
    const entries = await this.buildView(threadId);
    this.views.set(threadId, entries);
    return entries;
  }

  protected async buildView(threadId: number): Promise<StackEntry[]> {
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
  protected async frameOf(frameId: number): Promise<SandboxFrame | undefined> {
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

  protected suggestion(fn: string): string | undefined {
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

  protected evalTyped(expression: string, scope: EvalScope): { value: unknown; type: string } {
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
  protected async repositionSilently(): Promise<void> {
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

  protected async command(text: string, threadId: number): Promise<EvaluateResult> {
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
