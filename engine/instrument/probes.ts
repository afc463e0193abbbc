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
  /** Data breakpoints: the watched locals bound at this point, and their Python type names. */
  watched?: Map<string, unknown>;
  watchedTypes?: Map<string, string>;
  /** Calls recorded before this statement (the next call's seq is callsBefore + 1). */
  callsBefore: number;
  stdoutLength: number;
  /** Inside the silent replay of recorded calls: the host must answer at once. */
  replaying: boolean;
}

export interface FrameReport {
  fn: number;
  /** The statement the frame is executing (0 before its first). */
  site: number;
  frame: number;
  depth: number;
  /** Statements started in the whole run when the report was made. */
  count: number;
  locals: Map<string, unknown>;
  /** Each local's Python type name (JS cannot tell 3.0 from 3, or a function from its repr). */
  types: Map<string, string>;
}

/**
 * What a probe answers: nothing, or a new gate and the locals to assign at
 * this statement (null: none), with the names among them that are floats
 * (a JS number cannot say so itself).
 */
export type ProbeAnswer = null | [gate: number, sets: Map<string, unknown> | null, floats?: string[]];

export interface Instrumentation {
  code: Instrumented;
  /** The first statement count that calls the host. */
  gate: number;
  probe(hit: ProbeHit): ProbeAnswer | Promise<ProbeAnswer>;
  /** A frame reported its locals during a real exception's unwinding (post-mortem). */
  report?(r: FrameReport): void;
  /** A live probe hit: the host may keep a copy of the paused run here (`dump`) to start a later replay from. */
  checkpoint?(hit: ProbeHit, dump: () => Uint8Array): void;
}

export const NEVER = Number.MAX_SAFE_INTEGER;

export function probeHit(snapshot: MontySnapshot, callsBefore: number, stdoutLength: number, replaying: boolean): ProbeHit {
  const [site, count, frame, depth, watched, types] = snapshot.args as [number, number, number, number, Map<string, unknown> | undefined, Map<string, string> | undefined];
  return { site, count, frame, depth, ...(watched instanceof Map ? { watched, watchedTypes: types instanceof Map ? types : new Map() } : {}), callsBefore, stdoutLength, replaying };
}

export function frameReport(snapshot: MontySnapshot): FrameReport {
  const [fn, site, frame, depth, count, locals, types] = snapshot.args as [number, number, number, number, number, Map<string, unknown>, Map<string, string>];
  return { fn, site, frame, depth, count, locals: locals instanceof Map ? locals : new Map(), types: types instanceof Map ? types : new Map() };
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
