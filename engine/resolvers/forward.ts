/**
 * Forward: an external call answered by the real Python function of the
 * user's module, run in a Python worker process and dispatched the way
 * Flyte's bridge dispatches it (`.aio` when there is one, coroutines awaited).
 * The worker failing (crash, timeout, junk on its stdout, no interpreter) is
 * a `ForwardError` raise, so the run ends with a message saying what happened.
 */
import { resolve as resolvePath } from 'node:path';
import type { CallOutcome, ExternalCall } from '../run/outcome.ts';
import type { Resolver } from '../run/resolvers.ts';
import { callToWire, fromWire } from '../values/wire.ts';
import { PythonWorker, WorkerError, type WorkerReply } from '../forward/pythonWorker.ts';

export interface ForwardOptions {
  /** The user's Python file; its functions are looked up by the name the sandbox calls. */
  module: string;
  /** Which calls `resolve` forwards; the others pass to the next resolver. */
  names: 'all' | string[];
  /** Interpreter (the "python" setting); default `python3`. */
  python?: string;
  /** Per call; default 60 s. */
  timeoutMs?: number;
  /** Where the user sets the timeout, for the message when it is hit. */
  timeoutSettingName?: string;
  /** Where the user sets `python`, for error messages. */
  pythonSettingName?: string;
  onOutput?: (text: string, stream: 'stdout' | 'stderr') => void;
  onNotice?: (text: string) => void;
}

/** What `forward` needs of a call. */
export type ForwardedCall = Pick<ExternalCall, 'function' | 'args' | 'kwargs'> & { signal?: AbortSignal };

export class ForwardResolver implements Resolver {
  readonly source = 'forward' as const;
  readonly module: string;
  private readonly names: ReadonlySet<string> | 'all';
  private readonly worker: PythonWorker;

  constructor(options: ForwardOptions) {
    this.module = resolvePath(options.module);
    this.names = options.names === 'all' ? 'all' : new Set(options.names);
    this.worker = new PythonWorker(options);
  }

  resolve(call: ExternalCall): Promise<CallOutcome> | undefined {
    if (this.names !== 'all' && !this.names.has(call.function)) return undefined;
    return this.forward(call);
  }

  /** Forward one call now, whatever `names` says (the interactive "forward this call" action). */
  async forward(call: ForwardedCall): Promise<CallOutcome> {
    const wire = callToWire(call, 'Python');
    if ('error' in wire) return forwardError(wire.error);
    let reply: WorkerReply;
    try {
      reply = await this.worker.request({ op: 'call', module: this.module, function: call.function, ...wire }, call.signal);
    } catch (e) {
      if (e instanceof WorkerError) return forwardError(e.message);
      throw e;
    }
    if (!reply.ok) return { kind: 'raise', type: reply.type, message: reply.message, ...(reply.traceback ? { traceback: reply.traceback } : {}), source: 'forward' };
    return { kind: 'return', value: fromWire(reply.value), source: 'forward' };
  }

  /** Stops the Python worker (a later call starts a new one). */
  dispose(): Promise<void> {
    return this.worker.dispose();
  }
}

function forwardError(message: string): CallOutcome {
  return { kind: 'raise', type: 'ForwardError', message, source: 'forward' };
}
