/**
 * Time travel: any earlier position (a call, or a statement) is reached
 * again by replaying the recorded call results into a fresh run, because a
 * run is a pure function of its code, inputs and call results.
 */
import { NEVER } from '../instrument/probes.ts';
import { type CallOutcome, type CallRecord, type ExternalCall } from '../run/outcome.ts';
import { type History } from '../run/sandboxRun.ts';
import { MAIN_THREAD, type StopReason, type StoppedInfo } from './api.ts';
import { type StepRequest } from './lineStops.ts';

export type { Forwarder, RuntimeHooks } from './launchSetup.ts';
import { type Position } from './runtimeShared.ts';
import { RuntimeCalls } from './runtimeCalls.ts';

export abstract class RuntimeTravel extends RuntimeCalls {
  // ── time travel ──────────────────────────────────────────────────────

  /** The seq the client is looking at: the pending call of the thread, or one past the last call. */
  protected currentSeq(threadId: number): number {
    const p = this.pendings.get(threadId) ?? this.pendings.get(MAIN_THREAD) ?? [...this.pendings.values()][0];
    if (p) return p.call.seq;
    if (this.state === 'entry') return 0;
    return (this.run?.calls.length ?? 0) + 1;
  }

  async stepBack(threadId: number): Promise<void> {
    const hit = this.lineStop?.hit;
    if (hit && this.lines && threadId === MAIN_THREAD) {
      const test = (s: { frame: number; depth: number }) => s.frame === hit.frame || s.depth < hit.depth;
      // Usually a few statements back: first from the nearest checkpoint, then from the start.
      const near = this.checkpointBefore(hit.count, hit.callsBefore);
      let target;
      if (near > 0) {
        await this.ensureLogged(hit.count, near);
        target = this.lines.log.findBefore(hit.count, test, near);
      }
      if (!target) {
        await this.ensureLogged(hit.count);
        target = this.lines.log.findBefore(hit.count, test);
      }
      if (!target) {
        this.rewindToEntry();
        return;
      }
      this.restartAt({ kind: 'line', count: target.count, callsBefore: target.callsBefore, stdoutLength: target.stdoutLength }, { reason: 'step' });
      return;
    }
    const target = this.currentSeq(threadId) - 1;
    if (target < 1) {
      this.rewindToEntry();
      return;
    }
    this.rewind(target, 'step');
  }

  async reverseContinue(threadId: number): Promise<void> {
    const calls = this.run?.calls ?? [];
    let best: Position | undefined;
    for (let seq = this.currentSeq(threadId) - 1; seq >= 1 && !best; seq--) {
      const r = calls[seq - 1];
      if (!r) continue;
      const call = { seq: r.seq, function: r.function, args: r.args, kwargs: r.kwargs, mapParent: r.mapParent, mapIndex: r.mapIndex } as ExternalCall;
      if (this.stopHistory.has(seq) || this.breakpoints.matchesHistory(call, this.scope(r))) best = { kind: 'call', seq };
    }
    const hit = this.lineStop?.hit;
    const from = hit?.count ?? this.currentFrames()?.count ?? 0;
    if (this.lines && (this.lineHistory.size || this.breakpoints.hasLineBreakpoints)) {
      await this.ensureLogged(from);
      const line = this.lines.log.findBefore(from, s => this.lineHistory.has(s.count) || (this.breakpoints.onSite(s.site) && !this.breakpoints.conditionalOn(s.site)));
      // The later of the two: a statement is after call #k when k calls came before it.
      if (line && (!best || best.kind !== 'call' || line.callsBefore >= best.seq)) best = { kind: 'line', count: line.count, callsBefore: line.callsBefore, stdoutLength: line.stdoutLength };
    }
    if (!best) {
      this.rewindToEntry();
      return;
    }
    if (best.kind === 'call') this.rewind(best.seq, 'breakpoint');
    else this.restartAt(best, { reason: 'breakpoint' });
  }

  async restartFrame(threadId: number, frameId?: number): Promise<void> {
    const entry = frameId !== undefined ? this.views.get(threadId)?.[frameId - threadId * 1000] : undefined;
    const frame = entry?.frame;
    if (frame && this.lines && frame.frame >= 0) {
      const now = this.lineStop?.hit?.count ?? this.currentFrames()?.count ?? 0;
      await this.ensureLogged(now);
      const first = this.lines.log.findFirst(s => s.frame === frame.frame, now + 1);
      if (first) {
        this.restartAt({ kind: 'line', count: first.count, callsBefore: first.callsBefore, stdoutLength: first.stdoutLength }, { reason: 'goto' });
        return;
      }
    }
    const seq = this.currentSeq(threadId);
    if (seq < 1 || seq > (this.run?.calls.length ?? 0)) throw new Error('no pending call to run again from');
    this.rewind(seq, 'goto');
  }

  async rewindTo(seq: number): Promise<void> {
    const calls = this.run?.calls ?? [];
    if (!Number.isInteger(seq) || seq < 1 || seq > calls.length) throw new Error(`no call #${seq}: this run has made ${calls.length} call${calls.length === 1 ? '' : 's'}`);
    this.rewind(seq, 'goto');
  }

