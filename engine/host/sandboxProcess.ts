/**
 * A SandboxRun in a child process, behind the same events. The caller's
 * thread never runs the interpreter; a watchdog pings the child and kills it
 * when it stops answering for longer than the duration limit plus a grace
 * period (a worker thread could not be stopped: see monty-js-notes.md).
 */
import { EventEmitter } from 'node:events';
import { UsageError } from '../errors.ts';
import { DEFAULT_LIMITS, watchdogMs } from '../run/limits.ts';
import type { CallRecord, SandboxFailure } from '../run/outcome.ts';
import type { ProbeResult } from '../run/probe.ts';
import type { Resolver } from '../run/resolvers.ts';
import type { RunEvents, RunResult } from '../run/sandboxRun.ts';
import { fromWire, toWire } from '../values/wire.ts';
import { outcomeToWire, type StartOptions, type ToChild, type ToParent, type WireCall, type WireEvent } from './protocol.ts';
import { decodeRecords, kwargsFromWire } from './recordBlock.ts';
import { WatchedChild } from './childProcess.ts';
import { memoryHint } from './lifetime.ts';

/** How long a stopped run may take to finish up (its Python workers abort remote runs) before it is killed. */
const STOP_GRACE_MS = 35_000;

export interface ProcessRunOptions extends Omit<StartOptions, 'inputs' | 'stubs' | 'limits' | 'ask'> {
  inputs?: unknown;
  stubs?: unknown;
  limits?: StartOptions['limits'];
  /** Consulted first for the calls named by `ask` (over IPC, so keep `ask` narrow). */
  resolver?: Resolver;
  ask?: StartOptions['ask'];
  /** How long past the duration limit an unresponsive child is tolerated. */
  graceMs?: number;
  /** Things the user should know that are not the program's output (cassette notices). */
  onNotice?: (text: string) => void;
  /**
   * false: call records only go to the 'call' and 'result' listeners and are
   * not kept once finished, and `RunResult.calls` is empty: a client that
   * streams them keeps its memory flat at any run length (the CLI).
   */
  keepCalls?: boolean;
}

export class SandboxProcess extends EventEmitter<RunEvents> {
  private child: WatchedChild | undefined;
  /** By seq - 1 (seqs count from 1 without gaps): records arrive in the order they finished, not started. */
  private readonly calls: CallRecord[] = [];
  /** With `keepCalls: false`, the records not finished yet. */
  private readonly unfinished = new Map<number, CallRecord>();
  private stdout = '';
  private probes = new Map<number, (p: ProbeResult | undefined) => void>();
  private nextProbe = 1;
  private stopped = false;

  constructor(private readonly options: ProcessRunOptions) {
    super();
  }

  /** Runs to the end; rejects only with a UsageError (bad file, task, inputs, stubs). */
  execute(): Promise<RunResult> {
    const limits = this.options.limits ?? { ...DEFAULT_LIMITS };
    const o = this.options;
    const start: StartOptions = {
      file: o.file, limits, ask: o.resolver ? o.ask ?? 'all' : 'none',
      ...(o.text !== undefined ? { text: o.text } : {}),
      ...(o.task !== undefined ? { task: o.task } : {}),
      ...(o.inputs !== undefined ? { inputs: toWire(o.inputs) } : {}),
      ...(o.stubs !== undefined ? { stubs: typeof o.stubs === 'string' ? o.stubs : toWire(o.stubs) } : {}),
      ...(o.stubModule !== undefined ? { stubModule: o.stubModule } : {}),
      ...(o.forward !== undefined ? { forward: o.forward } : {}),
      ...(o.python !== undefined ? { python: o.python } : {}),
      ...(o.pythonSettingName !== undefined ? { pythonSettingName: o.pythonSettingName } : {}),
      ...(o.forwardTimeout !== undefined ? { forwardTimeout: o.forwardTimeout } : {}),
      ...(o.forwardTimeoutSettingName !== undefined ? { forwardTimeoutSettingName: o.forwardTimeoutSettingName } : {}),
      ...(o.raiseInSandbox ? { raiseInSandbox: true } : {}),
      ...(o.externals?.length ? { externals: o.externals } : {}),
      ...(o.pythonVersion ? { pythonVersion: o.pythonVersion } : {}),
      ...(o.profile ? { profile: o.profile } : {}),
      ...(o.roots ? { roots: o.roots } : {}),
      ...(o.cassette ? { cassette: o.cassette } : {}),
      ...(o.remote ? { remote: o.remote } : {}),
    };
    return new Promise<RunResult>((resolve, reject) => {
      let settled = false;
      const finish = (result: RunResult) => {
        if (settled) return;
        settled = true;
        child.stop();
        this.emit('end', result);
        resolve(result);
      };
      const failed = (error: SandboxFailure) => finish({ status: 'error', error, calls: this.trace(), stdout: this.stdout, durationMs: 0 });
      const child = new WatchedChild('sandboxHost.js', 'child.ts', watchdogMs(limits, o.graceMs ?? 10_000), {
        unresponsive: ms => failed({ type: 'TimeoutError', message: `the sandbox process did not answer for ${Math.round(ms / 1000)} s and was killed`, origin: 'limit', frames: [], hint: `Monty's own time limit (${limits.maxDurationSecs} s) did not stop it; the debugger's watchdog did` }),
        exit: (how, stderr, memory) => {
          if (memory) failed({ type: 'MemoryError', message: `the sandbox process used ${Math.round(memory.rss / 1048576)} MiB and was stopped`, origin: 'limit', frames: [], hint: memoryHint(limits.maxMemory, memory.bound) });
          else if (this.stopped) failed({ type: 'RunStopped', message: 'the run was stopped', origin: 'stopped', frames: [] });
          else failed({ type: 'SandboxCrashed', message: `the sandbox process exited unexpectedly (${how})`, origin: 'sandbox', frames: [], ...(stderr ? { hint: stderr } : {}) });
        },
        message: raw => {
          const m = raw as ToParent;
          switch (m.t) {
            case 'events':
              for (const e of m.events) this.onEvent(e);
              break;
            case 'ask':
              void this.answer(m.id, m.call);
              break;
            case 'probe':
              this.probes.get(m.id)?.(m.result ?? undefined);
              this.probes.delete(m.id);
              break;
            case 'end':
              finish({ status: m.result.status, ...(m.result.status === 'ok' ? { output: fromWire(m.result.output) } : {}), ...(m.result.error ? { error: m.result.error } : {}), calls: this.trace(), stdout: m.result.stdout, durationMs: m.result.durationMs });
              break;
            case 'fatal':
              settled = true;
              child.stop();
              reject(m.usage ? new UsageError(m.message) : new Error(m.message));
              break;
          }
        },
      });
      this.child = child;
      child.send({ t: 'start', options: start } satisfies ToChild);
    });
  }

