/**
 * The engine loop: Flyte's `ExternalFunctionBridge.execute_monty` on the real
 * interpreter. Start, and at every pause: a name lookup resumes as NameError;
 * `flyte_map` fans out; a registered external goes to the resolver chain; any
 * other call ends the run exactly as Flyte ends it. An exception from an
 * external call ends the run too (Flyte never raises it inside the sandbox)
 * unless the run opts into `raiseInSandbox`.
 *
 * Knows nothing of DAP or VS Code: clients listen to its events.
 */
import { EventEmitter } from 'node:events';
import { Monty, MontyComplete, MontyNameLookup, MontyRuntimeError, MontySnapshot, MontySyntaxError } from '@pydantic/monty';
import { definitionHint } from '../extract/moduleImport.ts';
import type { SandboxTask } from '../extract/tasks.ts';
import { fromMonty, IoValidationError, toMonty } from '../marshal.ts';
import { firstSyntaxError, parsePython } from '../python/parser.ts';
import { GATE_INPUT } from '../instrument/instrument.ts';
import { frameReport, isInternal, isProbe, probeHit, type Instrumentation, type ProbeAnswer } from '../instrument/probes.ts';
import { UNKNOWN_EXTERNAL, type Registry, type RegistryEntry } from '../registry.ts';
import { sandboxException } from '../values/exceptions.ts';
import { noKwargs, withPlainDicts } from '../values/plainDicts.ts';
import { bridgePlan, explainSandboxError, fastPathNameError, type BridgePlan } from './bridgePlan.ts';
import { Dispatcher, RunFailure } from './dispatch.ts';
import { planFlyteMap, runFlyteMap } from './flyteMap.ts';
import { buildInputs } from './inputs.ts';
import { DEFAULT_LIMITS, limitHint, montyLimits, type Limits } from './limits.ts';
import { isThenable, type CallOutcome, type CallRecord, type FailureOrigin, type SandboxFailure } from './outcome.ts';
import { mapFrames, probe, type ProbeResult } from './probe.ts';
import { ResolverChain, type Resolver } from './resolvers.ts';
import { locateRunaway } from './runaway.ts';

export interface RunOptions {
  /** Input values by name (a dict: Map or plain object). */
  inputs?: unknown;
  /** Tried in order for every external call. */
  resolvers?: readonly Resolver[];
  limits?: Limits;
  /** Beyond production: raise an external call's exception inside the sandbox instead of ending the run. */
  raiseInSandbox?: boolean;
  /** Beyond production: names to register on top of what Flyte discovers. */
  externals?: readonly string[];
  /** Consulted for each flyte_map call before its items run (a debugger stops there); an outcome replaces the whole map. */
  mapGate?: Resolver;
  /** Start by replaying an earlier run of the same task and inputs (time travel). */
  history?: History;
  /** Run the instrumented copy of the code (the debugger reads locals and stops at lines through it). */
  instrumentation?: Instrumentation;
  /** A debug session: `breakpoint()` in the task stops here instead of failing as in production (`production`: how it fails there). */
  onBreakpointCall?: (production: string) => Promise<void>;
}

export interface History {
  records: readonly CallRecord[];
  stdout: string;
  /** Top-level calls numbered below this are answered from `records` without resolvers or events; the run goes on live from there. */
  until: number;
  /** How much of `stdout` the replayed part prints (default: up to call #until). */
  stdoutOffset?: number;
  /** Start from this copy of an earlier run paused at a probe, not from the beginning (instrumented runs). */
  checkpoint?: RunCheckpoint;
}

/** An instrumented run paused at a probe, dumped: the calls and output before it are those of the history. */
export interface RunCheckpoint {
  dump: Uint8Array;
  callsBefore: number;
  stdoutLength: number;
}

const FLYTE_MAP_ENTRY: RegistryEntry = { name: 'flyte_map', category: 'task', taskTemplate: false, what: 'the flyte_map built-in', reason: 'built into the bridge' };