  /**
   * A fresh runtime taking over from one whose child was killed while the
   * sandbox spun without an external call: replay what that run recorded,
   * then pause inside the loop it was spinning in (the run is deterministic,
   * so this is where it was). Call after launch and the breakpoints, instead
   * of configurationDone.
   */
  async resumeSpinning(records: CallRecord[], stdout: string, seconds: number): Promise<void> {
    const why = `paused: the sandbox had been running Python code for ${seconds} s without an external call; replayed to the loop it was in, stopped at its first repeat (the iteration it had reached is not known)`;
    if (!this.lines) {
      this.pauseRequested = true;
      this.emit('output', { category: 'console', text: `${why}; the run is not instrumented, so it pauses at the next external call\n` });
    } else this.lines.pauseInLoop = { seen: new Set(), description: why };
    const until = records.length + 1;
    this.startRun({ records, stdout, until, stdoutOffset: stdout.length }, 0);
  }

  /** The statement count of the nearest checkpoint before `count` (after at most `callsBefore` calls), or 0. */
  protected checkpointBefore(count: number, callsBefore: number): number {
    if (!this.code || !this.lines) return 0;
    return this.checkpoints.best(this.code.code, count, callsBefore, this.lines.sets)?.count ?? 0;
  }

  /**
   * Make sure the log knows every statement up to `count` (from `from`, a
   * checkpoint's count, or from the start): if not, replay silently to here
   * with every probe from there calling in.
   */
  protected async ensureLogged(count: number, from?: number): Promise<void> {
    const lines = this.lines!;
    // the checkpoint's own statement is not needed (nor logged again: it only resumes the copy)
    if (lines.log.complete(count, from === undefined ? 1 : from + 1)) return;
    const gateFrom = from === undefined ? 0 : from + 1;
    const hit = this.lineStop?.hit;
    const p = this.pendings.get(MAIN_THREAD);
    if (hit) {
      const now = lines.log.get(hit.count)!;
      this.restartAt({ kind: 'line', count: hit.count, callsBefore: now.callsBefore, stdoutLength: now.stdoutLength }, { reason: this.lineStop!.stop.reason, silent: true, gateFrom, floor: count, log: true, stop: this.lineStop!.stop });
    } else if (p && p.call.mapIndex === undefined) {
      this.restartAt({ kind: 'call', seq: p.call.seq }, { reason: p.stop.reason, silent: true, gateFrom, floor: count + 1, log: true, stop: p.stop });
    } else return;
    await this.nextStop();
    lines.logging = false;
  }

  protected abandonRun(silent = false): { records: CallRecord[]; stdout: string } {
    const records = [...(this.run?.calls ?? [])];
    const stdout = this.run?.stdout ?? '';
    this.runId++;
    this.run?.stop();
    for (const p of [...this.pendings.values()]) p.settle(undefined);
    this.pendings.clear();
    this.lineStop?.settle(null);
    if (!silent) for (const t of this.shownThreads) this.emit('thread', { reason: 'exited', threadId: t });
    this.shownThreads.clear();
    this.stepping = undefined;
    this.pauseRequested = false;
    return { records, stdout };
  }

  protected rewindToEntry(): void {
    this.abandonRun();
    this.lines?.dropSetsFrom(0);
    this.emit('rewound', { seq: 1 });
    this.stopAtEntry('step');
  }

  protected rewind(target: number, reason: StopReason): void {
    this.restartAt({ kind: 'call', seq: target }, { reason });
  }

  /**
   * Replay to a position: a call (paused there again, or answered at once
   * with `release`), or a statement (stopped before it). `silent`: the
   * client is not told (the position is the one it already sees).
   */
  protected restartAt(to: Position, opts: { reason: StopReason; silent?: boolean; gateFrom?: number; floor?: number; log?: boolean; release?: { outcome?: CallOutcome }; releaseBreakpoint?: boolean; keepStep?: StepRequest; stop?: StoppedInfo }): void {
    const { records, stdout } = this.abandonRun(opts.silent);
    this.silentStop = opts.silent ?? false;
    if (this.lines) {
      this.lines.step = opts.keepStep;
      this.lines.stopAt = undefined;
      this.lines.pauseRequested = false;
      this.lines.logging = opts.log ?? false;
    }
    let history: History;
    if (to.kind === 'call') {
      const rec = records[to.seq - 1];
      const until = rec ? rec.mapParent ?? rec.seq : to.seq;
      this.replayItems = new Map(records.filter(r => r.mapParent !== undefined && r.seq < to.seq).map(r => [r.seq, r]));
      this.skipGate = rec?.mapParent;
      if (opts.release) this.release = { seq: to.seq, ...(opts.release.outcome ? { outcome: opts.release.outcome } : {}) };
      else if (opts.releaseBreakpoint) this.release = { seq: -1 };
      else this.stopAt = { seq: to.seq, reason: opts.reason };
      history = { records: records.slice(0, until - 1), stdout, until };
      if (this.lines) this.lines.dropSetsFrom(NEVER);
    } else {
      this.replayItems = new Map();
      this.skipGate = undefined;
      this.lines!.stopAt = { count: to.count, reason: opts.reason };
      this.lines!.dropSetsFrom(to.count + 1);
      history = { records: records.slice(0, to.callsBefore), stdout, until: to.callsBefore + 1, stdoutOffset: to.stdoutLength };
    }
    // Copies taken after calls that may now be answered differently are of another run; the nearest earlier one is the start.
    this.checkpoints.dropFromCall(history.until);
    if (this.code && this.lines) {
      const before = Math.min(to.kind === 'line' ? to.count : NEVER, opts.gateFrom ?? NEVER);
      const checkpoint = this.checkpoints.best(this.code.code, before, history.until - 1, this.lines.sets);
      if (checkpoint) history.checkpoint = checkpoint;
    }
    if (!opts.silent) this.emit('rewound', { seq: history.until });
    this.startRun(history, opts.gateFrom ?? 0, opts.floor ?? opts.gateFrom ?? 0);
  }

}
