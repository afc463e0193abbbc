/**
 * Answering calls from a cassette. Matching rules (documented in the README):
 * - order-sensitive (modes `none`, `once`): each call must match the next
 *   recorded call (flyte_map items in item order); repeated identical calls
 *   are consumed in order;
 * - `new_episodes`: a call matches the first unused recorded call with the
 *   same function and arguments, anywhere; unmatched calls fall through.
 * - imported production runs: calls are `bound` (matched input by input
 *   after binding to the signature), and a flyte_map whose item order is
 *   unknown (`mapOrder: "unknown"`) matches each live item against any
 *   unused item of that map with equal inputs.
 * A mismatch says which part failed (function, an argument, a keyword
 * argument, the order) against the closest recorded call.
 */
import type { Cassette, CassetteCall } from '../cassette/format.ts';
import { closest, differences, signatureOf, type LiveCall, type SignatureLookup } from '../cassette/matcher.ts';
import { RunFailure } from '../run/dispatch.ts';
import type { CallOutcome, ExternalCall } from '../run/outcome.ts';
import type { Resolver } from '../run/resolvers.ts';
import { fromWire, toWire } from '../values/wire.ts';

export type ReplayMismatch = 'stop' | 'fallthrough';

/** A call the cassette cannot answer, in stop mode: the run (or the debugger) stops with the diff. */
export class CassetteMismatch extends RunFailure {
  constructor(message: string, seq: number) {
    super({ type: 'CassetteMismatch', message, origin: 'cassette', frames: [], call: seq, hint: 'the code, the inputs or an earlier result changed since the cassette was recorded; answer this call another way, or replay with replayMismatch "fallthrough" to let stubs/forwarding take the calls that do not match' });
  }
}

export interface CassetteResolverOptions {
  mismatch: ReplayMismatch;
  ordered: boolean;
  notice?: (text: string) => void;
  /** Signatures that `bound` recorded calls bind live calls to. */
  signatures?: SignatureLookup;
}

export class CassetteResolver implements Resolver {
  readonly source = 'cassette' as const;
  private readonly queue: CassetteCall[];
  private readonly used: boolean[];
  /** flyte_map records whose items are stored in created_at order, not index order. */
  private readonly unordered: Set<number>;
  private next = 0;

  constructor(readonly cassette: Cassette, private readonly options: CassetteResolverOptions) {
    this.queue = cassette.calls.filter(c => c.function !== 'flyte_map' || c.mapParent !== undefined);
    this.used = this.queue.map(() => false);
    this.unordered = new Set(cassette.calls.filter(c => c.function === 'flyte_map' && c.mapOrder === 'unknown').map(c => c.seq));
  }

  /** Recorded calls not replayed yet. */
  get remaining(): number {
    return this.used.filter(u => !u).length;
  }

  private matches(live: LiveCall, c: CassetteCall): boolean {
    return differences(live, c, this.options.signatures).length === 0;
  }

  resolve(call: ExternalCall): CallOutcome | undefined {
    const live: LiveCall = { function: call.function, args: toWire(call.args), kwargs: toWire(call.kwargs) };
    const index = this.options.ordered ? this.nextMatch(live, call.mapParent !== undefined) : this.queue.findIndex((c, i) => !this.used[i] && this.matches(live, c));
    if (index >= 0) {
      this.used[index] = true;
      return outcomeOf(this.queue[index]!);
    }
    const message = this.explain(live, call.seq);
    if (this.options.mismatch === 'fallthrough') {
      this.options.notice?.(`cassette: ${message} (falling through to stubs/forwarding)`);
      return undefined;
    }
    throw new CassetteMismatch(message, call.seq);
  }

  private nextMatch(live: LiveCall, isItem: boolean): number {
    while (this.next < this.queue.length && this.used[this.next]) this.next++;
    const expected = this.queue[this.next];
    if (!expected) return -1;
    if (isItem && expected.mapParent !== undefined && this.unordered.has(expected.mapParent)) {
      // No index is stored: any unused item of this map with the same inputs (duplicates are interchangeable).
      for (let i = this.next; i < this.queue.length && this.queue[i]!.mapParent === expected.mapParent; i++) {
        if (!this.used[i] && this.matches(live, this.queue[i]!)) return i;
      }
      return -1;
    }
    return this.matches(live, expected) ? this.next++ : -1;
  }

  private explain(live: LiveCall, seq: number): string {
    const unused = this.queue.filter((_, i) => !this.used[i]);
    if (!unused.length) {
      const production = this.cassette.production;
      const stillRunning = production && this.cassette.status === 'incomplete' ? `; production run ${production.run} was still ${production.phase} when it was imported, so the calls after these are missing` : '';
      return `call #${seq} ${signatureOf(live)} was not recorded: the cassette's ${this.queue.length} calls are all used${stillRunning}`;
    }
    const expected = this.options.ordered ? this.queue[this.next] : undefined;
    const exactElsewhere = unused.find(c => this.matches(live, c));
    if (expected && exactElsewhere) {
      return `order: call #${seq} ${signatureOf(live)} was recorded as call #${exactElsewhere.seq}, but the next recorded call is #${expected.seq} ${signatureOf(expected)}`;
    }
    const near = closest(live, expected ? [expected, ...unused] : unused, this.options.signatures)!;
    const parts = differences(live, near, this.options.signatures);
    return `call #${seq} ${signatureOf(live)} does not match recorded call #${near.seq} ${signatureOf(near)}:\n  ${parts.join('\n  ')}`;
  }
}

function outcomeOf(c: CassetteCall): CallOutcome {
  const ref = c.ref ? { ref: c.ref } : {};
  if (c.error) return { kind: 'raise', type: c.error.type, message: c.error.message, ...(c.error.traceback ? { traceback: c.error.traceback } : {}), source: 'cassette', ...ref };
  return { kind: 'return', value: fromWire(c.result ?? null), source: 'cassette', ...ref };
}
