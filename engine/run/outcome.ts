/** What an external call came back with, and the records the trace keeps of it. */
import { fromMonty } from '../marshal.ts';
import type { FilePosition } from '../python/module.ts';
import type { RegistryEntry } from '../registry.ts';

/** Who produced a call's result. */
export type ResultSource = 'interactive' | 'stub' | 'cassette' | 'forward' | 'remote' | 'flyte_map';

/** Where a result lives outside the debugger: the production action it was imported from, or the cluster run that computed it. */
export interface CallRef {
  kind: 'production' | 'remote';
  /** The action's name (production) or the run's name (remote). */
  name: string;
  url?: string;
  durationMs?: number;
  cacheHit?: boolean;
  phase?: string;
}

export type CallOutcome =
  | { kind: 'return'; value: unknown; source: ResultSource; ref?: CallRef }
  | { kind: 'raise'; type: string; message: string; traceback?: string; source: ResultSource; ref?: CallRef };

/** A call the sandbox made, as a resolver sees it. */
export interface ExternalCall {
  seq: number;
  function: string;
  /** Exactly as Monty gave them (IO handles are tagged dicts). */
  args: unknown[];
  kwargs: Record<string, unknown>;
  entry: RegistryEntry;
  mapParent: number | undefined;
  mapIndex: number | undefined;
  /** How many items the flyte_map this call belongs to has. */
  mapSize: number | undefined;
  /** Aborted when the run no longer wants the result (run stopped, a sibling map item failed). */
  signal: AbortSignal;
  /** Attach a ref to the call while it is still pending (a remote run as soon as it exists). */
  annotate?: (seq: number, ref: CallRef) => void;
}

export type CallStatus = 'pending' | 'returned' | 'raised' | 'cancelled';

/**
 * One boundary crossing. A class with every field set in the constructor (one
 * hidden class) and times as integer microseconds (small integers, not boxed
 * doubles): a run keeps one of these per call.
 */
export class CallRecord {
  status: CallStatus = 'pending';
  /** The value handed back to the sandbox (after `_to_monty`). */
  result: unknown = undefined;
  error: { type: string; message: string; traceback?: string } | undefined = undefined;
  source: ResultSource | undefined = undefined;
  /** The production action or cluster run behind the result. */
  ref: CallRef | undefined = undefined;
  durationUs = -1;
  /** Where the call was made, when it was looked up (only on demand: it costs a probe). */
  site: FilePosition | undefined = undefined;

  readonly seq: number;
  readonly function: string;
  /** Exactly as Monty gave them (IO handles are tagged dicts). */
  readonly args: unknown[];
  readonly kwargs: Record<string, unknown>;
  /** microseconds since the run started */
  readonly startedUs: number;
  readonly mapParent: number | undefined;
  readonly mapIndex: number | undefined;
  /** Length of the run's stdout when the call was made: print output between calls is a slice. */
  readonly stdoutOffset: number;

  constructor(seq: number, fn: string, args: unknown[], kwargs: Record<string, unknown>, startedUs: number, mapParent?: number, mapIndex?: number, stdoutOffset = 0) {
    this.seq = seq;
    this.function = fn;
    this.args = args;
    this.kwargs = kwargs;
    this.startedUs = startedUs;
    this.mapParent = mapParent;
    this.mapIndex = mapIndex;
    this.stdoutOffset = stdoutOffset;
  }

  /** The arguments as Flyte's task receives them (`_from_monty`: IO handles as IoHandle objects). */
  unmarshaled(): { args: unknown[]; kwargs: Record<string, unknown> } {
    return {
      args: this.args.map((a, i) => fromMonty(a, `args[${i}]`)),
      kwargs: Object.fromEntries(Object.entries(this.kwargs).map(([k, v]) => [k, fromMonty(v, `kwargs['${k}']`)])),
    };
  }

  get startedAt(): number {
    return this.startedUs / 1000;
  }

  get durationMs(): number | undefined {
    return this.durationUs < 0 ? undefined : this.durationUs / 1000;
  }
}

export interface Frame {
  file: string;
  line: number;
  column: number;
  function: string;
  sourceLine?: string;
}

/** Where a failure comes from, so clients can explain it. */
export type FailureOrigin =
  | 'sandbox' // the code raised inside Monty (incl. NameError, limits)
  | 'external' // an external call raised: Flyte ends the run with it
  | 'refused' // a call to an unregistered name
  | 'marshal' // an IO handle failed Flyte's validation
  | 'flyte_map' // flyte_map's own validation
  | 'limit' // a resource limit of the debugger
  | 'definition' // Flyte would not even define the task
  | 'syntax' // Monty cannot parse or does not support the code
  | 'unresolved' // no stub, cassette or forward for a call (a debugger condition, not production)
  | 'cassette' // a replayed cassette does not match the run (a debugger condition, not production)
  | 'stopped'; // the client stopped the run

export interface SandboxFailure {
  type: string;
  message: string;
  origin: FailureOrigin;
  frames: Frame[];
  /** What the debugger adds to Flyte's message: why, and what to do. */
  hint?: string;
  /** The call that failed, by seq. */
  call?: number;
  /** A Python traceback from a forwarded call. */
  traceback?: string;
}

export function isThenable<T>(v: T | PromiseLike<T>): v is PromiseLike<T> {
  return typeof (v as { then?: unknown } | undefined)?.then === 'function';
}