export interface RunResult {
  status: 'ok' | 'error';
  /** The task's return value as Monty gave it (IO handles as tagged dicts). */
  output?: unknown;
  error?: SandboxFailure;
  calls: CallRecord[];
  stdout: string;
  durationMs: number;
}

export interface RunEvents {
  call: [CallRecord];
  result: [CallRecord];
  output: [string];
  end: [RunResult];
}

type Progress = MontySnapshot | MontyNameLookup | MontyComplete;

/**
 * Yield to the event loop at least this often. Besides letting a stop request
 * in, it lets Node run the finalizers of dead Monty snapshots, which free
 * their native memory only then: a loop that never yields grows by ~1.6 KB
 * per call and slows down (measured: 3.4 us/call and 2.5 GB RSS after 1.5 M
 * calls, against 2.3 us/call and 80 MB when yielding every few thousand).
 */
const YIELD_EVERY_MS = 50;
const YIELD_EVERY_CALLS = 4096;

export class SandboxRun extends EventEmitter<RunEvents> {
  readonly registry: Registry;
  readonly limits: Limits;
  /** How production runs this task (fast path, start failure): consulted by the loop. */
  readonly plan: BridgePlan;
  stdout = '';
  private readonly dispatcher: Dispatcher;
  private readonly abort = new AbortController();
  private paused: MontySnapshot | undefined;
  private montyInputs: Record<string, unknown> = {};
  /** Characters a replay prints again that are already in `stdout`. */
  private skipOutput = 0;
  private readonly printCallback = (_stream: string, text: string): undefined => {
    if (this.skipOutput > 0) {
      const n = Math.min(this.skipOutput, text.length);
      this.skipOutput -= n;
      text = text.slice(n);
      if (!text) return;
    }
    this.stdout += text;
    this.emit('output', text);
  };

  constructor(readonly task: SandboxTask, readonly options: RunOptions = {}) {
    super();
    this.registry = options.externals?.length ? task.registry.withExtra(options.externals) : task.registry;
    this.limits = options.limits ?? { ...DEFAULT_LIMITS };
    this.plan = bridgePlan(task, this.registry);
    this.dispatcher = new Dispatcher(new ResolverChain(options.resolvers ?? []), {
      started: r => this.emit('call', r),
      finished: r => this.emit('result', r),
    }, this.abort.signal, () => this.stdout.length);
  }

  get calls(): readonly CallRecord[] {
    return this.dispatcher.records;
  }

  /** Where the sandbox is paused, while an external call is being resolved. */
  probe(): ProbeResult | undefined {
    return this.paused ? probe(this.task, this.paused) : undefined;
  }

  /** The snapshot the run is paused at (an external call, or a probe of the instrumented code). */
  get pausedSnapshot(): MontySnapshot | undefined {
    return this.paused;
  }

  /** End the run: pending calls are abandoned, `execute()` resolves with a 'stopped' failure. */
  stop(): void {
    this.abort.abort();
  }

  async execute(): Promise<RunResult> {
    let result: RunResult;
    try {
      const output = await this.loop();
      result = { status: 'ok', output, calls: this.dispatcher.records, stdout: this.stdout, durationMs: this.dispatcher.now() };
    } catch (e) {
      result = { status: 'error', error: await this.failureOf(e), calls: this.dispatcher.records, stdout: this.stdout, durationMs: this.dispatcher.now() };
    } finally {
      for (const r of this.dispatcher.records) this.dispatcher.cancel(r);
      this.paused = undefined;
    }
    this.emit('end', result);
    return result;
  }

