/**
 * The host's side of the instrumented code's two hidden calls: a probe hit
 * (a statement about to run, once the gate is open) and a frame report
 * (a frame's bound locals, sent while an exception unwinds through it).
 * Also the one way to read the locals of a paused run: raise into a
 * throw-away copy of its snapshot and collect the reports.
 */
import { MontyComplete, MontyNameLookup, MontyRuntimeError, MontySnapshot } from '@pydantic/monty';
import { PROBE_FN, REPORT_FN, type Instrumented } from './instrument.ts';

export interface ProbeHit {
  site: number;
  /** Statements started so far, this one included: a position in the run. */
  count: number;
  /** Unique per function call (0: the module body). */
  frame: number;
  /** 0 at module level, 1 in the task's function, +1 per nested call. */
  depth: number;
  /** Data breakpoints: the watched locals bound at this point. */
  watched?: Map<string, unknown>;
  /** Calls recorded before this statement (the next call's seq is callsBefore + 1). */
  callsBefore: number;
  stdoutLength: number;
  /** Inside the silent replay of recorded calls: the host must answer at once. */
  replaying: boolean;
}

export interface FrameReport {
  fn: number;
  site: number;
  frame: number;
  depth: number;
  locals: Map<string, unknown>;
}

/** What a probe answers: nothing, or a new gate (and locals to assign at this statement). */
export type ProbeAnswer = null | [gate: number, sets?: Map<string, unknown>];

export interface Instrumentation {
  code: Instrumented;
  /** The first statement count that calls the host. */
  gate: number;
  probe(hit: ProbeHit): ProbeAnswer | Promise<ProbeAnswer>;
  /** A frame reported its locals during a real exception's unwinding (post-mortem). */
  report?(r: FrameReport): void;
}

export const NEVER = Number.MAX_SAFE_INTEGER;

export function probeHit(snapshot: MontySnapshot, callsBefore: number, stdoutLength: number, replaying: boolean): ProbeHit {
  const [site, count, frame, depth, watched] = snapshot.args as [number, number, number, number, Map<string, unknown> | undefined];
  return { site, count, frame, depth, ...(watched instanceof Map ? { watched } : {}), callsBefore, stdoutLength, replaying };
}

export function frameReport(snapshot: MontySnapshot): FrameReport {
  const [fn, site, frame, depth, locals] = snapshot.args as [number, number, number, number, Map<string, unknown>];
  return { fn, site, frame, depth, locals: locals instanceof Map ? locals : new Map() };
}

export function isInternal(name: string): boolean {
  return name.startsWith(PROBE_FN) || name.startsWith(REPORT_FN);
}

export function isProbe(name: string): boolean {
  return name.startsWith(PROBE_FN);
}

export function isReport(name: string): boolean {
  return name.startsWith(REPORT_FN);
}

const REPORT_STEPS = 10_000;

export interface FrameLocals {
  reports: FrameReport[];
  /** Set when a frame could not report (user code caught the debugger's exception, or ran on). */
  incomplete?: string;
}

/**
 * Every frame's locals at a paused snapshot, innermost first. A copy of the
 * snapshot is resumed with an exception that unwinds every frame (each
 * reports on the way), then thrown away: the real run is not touched, and
 * no external call of the copy is ever made.
 */
export function readLocals(snapshot: MontySnapshot): FrameLocals {
  const reports: FrameReport[] = [];
  let p: MontySnapshot | MontyNameLookup | MontyComplete;
  try {
    p = MontySnapshot.load(snapshot.dump(), { printCallback: () => undefined }).resume({ exception: { type: 'KeyboardInterrupt', message: 'flyte-sandbox debugger: reading locals' } });
    for (let steps = 0; steps < REPORT_STEPS; steps++) {
      if (p instanceof MontyComplete) return { reports, incomplete: 'the task caught the debugger\'s probe (a bare `except:` or `except BaseException`) and ran on: outer frames could not report' };
      if (p instanceof MontyNameLookup) {
        p = p.resume();
        continue;
      }
      if (isReport(p.functionName)) {
        reports.push(frameReport(p));
        p = p.resume({ returnValue: null });
        continue;
      }
      if (isProbe(p.functionName)) {
        // A `finally:` block runs during the unwinding; its statements are not stops.
        p = p.resume({ returnValue: null });
        continue;
      }
      return { reports, incomplete: `the task's code calls ${p.functionName}() while the debugger's probe unwinds it (an except/finally block): outer frames could not report` };
    }
    return { reports, incomplete: 'the task kept running while the debugger read its locals' };
  } catch (e) {
    if (e instanceof MontyRuntimeError) return { reports };
    throw e;
  }
}
