/**
 * Stops between statements: what to do at each probe of the instrumented
 * run (a line breakpoint, a step by line, a data breakpoint, a pause, a
 * time-travel target, or nothing), and the assignments to locals the user
 * made (setVariable, beyond production), which are part of the run's
 * history like call results are.
 */
import type { InstrumentOptions, Site } from '../instrument/instrument.ts';
import { NEVER, type ProbeAnswer, type ProbeHit } from '../instrument/probes.ts';
import type { StopReason, StoppedInfo } from './api.ts';
import { MAIN_THREAD } from './api.ts';
import type { Breakpoints } from './breakpoints.ts';
import type { DataBreakpoints } from './dataBreakpoints.ts';
import { ProbeLog } from './probeLog.ts';
import type { EvalScope } from './pythonEval.ts';

export type StepKind = 'over' | 'in' | 'out';

export interface StepRequest {
  kind: StepKind;
  /** The frame the step started in, and its depth. */
  frame: number;
  depth: number;
}

/** An assignment made by the user at statement `count`, before it ran. */
export interface LocalSet {
  count: number;
  site: number;
  frame: number;
  values: Map<string, unknown>;
  /** Names whose value is a float (JS numbers lose that). */
  floats: string[];
}

export interface LineStopHost {
  /** Locals of the innermost frame at the current probe, for conditions and logpoints. */
  scope(): EvalScope;
  output(text: string, category: 'console' | 'stderr'): void;
  /** "line 12: total += fib(i)" */
  describe(site: Site | undefined): string;
  /** Stop here; resolves with the probe's answer when the client resumes. */
  suspend(stop: StoppedInfo, hit: ProbeHit): Promise<ProbeAnswer>;
}

export function endsStep(step: StepRequest, hit: { frame: number; depth: number }): boolean {
  switch (step.kind) {
    case 'in': return true;
    case 'over': return hit.frame === step.frame || hit.depth < step.depth;
    case 'out': return hit.depth < step.depth;
  }
}

export class LineStops {
  readonly log = new ProbeLog();
  step: StepRequest | undefined;
  stopAt: { count: number; reason: StopReason } | undefined;
  pauseRequested = false;
  /** Said with the pause's stop (how long the sandbox had been running without an external call). */
  pauseNote: string | undefined;
  /** Pause inside the loop a runaway sandbox was spinning in: at the first statement its frame starts a second time. */
  pauseInLoop: { seen: Set<string>; description: string } | undefined;
  sets: LocalSet[] = [];
  /** This run decides nothing before this statement count (a replay to a stop seen before; probes before it only keep the log). */
  floor = 0;
  /** The gate this run asked the sandbox for last: a probe before it is only the gate being ajar (runtimeCore.ts). */
  wanted = 0;
  /** Filling the log: every statement calls in (nothing is decided before `floor`). */
  logging = false;
  /** The count of the last probe seen: a gap since then makes the loop-header repeat unknown. */
  private lastCount = 0;
  /** By depth: the frame there and the site it last started, for not stopping twice at a loop header. */
  private lastSite: { frame: number; site: number }[] = [];

  constructor(private readonly sites: readonly Site[], private readonly breakpoints: Breakpoints, readonly data: DataBreakpoints, private readonly host: LineStopHost) {}

  /** Must every statement call the host (a step, a pause, line or data breakpoints)? */
  private get continuous(): boolean {
    return this.logging || this.step !== undefined || this.pauseRequested || this.pauseInLoop !== undefined || this.breakpoints.hasLineBreakpoints || this.data.any;
  }

  /** Does anything need the probes at all? If not, the gate closes and the run goes at full speed. */
  get needsProbes(): boolean {
    return this.continuous || this.stopAt !== undefined || this.sets.length > 0;
  }

  /** The first statement count, from `from` on, that must call the host. */
  gate(from: number): number {
    const set = this.sets.find(s => s.count >= from)?.count ?? NEVER;
    const want = this.continuous ? (this.logging ? from : Math.max(from, this.floor)) : this.stopAt && this.stopAt.count >= from ? this.stopAt.count : NEVER;
    return Math.min(want, set);
  }

  variant(): InstrumentOptions {
    return { watch: this.data.watchMap(), setSites: new Set(this.sets.map(s => s.site)) };
  }

