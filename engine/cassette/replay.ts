/**
 * Answering calls from a cassette. Matching rules (documented in the README):
 * - order-sensitive (modes `none`, `once`): each call must match the next
 *   recorded call (flyte_map items in item order); repeated identical calls
 *   are consumed in order;
 * - `new_episodes`: a call matches the first unused recorded call with the
 *   same function and arguments, anywhere; unmatched calls fall through.
 * A mismatch says which part failed (function, an argument, a keyword
 * argument, the order) against the closest recorded call.
 */
import { RunFailure } from '../run/dispatch.ts';
import type { CallOutcome, ExternalCall } from '../run/outcome.ts';
import type { Resolver } from '../run/resolvers.ts';
import { fromWire, toWire } from '../values/wire.ts';
import type { Cassette, CassetteCall } from './format.ts';
import { closest, differences, signatureOf, type LiveCall } from './matcher.ts';
import { redactedParts } from './redact.ts';

export type ReplayMismatch = 'stop' | 'fallthrough';

/** A call the cassette cannot answer, in stop mode: the run (or the debugger) stops with the diff. */
export class CassetteMismatch extends RunFailure {
  constructor(message: string, seq: number) {
    super({ type: 'CassetteMismatch', message, origin: 'cassette', frames: [], call: seq, hint: 'the code, the inputs or an earlier result changed since the cassette was recorded; answer this call another way, or replay with replayMismatch "fallthrough" to let stubs/forwarding take the calls that do not match' });
  }
}

export class CassetteResolver implements Resolver {
  readonly source = 'cassette' as const;
  private readonly queue: CassetteCall[];
  private readonly used: boolean[];
  private next = 0;

  constructor(readonly cassette: Cassette, private readonly options: { mismatch: ReplayMismatch; ordered: boolean; notice?: (text: string) => void }) {
    this.queue = cassette.calls.filter(c => c.function !== 'flyte_map' || c.mapParent !== undefined);
    this.used = this.queue.map(() => false);
  }

  /** Recorded calls not replayed yet. */
  get remaining(): number {
    return this.used.filter(u => !u).length;
  }

  resolve(call: ExternalCall): CallOutcome | undefined {
    const live: LiveCall = { function: call.function, args: toWire(call.args), kwargs: toWire(call.kwargs) };
    const index = this.options.ordered ? this.nextMatch(live) : this.queue.findIndex((c, i) => !this.used[i] && differences(live, c).length === 0);
    if (index >= 0) {
      this.used[index] = true;
      const recorded = this.queue[index]!;
      const hidden = redactedParts(recorded.result);
      if (!hidden.length) return outcomeOf(recorded);
      // Replaying {"$redacted": true} as the result would hand the sandbox a value production never returns.
      const message = `call #${call.seq} ${signatureOf(live)} matches recorded call #${recorded.seq}, but its result was redacted${hidden[0] === '(the whole value)' ? '' : ` (${hidden.join(', ')})`}: answer it with a stub or by forwarding`;
      if (this.options.mismatch === 'fallthrough') {
        this.options.notice?.(`cassette: ${message} (falling through to stubs/forwarding)`);
        return undefined;
      }
      throw new CassetteMismatch(message, call.seq);
    }
    const message = this.explain(live, call.seq);
    if (this.options.mismatch === 'fallthrough') {
      this.options.notice?.(`cassette: ${message} (falling through to stubs/forwarding)`);
      return undefined;
    }
    throw new CassetteMismatch(message, call.seq);
  }

  private nextMatch(live: LiveCall): number {
    while (this.next < this.queue.length && this.used[this.next]) this.next++;
    if (this.next < this.queue.length && differences(live, this.queue[this.next]!).length === 0) return this.next++;
    return -1;
  }

  private explain(live: LiveCall, seq: number): string {
    const unused = this.queue.filter((_, i) => !this.used[i]);
    if (!unused.length) return `call #${seq} ${signatureOf(live)} was not recorded: the cassette's ${this.queue.length} calls are all used`;
    const expected = this.options.ordered ? this.queue[this.next] : undefined;
    const exactElsewhere = unused.find(c => differences(live, c).length === 0);
    if (expected && exactElsewhere) {
      return `order: call #${seq} ${signatureOf(live)} was recorded as call #${exactElsewhere.seq}, but the next recorded call is #${expected.seq} ${signatureOf(expected)}`;
    }
    const near = closest(live, expected ? [expected, ...unused] : unused)!;
    const parts = differences(live, near);
    return `call #${seq} ${signatureOf(live)} does not match recorded call #${near.seq} ${signatureOf(near)}:\n  ${parts.join('\n  ')}`;
  }
}

function outcomeOf(c: CassetteCall): CallOutcome {
  if (c.error) return { kind: 'raise', type: c.error.type, message: c.error.message, ...(c.error.traceback ? { traceback: c.error.traceback } : {}), source: 'cassette' };
  return { kind: 'return', value: fromWire(c.result ?? null), source: 'cassette' };
}
