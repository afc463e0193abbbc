/**
 * Call records by seq, the latest version of each: what a client process
 * keeps of a run (the DAP session's call history, the runtime mirror). Seqs
 * count from 1 without gaps, so an array indexed by seq holds them: a run of
 * a million calls sets a million of them, which a Map, rehashing as it
 * grows, makes several times slower.
 */
import type { CallRecord } from '../run/outcome.ts';

export class CallsBySeq {
  private readonly bySeq: (CallRecord | undefined)[] = [];
  private count = 0;

  /** Adds the call, or replaces the version of it already held. */
  set(r: CallRecord): void {
    if (this.bySeq[r.seq] === undefined) this.count++;
    this.bySeq[r.seq] = r;
  }

  get(seq: number): CallRecord | undefined {
    return this.bySeq[seq];
  }

  /** Forgets every call from `seq` on (the run was rewound to it). */
  dropFrom(seq: number): void {
    const from = Math.max(0, Math.ceil(seq));
    for (let i = from; i < this.bySeq.length; i++) if (this.bySeq[i] !== undefined) this.count--;
    if (from < this.bySeq.length) this.bySeq.length = from;
  }

  get size(): number {
    return this.count;
  }

  /** Every call held, in seq order. */
  values(): CallRecord[] {
    const out: CallRecord[] = [];
    for (const r of this.bySeq) if (r !== undefined) out.push(r);
    return out;
  }
}
