/**
 * A run's `--json` document, built while the run goes: each call is
 * formatted as it finishes, in seq order, into buffers (a flyte_map finishes
 * after its items: they wait for it), so the CLI keeps no object per call and
 * its memory stays flat at any run length. At the end the head (status,
 * output, error), the calls and the tail are written, byte for byte the
 * document `writeRunJson` gives.
 */
import type { CallRecord, RunResult } from '../engine/index.ts';
import { callJson, runJsonHead, runJsonTail } from './format.ts';
import { Spool, type Stdout } from './output.ts';

export class RunDocument {
  private readonly calls = new Spool();
  private count = 0;
  private next = 1;
  /** Finished before a call that came earlier. */
  private readonly early = new Map<number, CallRecord>();
  /** Started, not finished (all finish, cancelled if need be, unless the run is cut short). */
  private readonly open = new Map<number, CallRecord>();

  /** A call seen for the first time ('call'). */
  started(r: CallRecord): void {
    if (r.status === 'pending') this.open.set(r.seq, r);
  }

  /** A call finished ('result'). */
  finished(r: CallRecord): void {
    this.open.delete(r.seq);
    if (r.seq !== this.next) {
      this.early.set(r.seq, r);
      return;
    }
    this.append(r);
    for (let e = this.early.get(this.next); e; e = this.early.get(this.next)) {
      this.early.delete(e.seq);
      this.append(e);
    }
  }

  private append(r: CallRecord): void {
    this.calls.write((this.count++ ? ',\n' : '') + callJson(r));
    this.next = r.seq + 1;
  }

  write(result: RunResult, out: Stdout, profile?: Map<string, unknown>): void {
    // a run cut short: what never finished, and what came after a call never sent, in seq order
    for (const r of [...this.early.values(), ...this.open.values()].sort((a, b) => a.seq - b.seq)) this.append(r);
    this.early.clear();
    this.open.clear();
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