  private async failureOf(e: unknown): Promise<SandboxFailure> {
    if (e instanceof RunFailure) {
      const f = e.failure;
      // a stopped run is not shown where it was (a step back stops one at every rewind): no probe, which costs a copy of the heap
      if (f.frames.length === 0 && this.paused && f.origin !== 'stopped') return { ...f, frames: probe(this.task, this.paused).frames };
      return f;
    }
    if (e instanceof MontyRuntimeError) {
      const { typeName, message } = e.exception;
      const limit = limitHint(typeName, message, this.limits);
      const origin: FailureOrigin = limit ? 'limit' : 'sandbox';
      const frames = mapFrames(this.task, e.traceback(), this.options.instrumentation?.code.sourceMap);
      const hint = limit ?? explainSandboxError(this.task, this.registry, this.plan, typeName, message, frames);
      if (origin === 'limit' && frames.length === 0) {
        const guess = await locateRunaway(this.task, this.montyInputs, this.dispatcher.records);
        return { type: typeName, message, origin, frames: guess.frames, hint: `${hint}. ${guess.note}` };
      }
      return { type: typeName, message, origin, frames, ...(hint ? { hint } : {}) };
    }
    throw e;
  }

  private fail(type: string, message: string, origin: FailureOrigin, extra: Partial<SandboxFailure> = {}): never {
    throw new RunFailure({ type, message, origin, frames: [], ...extra });
  }

  private async compile(): Promise<Monty> {
    const def = this.task.definitionErrors[0];
    if (def) {
      this.fail(def.type, def.message, 'definition', {
        frames: [{ file: def.at.file, line: def.at.line, column: def.at.column, function: '<module>', sourceLine: this.task.module.lineText(def.at.line).trim() }],
        hint: definitionHint(this.task, def),
      });
    }
    const instr = this.options.instrumentation;
    const names = instr ? [...this.task.inputNames, GATE_INPUT] : this.task.inputNames;
    try {
      return new Monty(instr ? instr.code.code : this.task.code, { scriptName: this.task.module.path, ...(names.length ? { inputs: names } : {}) });
    } catch (e) {
      if (e instanceof MontySyntaxError) {
        const err = firstSyntaxError((await parsePython(this.task.code)).rootNode);
        const pos = err ? this.task.sourceMap.toFile(err.startPosition.row + 1, err.startPosition.column + 1) : this.task.at;
        this.fail('SyntaxError', e.exception.message, 'syntax', { frames: [{ file: pos.file, line: pos.line, column: pos.column, function: this.task.name, sourceLine: this.task.codeModule.lineText(pos.line).trim() }] });
      }
      if (e instanceof MontyRuntimeError) {
        this.fail(e.exception.typeName, e.exception.message, 'syntax', { frames: mapFrames(this.task, e.traceback(), this.options.instrumentation?.code.sourceMap), hint: 'Monty, the sandbox interpreter, does not support this syntax: production fails the same way' });
      }
      throw e;
    }
  }

