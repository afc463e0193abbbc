/**
 * A run's `--json` document, built while the run goes: each call is
 * formatted as it finishes, in seq order, into buffers, so the CLI keeps no
 * object per call and its memory stays flat at any run length. A flyte_map
 * finishes after its items: they are formatted as they come into a buffer of
 * their own, which joins the document after the map. At the end the head
 * (status, output, error), the calls and the tail are written, byte for byte
 * the document `writeRunJson` gives.
 */
import type { CallRecord, RunResult } from '../engine/index.ts';
import { callJson, runJsonHead, runJsonTail } from './format.ts';
import { Spool, type Stdout } from './output.ts';

export class RunDocument {
  private readonly calls = new Spool();
  private count = 0;
  private next = 1;
  /** Consecutive calls finished while an earlier one is still pending (a flyte_map's items), formatted: [start, end). */
  private ahead: { start: number; end: number; spool: Spool } | undefined;
  /** Finished out of any such order. */
  private readonly early = new Map<number, CallRecord>();
  /** Started, not finished (all finish, cancelled if need be, unless the run is cut short). */
  private readonly open = new Map<number, CallRecord>();

  /** A call seen for the first time ('call'). */
  started(r: CallRecord): void {
    if (r.status === 'pending') this.open.set(r.seq, r);
  }

  /** A call finished ('result'). */
  finished(r: CallRecord): void {
    if (this.open.size) this.open.delete(r.seq);
    if (r.seq === this.next) {
      this.append(r);
      this.drain();
    } else if (this.ahead && r.seq === this.ahead.end) {
      // never first in the document: the call at `next` comes before it
      this.ahead.spool.write(',\n' + callJson(r));
      this.ahead.end++;
    } else if (!this.ahead && r.seq > this.next) {
      this.ahead = { start: r.seq, end: r.seq + 1, spool: new Spool() };
      this.ahead.spool.write(',\n' + callJson(r));
    } else this.early.set(r.seq, r);
  }

  private append(r: CallRecord): void {
    this.calls.write((this.count++ ? ',\n' : '') + callJson(r));
    this.next = r.seq + 1;
  }

  private drain(): void {
    for (;;) {
      const e = this.early.get(this.next);
      if (e) {
        this.early.delete(e.seq);
        this.append(e);
      } else if (this.ahead?.start === this.next) {
        this.calls.append(this.ahead.spool);
        this.count += this.ahead.end - this.ahead.start;
        this.next = this.ahead.end;
        this.ahead = undefined;
      } else return;
    }
  }

  /** The calls formatted ahead go in where they belong, whatever is missing before them. */
  private finishAhead(): void {
    const a = this.ahead!;
    this.ahead = undefined;
    if (!this.count) {
      // the first calls of the document never came: its first entry must not begin with a comma
      const first = Buffer.concat(a.spool.chunks());
      const comma = first.indexOf(',\n');
      const rest = new Spool();
      rest.write(first.subarray(comma + 2).toString('utf8'));
      this.calls.append(rest);
    } else this.calls.append(a.spool);
    this.count += a.end - a.start;
    this.next = a.end;
  }

  write(result: RunResult, out: Stdout, profile?: Map<string, unknown>): void {
    // a run cut short: what never finished, and what came after a call never sent, in seq order
    const rest = [...this.early.values(), ...this.open.values()].sort((a, b) => a.seq - b.seq);
    this.early.clear();
    this.open.clear();
    for (const r of rest) {
      if (this.ahead && r.seq > this.ahead.start) this.finishAhead();
      this.append(r);
    }
    if (this.ahead) this.finishAhead();
    out.write(runJsonHead(result));
    if (!this.count) out.write('[]');
    else {
      out.write('[\n');
      for (const chunk of this.calls.chunks()) out.writeBytes(chunk);
      out.write('\n  ]');
    }
    out.write(runJsonTail(result, profile));
  }
}
