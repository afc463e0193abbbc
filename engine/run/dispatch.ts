/**
 * One external call from start to finish: a record in the trace, the
 * resolver chain, and the result validated on its way into the sandbox
 * (`_to_monty`). Synchronous when the resolver answers synchronously.
 */
import { hostResultToMonty, IoValidationError } from '../marshal.ts';
import type { RegistryEntry } from '../registry.ts';
import { CallRecord, isThenable, type CallOutcome, type CallRef, type ExternalCall, type SandboxFailure } from './outcome.ts';
import type { ResolverChain } from './resolvers.ts';

/** Ends the run with a failure; thrown from deep inside the loop, caught once at the top. */
export class RunFailure extends Error {
  constructor(readonly failure: SandboxFailure) {
    super(`${failure.type}: ${failure.message}`);
  }
}

export interface MapItem {
  parent: number;
  index: number;
  size: number;
}

export interface CallSink {
  started(record: CallRecord): void;
  finished(record: CallRecord): void;
}

export class Dispatcher {
  readonly records: CallRecord[] = [];
  private readonly t0 = performance.now();

  constructor(private readonly chain: ResolverChain, private readonly sink: CallSink, private readonly signal: AbortSignal, private readonly stdoutLength: () => number) {}

  /** One function for every call (no closure per call): a resolver attaches a ref to a pending call. */
  readonly annotate = (seq: number, ref: CallRef): void => {
    const record = this.records[seq - 1];
    if (record?.seq !== seq || record.status !== 'pending') return;
    record.ref = ref;
    this.sink.started(record);
  };

  /** ms since the run started */
  now(): number {
    return performance.now() - this.t0;
  }

  private nowUs(): number {
    return Math.round((performance.now() - this.t0) * 1000);
  }

  begin(fn: string, args: unknown[], kwargs: Record<string, unknown>, item?: MapItem): CallRecord {
    const record = new CallRecord(this.records.length + 1, fn, args, kwargs, this.nowUs(), item?.parent, item?.index, this.stdoutLength());
    this.records.push(record);
    this.sink.started(record);
    return record;
  }

  finish(record: CallRecord, outcome: CallOutcome): void {
    record.durationUs = this.nowUs() - record.startedUs;
    record.source = outcome.source;
    if (outcome.ref) record.ref = outcome.ref;
    if (outcome.kind === 'return') {
      record.status = 'returned';
      record.result = outcome.value;
    } else {
      record.status = 'raised';
      record.error = { type: outcome.type, message: outcome.message, ...(outcome.traceback ? { traceback: outcome.traceback } : {}) };
    }
    this.sink.finished(record);
  }

  cancel(record: CallRecord): void {
    if (record.status !== 'pending') return;
    record.status = 'cancelled';
    record.durationUs = this.nowUs() - record.startedUs;
    this.sink.finished(record);
  }

  /** Records of an earlier run replayed up to here: the next call continues their numbering. */
  adopt(records: readonly CallRecord[]): void {
    this.records.push(...records);
  }

  callOf(record: CallRecord, entry: RegistryEntry, mapSize?: number): ExternalCall {
    return { seq: record.seq, function: entry.name, args: record.args, kwargs: record.kwargs, entry, signal: this.signal, mapParent: record.mapParent, mapIndex: record.mapIndex, mapSize, annotate: this.annotate };
  }

  /** Resolve a call to a registered external; the outcome's value is already marshaled for Monty. */
  dispatch(entry: RegistryEntry, args: unknown[], kwargs: Record<string, unknown>, item?: MapItem): { record: CallRecord; outcome: CallOutcome | Promise<CallOutcome> } {
    const record = this.begin(entry.name, args, kwargs, item);
    const r = this.chain.resolve(this.callOf(record, entry, item?.size));
    const outcome = isThenable(r) ? Promise.resolve(r).then(o => this.settle(record, o)) : this.settle(record, r);
    return { record, outcome };
  }

  /** Validate an outcome (IO handles in a returned value) and finish the record with it. */
  settle(record: CallRecord, outcome: CallOutcome | undefined): CallOutcome {
    if (!outcome) {
      this.cancel(record);
      throw new RunFailure({
        type: 'NoResultError',
        message: `no stub, cassette or forward for ${record.function}()`,
        origin: 'unresolved',
        frames: [],
        call: record.seq,
        hint: `give it a result: a stub such as {"${record.function}": {"value": ...}}, a cassette to replay, or forward it to Python`,
      });
    }
    if (outcome.kind === 'return') {
      try {
        const value = hostResultToMonty(outcome.value, `result of ${record.function}()`);
        if (value !== outcome.value) outcome = { kind: 'return', value, source: outcome.source, ...(outcome.ref ? { ref: outcome.ref } : {}) };
      } catch (e) {
        if (!(e instanceof IoValidationError)) throw e;
        this.finish(record, { kind: 'raise', type: e.typeName, message: e.message, source: outcome.source });
        throw new RunFailure({ type: e.typeName, message: e.message, origin: 'marshal', frames: [], call: record.seq, hint: `the ${outcome.source} result for ${record.function}() holds a malformed ${e.kind} at ${e.path}: Flyte could not build it (${e.field}: ${e.problem})` });
      }
    }
    this.finish(record, outcome);
    return outcome;
  }
}
