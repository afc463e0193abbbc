/**
 * Remote: an external call answered by a real run on the Flyte cluster,
 * through flyte's own API in the user's interpreter (python/flyte_worker.py):
 * `flyte.with_runcontext(mode="remote").run.aio(task, ...)` for a local
 * task (flyte builds or finds its image and uploads a code bundle), the
 * deployed version for a `flyte.remote.Task.get(...)` handle. The run's
 * outputs come back into the sandbox marshaled as always; a failed run ends
 * the debugged run as production would, with the run's error message.
 *
 * Every call costs a run: the resolver counts them, says so as each starts
 * (name and URL, also on the call's trace record), and caps the runs in
 * flight (flyte_map items also honour their own `concurrency`). A call the
 * run no longer wants (stop, restart) has its cluster run aborted.
 */
import { resolve as resolvePath } from 'node:path';
import { PythonWorker, WorkerError, type WorkerReply } from '../forward/pythonWorker.ts';
import type { CallOutcome, CallRef, ExternalCall } from '../run/outcome.ts';
import type { Resolver } from '../run/resolvers.ts';
import { pyRepr } from '../values/python.ts';
import { callToWire, fromWire } from '../values/wire.ts';

export const DEFAULT_MAX_IN_FLIGHT = 8;
/** How long a stopped session leaves the worker to abort its runs before it is killed. */
const ABORT_GRACE_MS = 30_000;

export interface RemoteSettings {
  /** Which calls become runs: these externals, or every task ("all"). */
  names: 'all' | string[];
  /** The interpreter where flyte is installed and configured. */
  python?: string;
  pythonSettingName?: string;
  project?: string;
  domain?: string;
  /** A Flyte config file; default: flyte's own lookup (./config.yaml, ~/.flyte/config.yaml, ...). */
  config?: string;
  /** Runs in flight at most (the debugger's own cap; production has the cluster's). */
  maxInFlight?: number;
}

export interface RemoteOptions extends RemoteSettings {
  /** The user's Python file (its tasks are what runs on the cluster). */
  module: string;
  /** flyte's root_dir: what the code bundle holds and the module path the pod imports. */
  rootDir?: string;
  cwd?: string;
  onNotice?: (text: string) => void;
  onOutput?: (text: string, stream: 'stdout' | 'stderr') => void;
}

function describe(call: ExternalCall): string {
  const args = [...call.args.map(a => pyRepr(a)), ...Object.entries(call.kwargs).map(([k, v]) => `${k}=${pyRepr(v)}`)].join(', ');
  return `${call.function}(${args.length > 60 ? args.slice(0, 59) + '…' : args})${call.mapIndex !== undefined ? ` [flyte_map item ${call.mapIndex}]` : ''}`;
}

export class RemoteResolver implements Resolver {
  readonly source = 'remote' as const;
  readonly module: string;
  readonly maxInFlight: number;
  /** Runs created on the cluster so far. */
  runs = 0;
  private inFlight = 0;
  private readonly waiting: (() => void)[] = [];
  private capNoticed = false;
  private readonly names: ReadonlySet<string> | 'all';
  private readonly worker: PythonWorker;

  constructor(private readonly options: RemoteOptions) {
    this.module = resolvePath(options.module);
    this.names = options.names === 'all' ? 'all' : new Set(options.names);
    this.maxInFlight = options.maxInFlight ?? DEFAULT_MAX_IN_FLIGHT;
    this.worker = new PythonWorker({
      script: 'flyte_worker.py',
      ...(options.python ? { python: options.python } : {}),
      pythonSettingName: options.pythonSettingName ?? 'the "python" setting',
      ...(options.cwd ? { cwd: options.cwd } : {}),
      timeoutMs: 0,
      gracefulStopMs: ABORT_GRACE_MS,
      ...(options.onOutput ? { onOutput: options.onOutput } : {}),
      ...(options.onNotice ? { onNotice: options.onNotice } : {}),
    });
  }