  private async loop(): Promise<unknown> {
    const h = this.options.history;
    const checkpoint = h?.checkpoint && this.options.instrumentation ? h.checkpoint : undefined;
    // a checkpoint holds the compiled code (the run that made it compiled it); either way the run starts after the caller's turn
    const monty = await (checkpoint ? undefined : this.compile());
    const instr = this.options.instrumentation;
    const inputs = buildInputs(this.task, this.options.inputs, 'inputs', { marshal: !this.plan.fastPath });
    this.montyInputs = inputs;
    if (this.plan.startFailure) throw new RunFailure(this.plan.startFailure);
    // plain dicts where that is the same dict: Monty converts them faster (values/plainDicts.ts)
    const plainInputs = withPlainDicts(inputs) as Record<string, unknown>;
    const montyInputs = instr ? { ...plainInputs, [GATE_INPUT]: instr.gate } : plainInputs;
    const limits = montyLimits(this.limits);
    const printCallback = this.printCallback;
    // Monty's clock runs while we are paused too: restart it once host time adds up (see monty-js-notes.md).
    const resetAfterMs = this.limits.maxDurationSecs == null ? Infinity : Math.max(50, this.limits.maxDurationSecs * 10);
    let hostMs = 0;
    let lastYield = this.dispatcher.now();
    let sinceYield = 0;

    if (h) {
      const at = h.records.find(r => r.seq === h.until);
      const offset = h.stdoutOffset ?? (at ? at.stdoutOffset : h.stdout.length);
      this.stdout = h.stdout.slice(0, offset);
      this.skipOutput = offset - (checkpoint?.stdoutLength ?? 0);
    }
    let progress: Progress = checkpoint
      ? MontySnapshot.load(checkpoint.dump as Buffer, { printCallback })
      : monty!.start({ ...(this.task.inputNames.length || instr ? { inputs: montyInputs } : {}), limits, printCallback });
    if (h) progress = this.fastForward(progress, h, checkpoint?.callsBefore ?? 0);
    for (;;) {
      if (progress instanceof MontyComplete) return this.finalOutput(progress.output);
      if (progress instanceof MontyNameLookup) {
        progress = progress.resume();
        continue;
      }
      const snapshot: MontySnapshot = progress;
      this.paused = snapshot;
      if (instr && isInternal(snapshot.functionName)) {
        const t0 = this.dispatcher.now();
        const answer = this.internal(snapshot, instr, false);
        const value = isThenable(answer) ? await this.unlessStopped(answer) : answer;
        if (this.abort.signal.aborted) this.fail('RunStopped', 'the run was stopped', 'stopped');
        hostMs += this.dispatcher.now() - t0;
        // time-based too: a loop without external calls still lets requests in (a pause) between its probes
        if (++sinceYield >= YIELD_EVERY_CALLS || t0 - lastYield > YIELD_EVERY_MS) {
          await new Promise(setImmediate);
          lastYield = this.dispatcher.now();
          sinceYield = 0;
        }
        let resumable: MontySnapshot = snapshot;
        if (hostMs > resetAfterMs) {
          resumable = MontySnapshot.load(snapshot.dump(), { printCallback });
          hostMs = 0;
        }
        this.paused = undefined;
        progress = resumable.resume({ returnValue: value });
        continue;
      }
      if (snapshot.functionName === 'breakpoint' && this.options.onBreakpointCall && !this.registry.get('breakpoint')) {
        const t0 = this.dispatcher.now();
        const production = this.plan.fastPath ? "NameError: name 'breakpoint' is not defined" : 'RuntimeError: Sandboxed task called unknown external function: breakpoint';
        await this.unlessStopped(this.options.onBreakpointCall(production));
        hostMs += this.dispatcher.now() - t0;
        let resumable: MontySnapshot = snapshot;
        if (hostMs > resetAfterMs) {
          resumable = MontySnapshot.load(snapshot.dump(), { printCallback });
          hostMs = 0;
        }
        this.paused = undefined;
        progress = resumable.resume({ returnValue: null });
        continue;
      }
      if (this.plan.fastPath) {
        // No bridge in production: Monty itself raises NameError for the call, inside the sandbox.
        this.paused = undefined;
        progress = snapshot.resume({ exception: fastPathNameError(snapshot.functionName) });
        continue;
      }
      const step = this.handle(snapshot);
      const outcome = isThenable(step.outcome) ? await this.unlessStopped(step.outcome) : step.outcome;
      hostMs += step.record.durationUs / 1000;
      if (++sinceYield >= YIELD_EVERY_CALLS || step.record.startedUs / 1000 - lastYield > YIELD_EVERY_MS) {
        await new Promise(setImmediate);
        lastYield = this.dispatcher.now();
        sinceYield = 0;
      }
      if (this.abort.signal.aborted) this.fail('RunStopped', 'the run was stopped', 'stopped');
      let resumable: MontySnapshot = snapshot;
      if (hostMs > resetAfterMs) {
        resumable = MontySnapshot.load(snapshot.dump(), { printCallback });
        hostMs = 0;
      }
      if (outcome.kind === 'return') {
        this.paused = undefined;
        progress = resumable.resume({ returnValue: outcome.value });
      } else if (this.options.raiseInSandbox) {
        this.paused = undefined;
        progress = resumable.resume({ exception: sandboxException(outcome.type, outcome.message) });
      } else {
        this.externalFailure(snapshot, step.record, outcome);
      }
    }
  }