  addSet(set: LocalSet): void {
    this.sets = [...this.sets.filter(s => s.count !== set.count), set].sort((a, b) => a.count - b.count);
  }

  /** Time travel to before `count`: assignments made from there on have not happened yet. */
  dropSetsFrom(count: number): void {
    this.sets = this.sets.filter(s => s.count < count);
  }

  /** Note the gate an answer asks for (null: the sandbox keeps its gate, so the next statement calls in). */
  answered(a: ProbeAnswer): ProbeAnswer {
    this.wanted = a ? a[0] : 0;
    return a;
  }

  /** Forget what the previous run saw (a new run, or a replay, starts). */
  resetRun(): void {
    this.lastSite = [];
    this.lastCount = 0;
    this.afterSet = undefined;
    this.data.reset();
  }

  onProbe(hit: ProbeHit): ProbeAnswer | Promise<ProbeAnswer> {
    // Called in only because the gate is never shut for long: nothing to log, decide or assign here.
    if (hit.count < this.wanted) return [this.gate(hit.count + 1), null];
    // A statement with an assignment is probed twice: before (the values go in) and after (a stop shows them).
    const second = this.afterSet === hit.count;
    this.afterSet = undefined;
    let repeat = false;
    if (!second) {
      const site = this.sites[hit.site - 1];
      if (hit.count !== this.lastCount + 1) this.lastSite = [];
      this.lastCount = hit.count;
      const prior = this.lastSite[hit.depth];
      repeat = site?.loop === true && prior?.frame === hit.frame && prior.site === hit.site;
      this.lastSite[hit.depth] = { frame: hit.frame, site: hit.site };
      this.lastSite.length = hit.depth + 1;
      this.log.record(hit, repeat);
      const set = this.sets.find(s => s.count === hit.count);
      if (set) {
        this.afterSet = hit.count;
        return [this.gate(hit.count), set.values, set.floats];
      }
    }
    const next: ProbeAnswer = [this.gate(hit.count + 1), null];
    if (hit.replaying || hit.count < this.floor) return next;
    const stop = this.decide(hit, repeat);
    if (!stop) return next;
    return this.host.suspend(stop, hit);
  }

  private afterSet: number | undefined;

  private decide(hit: ProbeHit, repeat: boolean): StoppedInfo | undefined {
    const site = this.sites[hit.site - 1];
    const at = (reason: StopReason, extra: Partial<StoppedInfo> = {}): StoppedInfo => ({ reason, threadId: MAIN_THREAD, description: this.host.describe(site), ...extra });
    if (this.stopAt) {
      if (this.stopAt.count !== hit.count) return undefined;
      const reason = this.stopAt.reason;
      this.stopAt = undefined;
      return at(reason);
    }
    const change = this.data.any && hit.watched ? this.data.check(hit, () => this.host.scope()) : undefined;
    if (change) {
      this.step = undefined;
      return at('data breakpoint', { description: change.description, text: change.text, hitBreakpointIds: change.ids });
    }
    if (this.pauseInLoop) {
      const key = `${hit.frame}:${hit.site}`;
      if (this.pauseInLoop.seen.has(key)) {
        const description = `${this.pauseInLoop.description} · ${this.host.describe(site)}`;
        this.pauseInLoop = undefined;
        this.step = undefined;
        return at('pause', { description });
      }
      this.pauseInLoop.seen.add(key);
    }
    if (this.pauseRequested) {
      this.pauseRequested = false;
      this.step = undefined;
      const note = this.pauseNote;
      this.pauseNote = undefined;
      return at('pause', note ? { description: `${note} · ${this.host.describe(site)}` } : {});
    }
    if (repeat) return undefined;
    if (this.breakpoints.hasLineBreakpoints && this.breakpoints.onSite(hit.site)) {
      const h = this.breakpoints.checkStatement(hit.site, () => this.host.scope());
      for (const log of h.logs) this.host.output(log + '\n', 'console');
      for (const err of h.errors) this.host.output(err + '\n', 'stderr');
      if (h.stop.length) {
        this.step = undefined;
        return at('breakpoint', { hitBreakpointIds: h.stop });
      }
    }
    if (this.step && endsStep(this.step, hit)) {
      this.step = undefined;
      return at('step');
    }
    return undefined;
  }
}