  /** Which calls go to the cluster: the names asked for, or with "all" every task (traces run inside the orchestrator). */
  wants(call: Pick<ExternalCall, 'function' | 'entry'>): boolean {
    return this.names === 'all' ? call.entry.category === 'task' : this.names.has(call.function);
  }

  resolve(call: ExternalCall): Promise<CallOutcome> | undefined {
    return this.wants(call) ? this.run(call) : undefined;
  }

  private notice(text: string): void {
    this.options.onNotice?.(text);
  }

  /** Wait for a free slot under the cap; false when the call was abandoned meanwhile. */
  private async slot(signal: AbortSignal): Promise<boolean> {
    if (this.inFlight < this.maxInFlight) {
      this.inFlight++;
      return true;
    }
    if (!this.capNoticed) {
      this.capNoticed = true;
      this.notice(`remote: ${this.maxInFlight} runs in flight, the debugger's cap (remoteMaxInFlight); further calls wait for one to finish`);
    }
    await new Promise<void>(resolve => {
      const go = () => resolve();
      this.waiting.push(go);
      signal.addEventListener('abort', () => {
        const i = this.waiting.indexOf(go);
        if (i >= 0) this.waiting.splice(i, 1);
        resolve();
      }, { once: true });
    });
    if (signal.aborted) return false;
    this.inFlight++;
    return true;
  }

  private release(): void {
    this.inFlight--;
    this.waiting.shift()?.();
  }

  private async run(call: ExternalCall): Promise<CallOutcome> {
    const wire = callToWire(call, 'the cluster');
    if ('error' in wire) return remoteError(wire.error);
    if (!(await this.slot(call.signal))) return remoteError(`${call.function}() was abandoned before its run was created`);
    let ref: CallRef | undefined;
    let reply: WorkerReply;
    try {
      reply = await this.worker.request({
        op: 'remote_call', label: `${call.function}() on the cluster`, module: this.module, function: call.function, ...wire,
        config: this.options.config, project: this.options.project, domain: this.options.domain, rootDir: this.options.rootDir,
      }, {
        signal: call.signal,
        cancelOnAbort: true,
        onEvent: e => {
          const ev = e as { kind?: string; name?: string; url?: string };
          if (ev.kind === 'run' && ev.name) {
            this.runs++;
            ref = { kind: 'remote', name: ev.name, ...(ev.url ? { url: ev.url } : {}) };
            call.annotate?.(call.seq, ref);
            this.notice(`remote run ${this.runs}: ${describe(call)} is run ${ev.name}${ev.url ? ` ${ev.url}` : ''}`);
          } else if (ev.kind === 'aborted' && ev.name) {
            this.notice(`remote: aborted run ${ev.name} (${call.function}(), no longer wanted)`);
          }
        },
      });
    } catch (e) {
      if (e instanceof WorkerError) return remoteError(e.message, ref);
      throw e;
    } finally {
      this.release();
    }
    const withRef = ref ? { ref: { ...ref, phase: reply.ok ? 'succeeded' : 'failed' } } : {};
    if (!reply.ok) return { kind: 'raise', type: reply.type, message: reply.message, ...(reply.traceback ? { traceback: reply.traceback } : {}), source: 'remote', ...withRef };
    return { kind: 'return', value: fromWire(reply.value), source: 'remote', ...withRef };
  }

  private disposed = false;

  /** Stops the worker: runs still in flight are aborted by it before it exits. */
  dispose(): Promise<void> {
    if (this.runs && !this.disposed) this.notice(`remote: ${this.runs} run${this.runs === 1 ? ' was' : 's were'} created on the cluster in this session`);
    this.disposed = true;
    return this.worker.dispose();
  }
}

function remoteError(message: string, ref?: CallRef): CallOutcome {
  return { kind: 'raise', type: 'RemoteError', message, source: 'remote', ...(ref ? { ref } : {}) };
}