  /** A probe hit or frame report of the instrumented code: the host's answer to resume it with. */
  private internal(snapshot: MontySnapshot, instr: Instrumentation, replaying: boolean, callsBefore = this.dispatcher.records.length): ProbeAnswer | Promise<ProbeAnswer> {
    // While replaying, `stdout` already holds text the replay has yet to print again.
    if (isProbe(snapshot.functionName)) {
      const hit = probeHit(snapshot, callsBefore, this.stdout.length - this.skipOutput, replaying);
      if (!replaying) instr.checkpoint?.(hit, () => snapshot.dump());
      return instr.probe(hit);
    }
    instr.report?.(frameReport(snapshot));
    return null;
  }

  /** Replay recorded results for the calls before `history.until`: exact, silent, and as fast as Monty resumes. */
  private fastForward(progress: Progress, h: History, from: number): Progress {
    const kept = h.records.filter(r => r.seq < h.until);
    const instr = this.options.instrumentation;
    let callsBefore = from;
    const settle = (p: Progress): MontySnapshot | MontyComplete => {
      for (;;) {
        if (p instanceof MontyNameLookup) p = p.resume();
        else if (instr && p instanceof MontySnapshot && isInternal(p.functionName)) {
          const answer = this.internal(p, instr, true, callsBefore);
          if (isThenable(answer)) throw new Error('a probe cannot stop while recorded calls are replayed');
          p = p.resume({ returnValue: answer });
        } else if (p instanceof MontySnapshot && p.functionName === 'breakpoint' && this.options.onBreakpointCall && !this.registry.get('breakpoint')) {
          p = p.resume({ returnValue: null });
        } else return p;
      }
    };
    for (const r of kept) {
      if (r.seq <= from) continue;
      if (r.mapParent !== undefined) {
        callsBefore = r.seq;
        continue;
      }
      const at = settle(progress);
      const now = at instanceof MontyComplete ? 'finishes' : `calls ${at.functionName}()`;
      if (at instanceof MontyComplete || at.functionName !== r.function) {
        this.fail('ReplayDiverged', `replaying call #${r.seq} ${r.function}(): the sandbox now ${now} there (did the code or the inputs change?)`, 'sandbox');
      }
      if (r.status === 'returned') progress = at.resume({ returnValue: r.result });
      else if (r.status === 'raised' && r.error && this.options.raiseInSandbox) progress = at.resume({ exception: sandboxException(r.error.type, r.error.message) });
      else this.fail('ReplayDiverged', `call #${r.seq} ${r.function}() has no result to replay (${r.status})`, 'sandbox');
      callsBefore = r.seq;
    }
    this.dispatcher.adopt(kept);
    return progress;
  }

