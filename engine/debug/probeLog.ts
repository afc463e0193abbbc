/**
 * Every statement the instrumented run has been seen to start, by its
 * count: which site, which frame at which depth, how many calls and how
 * much output came before. A run is a pure function of its inputs and call
 * results, so these facts hold for every replay of the same run: the log
 * outlives the runs that filled it, and stepping back by line looks here.
 */
import type { ProbeHit } from '../instrument/probes.ts';

export interface LoggedStatement {
  count: number;
  site: number;
  frame: number;
  depth: number;
  callsBefore: number;
  stdoutLength: number;
}

const FIELDS = 5;
/** 20 bytes a statement: a few million statements before the oldest are dropped. */
const MAX_STATEMENTS = 4_000_000;

export class ProbeLog {
  private data = new Int32Array(FIELDS * 1024);
  /** Statement counts at or below this are forgotten (the log is capped). */
  private floor = 0;
  private known = new Uint8Array(1024);
  private highest = 0;

  /** `repeat`: a loop header probed again with no statement of its frame in between (not a place to stop). */
  record(hit: ProbeHit, repeat = false): void {
    let i = hit.count - this.floor;
    if (i <= 0) return;
    if (i >= MAX_STATEMENTS) {
      this.dropOldest(hit.count - Math.floor(MAX_STATEMENTS / 2));
      i = hit.count - this.floor;
    }
    if (i >= this.known.length) this.grow(i + 1);
    const o = i * FIELDS;
    this.data[o] = hit.site;
    this.data[o + 1] = hit.frame;
    this.data[o + 2] = hit.depth;
    this.data[o + 3] = hit.callsBefore;
    this.data[o + 4] = hit.stdoutLength;
    this.known[i] = repeat ? 2 : 1;
    if (hit.count > this.highest) this.highest = hit.count;
  }

  get(count: number): LoggedStatement | undefined {
    const i = count - this.floor;
    if (i <= 0 || i >= this.known.length || !this.known[i]) return undefined;
    const o = i * FIELDS;
    return { count, site: this.data[o]!, frame: this.data[o + 1]!, depth: this.data[o + 2]!, callsBefore: this.data[o + 3]!, stdoutLength: this.data[o + 4]! };
  }

  /** Whether every statement from `from` to `count` is known. */
  complete(count: number, from = 1): boolean {
    if (this.floor >= from) return false;
    for (let c = from; c <= count; c++) if (!this.known[c - this.floor]) return false;
    return true;
  }

  /** Walk back from `count` (exclusive) to the first statement (not a repeated loop header) that satisfies `test`. */
  findBefore(count: number, test: (s: LoggedStatement) => boolean, from = this.floor + 1): LoggedStatement | undefined {
    for (let c = count - 1; c > this.floor && c >= from; c--) {
      if (this.known[c - this.floor] !== 1) continue;
      const s = this.get(c);
      if (s && test(s)) return s;
    }
    return undefined;
  }

  /** The first statement (from 1) that satisfies `test`. */
  findFirst(test: (s: LoggedStatement) => boolean, before = this.highest + 1): LoggedStatement | undefined {
    for (let c = this.floor + 1; c < before; c++) {
      if (this.known[c - this.floor] !== 1) continue;
      const s = this.get(c);
      if (s && test(s)) return s;
    }
    return undefined;
  }

  /** Forget everything after `count` (the run changes from there: a local was set). */
  truncateAfter(count: number): void {
    const from = Math.max(1, count + 1 - this.floor);
    if (from < this.known.length) this.known.fill(0, from);
    this.highest = Math.min(this.highest, count);
  }

  private grow(min: number): void {
    let size = this.known.length;
    while (size < min) size *= 2;
    const known = new Uint8Array(size);
    known.set(this.known);
    const data = new Int32Array(FIELDS * size);
    data.set(this.data);
    this.known = known;
    this.data = data;
  }

  /** Keep statements from `newFloor + 1` on: stepping back further replays from the start again. */
  private dropOldest(newFloor: number): void {
    const shift = newFloor - this.floor;
    if (shift <= 0) return;
    this.known.copyWithin(0, Math.min(shift, this.known.length));
    this.known.fill(0, Math.max(0, this.known.length - shift));
    this.data.copyWithin(0, Math.min(shift * FIELDS, this.data.length));
    this.floor = newFloor;
  }
}