  /** The records, in seq order (a run cut short may not have sent every one). */
  private trace(): CallRecord[] {
    return this.calls.includes(undefined as never) ? this.calls.filter(Boolean) : this.calls;
  }

  private onEvent(e: WireEvent): void {
    if (typeof e === 'string') {
      this.stdout += e;
      this.emit('output', e);
      return;
    }
    if ('notice' in e) {
      this.options.onNotice?.(e.notice);
      return;
    }
    if (this.options.keepCalls === false) {
      // 'call' when a call is first seen, and again when a pending one changes (a resolver attached a ref)
      decodeRecords(e, seq => this.unfinished.get(seq), (r, isNew) => {
        if (isNew || r.status === 'pending') this.emit('call', r);
        if (r.status === 'pending') this.unfinished.set(r.seq, r);
        else {
          this.unfinished.delete(r.seq);
          this.emit('result', r);
        }
      });
      return;
    }
    decodeRecords(e, seq => this.calls[seq - 1], (r, isNew) => {
      if (isNew) this.calls[r.seq - 1] = r;
      if (isNew || r.status === 'pending') this.emit('call', r);
      if (r.status !== 'pending') this.emit('result', r);
    });
  }

  private async answer(id: number, call: WireCall): Promise<void> {
    const resolver = this.options.resolver!;
    const controller = new AbortController();
    const outcome = await resolver.resolve({
      seq: call.seq,
      function: call.function,
      args: fromWire(call.args) as unknown[],
      kwargs: kwargsFromWire(call.kwargs),
      entry: call.entry,
      mapParent: call.mapParent ?? undefined,
      mapIndex: call.mapIndex ?? undefined,
      mapSize: call.mapSize ?? undefined,
      signal: controller.signal,
    });
    this.child?.send({ t: 'answer', id, outcome: outcome ? outcomeToWire(outcome) : null } satisfies ToChild);
  }

  /** Where the sandbox is paused (asked of the child). */
  probe(): Promise<ProbeResult | undefined> {
    const id = this.nextProbe++;
    return new Promise(resolve => {
      this.probes.set(id, resolve);
      this.child?.send({ t: 'probe', id } satisfies ToChild);
    });
  }

  /** Ends the run: the child is asked to stop, and killed if it cannot answer. */
  stop(): void {
    this.stopped = true;
    this.child?.send({ t: 'stop' } satisfies ToChild);
    const child = this.child;
    const since = Date.now();
    // Killed when it cannot answer (held by the sandbox); one that answers is finishing up, within its workers' grace.
    const check = (): void => {
      if (!child || child.exited) return;
      if (child.busy || Date.now() - since > STOP_GRACE_MS) child.kill();
      else setTimeout(check, 500).unref();
    };
    setTimeout(check, 2000).unref();
  }
}