  private unlessStopped<T>(p: Promise<T>): Promise<T> {
    const signal = this.abort.signal;
    if (signal.aborted) return Promise.reject(new RunFailure({ type: 'RunStopped', message: 'the run was stopped', origin: 'stopped', frames: [] }));
    return new Promise<T>((resolve, reject) => {
      const onAbort = () => reject(new RunFailure({ type: 'RunStopped', message: 'the run was stopped', origin: 'stopped', frames: [] }));
      signal.addEventListener('abort', onAbort, { once: true });
      p.then(v => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      }, e => {
        signal.removeEventListener('abort', onAbort);
        reject(e as Error);
      });
    });
  }

  /** `_from_monty` on the final output: a malformed IO handle fails the run, as it does in Flyte. */
  private finalOutput(output: unknown): unknown {
    if (this.plan.fastPath) return output;
    try {
      return toMonty(fromMonty(output, 'output', this.task.pythonVersion));
    } catch (e) {
      if (e instanceof IoValidationError) this.fail(e.typeName, e.message, 'marshal', { hint: `the task's return value holds a malformed ${e.kind} at ${e.path}` });
      throw e;
    }
  }

  /** The bridge's per-snapshot step. */
  private handle(snapshot: MontySnapshot): { record: CallRecord; outcome: CallOutcome | Promise<CallOutcome> } {
    const name = snapshot.functionName;
    const args = snapshot.args;
    const kwargs = noKwargs(snapshot.kwargs);
    if (name === 'flyte_map') return this.flyteMap(args, kwargs);
    const entry = this.registry.get(name);
    if (!entry) {
      const hint = this.registry.refusalHint(name);
      this.fail('RuntimeError', UNKNOWN_EXTERNAL + name, 'refused', hint ? { hint } : {});
    }
    this.unmarshalArgs(name, args, kwargs);
    return this.dispatcher.dispatch(entry, args, kwargs);
  }

  /** Flyte unmarshals every argument before the call: a malformed File fails there. */
  private unmarshalArgs(fn: string, args: unknown[], kwargs: Record<string, unknown>): void {
    try {
      const py = this.task.pythonVersion;
      for (let i = 0; i < args.length; i++) if (args[i] !== null && typeof args[i] === 'object') fromMonty(args[i], `args[${i}]`, py);
      for (const k in kwargs) if (kwargs[k] !== null && typeof kwargs[k] === 'object') fromMonty(kwargs[k], `kwargs['${k}']`, py);
    } catch (e) {
      if (e instanceof IoValidationError) this.fail(e.typeName, e.message, 'marshal', { hint: `${fn}() was called with a malformed ${e.kind} at ${e.path}: Flyte's ${e.kind}.model_validate rejects it before the call` });
      throw e;
    }
  }

  private flyteMap(args: unknown[], kwargs: Record<string, unknown>): { record: CallRecord; outcome: CallOutcome | Promise<CallOutcome> } {
    this.unmarshalArgs('flyte_map', args, kwargs);
    const parent = this.dispatcher.begin('flyte_map', args, kwargs);
    const finish = (o: CallOutcome): CallOutcome => {
      this.dispatcher.finish(parent, o);
      return o;
    };
    const runMap = (): CallOutcome | Promise<CallOutcome> => {
      const plan = planFlyteMap(this.registry, args, kwargs, this.task.profile);
      if ('kind' in plan) return finish(plan);
      const outcome = runFlyteMap(plan, this.registry, this.dispatcher, parent);
      return isThenable(outcome) ? outcome.then(finish) : finish(outcome);
    };
    const gate = this.options.mapGate?.resolve(this.dispatcher.callOf(parent, FLYTE_MAP_ENTRY));
    if (isThenable(gate)) return { record: parent, outcome: Promise.resolve(gate).then(o => (o ? this.dispatcher.settle(parent, o) : runMap())) };
    return { record: parent, outcome: gate ? this.dispatcher.settle(parent, gate) : runMap() };
  }

  private externalFailure(snapshot: MontySnapshot, record: CallRecord, outcome: Extract<CallOutcome, { kind: 'raise' }>): never {
    const where = probe(this.task, snapshot).frames;
    // flyte_map's own checks raise with source 'flyte_map'; a failed item keeps the source of its result.
    if (outcome.source === 'flyte_map') this.fail(outcome.type, outcome.message, 'flyte_map', { frames: where, call: record.seq });
    const item = record.function === 'flyte_map' ? this.dispatcher.records.find(r => r.mapParent === record.seq && r.status === 'raised' && r.error?.message === outcome.message) : undefined;
    const culprit = item ? `flyte_map item ${item.mapIndex} (${item.function}, ${outcome.source})` : `the ${outcome.source} result of ${record.function}()`;
    this.fail(outcome.type, outcome.message, 'external', {
      frames: where,
      call: item?.seq ?? record.seq,
      hint: `raised by ${culprit}. In Flyte an exception from an external call ends the run: the sandbox's own try/except never sees it. Set raiseInSandbox to raise it inside the sandbox instead (not what production does).`,
      ...(outcome.traceback ? { traceback: outcome.traceback } : {}),
    });
  }
}
