/**
 * Copies of the instrumented run paused at probes (Monty snapshot dumps),
 * so that going back — a step back, a `next` from a stop whose gate was
 * closed, a restart at a statement — replays from the nearest earlier copy
 * instead of from the beginning. A run is a pure function of (code, inputs,
 * call results), so a copy taken at statement N after C calls is valid for
 * every later replay that has the same first C results, the same
 * instrumented code and the same locals set before N.
 *
 * Taken at most every `interval` ms of the run, and never more often than
 * twenty times the cost of the last dump (a big heap is copied rarely);
 * past the count or byte budget every other copy goes and the interval
 * doubles, so the copies stay spread over the whole run.
 */
import type { ProbeHit } from '../instrument/probes.ts';
import type { RunCheckpoint } from '../run/sandboxRun.ts';

export interface Checkpoint extends RunCheckpoint {
  /** The statement count of the probe it is paused at. */
  count: number;
  /** Which instrumented code it runs (a data breakpoint or a set local changes the code). */
  code: string;
  /** The locals set (by identity) before `count`, which the copy has applied. */
  sets: readonly object[];
}

const MIN_INTERVAL_MS = 10;
const MAX_COPIES = 256;
const MAX_BYTES = 64 * 1024 * 1024;

export class Checkpoints {
  private copies: Checkpoint[] = [];
  private bytes = 0;
  private lastAt = -Infinity;
  private lastCostMs = 0;
  private interval = MIN_INTERVAL_MS;

  constructor(private readonly budget = { copies: MAX_COPIES, bytes: MAX_BYTES }) {}

  get size(): number {
    return this.copies.length;
  }

  /** At a live probe hit: take a copy when it is time. */
  offer(hit: ProbeHit, dump: () => Uint8Array, code: string, sets: readonly object[], now = performance.now()): void {
    if (now - this.lastAt < Math.max(this.interval, 20 * this.lastCostMs)) return;
    if (this.copies.some(c => c.count === hit.count && c.code === code)) return;
    const t0 = performance.now();
    const bytes = dump();
    this.lastCostMs = performance.now() - t0;
    this.lastAt = now;
    const copy: Checkpoint = { dump: bytes, count: hit.count, callsBefore: hit.callsBefore, stdoutLength: hit.stdoutLength, code, sets: [...sets] };
    const i = this.copies.findIndex(c => c.count > hit.count);
    if (i < 0) this.copies.push(copy);
    else this.copies.splice(i, 0, copy);
    this.bytes += bytes.byteLength;
    while (this.copies.length > this.budget.copies || (this.bytes > this.budget.bytes && this.copies.length > 1)) this.thin();
  }

  /**
   * The latest copy a replay may start from: paused before statement
   * `beforeCount`, after at most `callsBefore` calls, running `code`, with the
   * locals set before it among `sets`.
   */
  best(code: string, beforeCount: number, callsBefore: number, sets: readonly { count: number }[]): Checkpoint | undefined {
    for (let i = this.copies.length - 1; i >= 0; i--) {
      const c = this.copies[i]!;
      if (c.count >= beforeCount || c.callsBefore > callsBefore || c.code !== code) continue;
      const applied = sets.filter(s => s.count < c.count);
      if (applied.length === c.sets.length && applied.every((s, k) => s === c.sets[k])) return c;
    }
    return undefined;
  }

  /** The results from call `seq` on may differ now: copies taken after them are of another run. */
  dropFromCall(seq: number): void {
    this.keep(c => c.callsBefore < seq);
  }

  clear(): void {
    this.keep(() => false);
    this.interval = MIN_INTERVAL_MS;
    this.lastAt = -Infinity;
  }

  private keep(test: (c: Checkpoint, i: number) => boolean): void {
    this.copies = this.copies.filter(test);
    this.bytes = this.copies.reduce((n, c) => n + c.dump.byteLength, 0);
  }

  /** Every other copy goes (the newest stays), and copies come half as often; of two, the older goes. */
  private thin(): void {
    if (this.copies.length <= 2) {
      this.keep((_, i) => i > 0);
      return;
    }
    const last = this.copies.length - 1;
    this.keep((_, i) => i % 2 === 0 || i === last);
    this.interval *= 2;
  }
}
