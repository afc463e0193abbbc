/**
 * The sandbox's own frames at a stop, with their locals: built from the
 * reports every frame of the instrumented code makes while the debugger's
 * exception unwinds a throw-away copy of the paused snapshot (or, after an
 * uncaught exception, from the reports the real failure made on its way
 * out). Innermost first, as DAP lists frames.
 */
import type { MontySnapshot } from '@pydantic/monty';
import type { SandboxTask } from '../extract/tasks.ts';
import type { FrameFunction, Instrumented, Site } from '../instrument/instrument.ts';
import { readLocals, type FrameReport } from '../instrument/probes.ts';
import type { Frame } from '../run/outcome.ts';

export interface SandboxFrame {
  fn: FrameFunction;
  /** The frame's identity for the whole run (0: the module body). */
  frame: number;
  depth: number;
  name: string;
  file: string;
  line: number;
  column: number;
  site?: Site;
  /** Bound names only: a name not yet assigned is absent. Undefined: this frame could not report. */
  locals?: Map<string, unknown>;
  /** The locals' Python type names. */
  types?: Map<string, string>;
}

export interface FramesAtStop {
  frames: SandboxFrame[];
  /** Statements started in the run, as the innermost report saw it. */
  count: number;
  /** Why some frame has no locals (user code caught the debugger's probe). */
  note?: string;
}

/** Where the trailing call `task(...)` of a decorated task is: its `<module>` frame. */
function moduleFrame(task: SandboxTask, code: Instrumented): SandboxFrame {
  const lines = task.code.split('\n');
  const pos = task.sourceMap.toFile(lines.length, 1);
  return { fn: code.functions[0]!, frame: 0, depth: 0, name: '<module>', file: pos.file, line: pos.line, column: pos.column };
}

export function framesFromReports(task: SandboxTask, code: Instrumented, reports: readonly FrameReport[], note?: string): FramesAtStop {
  const frames: SandboxFrame[] = [];
  for (const r of reports) {
    const fn = code.functions[r.fn];
    if (!fn) continue;
    const site = r.site ? code.sites[r.site - 1] : undefined;
    const at = site ?? { file: task.module.path, line: task.at.line, column: task.at.column };
    frames.push({ fn, frame: r.frame, depth: r.depth, name: fn.name, file: at.file, line: at.line, column: at.column, ...(site ? { site } : {}), locals: visible(r.locals), types: r.types });
  }
  if (task.kind === 'decorated' && !frames.some(f => f.fn.module)) frames.push(moduleFrame(task, code));
  return { frames, count: reports[0]?.count ?? 0, ...(note ? { note } : {}) };
}

/** The frames of a run paused at `snapshot` (an external call, a probe, `breakpoint()`). */
export function framesAt(task: SandboxTask, code: Instrumented, snapshot: MontySnapshot): FramesAtStop {
  const read = readLocals(snapshot);
  return framesFromReports(task, code, read.reports, read.incomplete);
}

/** Names the instrumentation added never show. */
function visible(locals: Map<string, unknown>): Map<string, unknown> {
  const out = new Map<string, unknown>();
  for (const [k, v] of locals) if (!k.startsWith('__flyte_dbg_')) out.set(k, v);
  return out;
}

/**
 * The reports of the exception that ended the run: the last unbroken run of
 * reports whose depth falls by one frame at a time (earlier ones belong to
 * exceptions the task caught).
 */
export function finalUnwinding(reports: readonly FrameReport[]): FrameReport[] {
  const out: FrameReport[] = [];
  for (let i = reports.length - 1; i >= 0; i--) {
    const r = reports[i]!;
    if (out.length && r.depth <= out[0]!.depth) break;
    out.unshift(r);
  }
  return out;
}

/**
 * Attach post-mortem locals to the failure's frames (outermost first, as
 * tracebacks list them), innermost frames matched first by function name.
 */
export function postMortemFrames(code: Instrumented, failure: readonly Frame[], reports: readonly FrameReport[]): SandboxFrame[] {
  const unwound = finalUnwinding(reports);
  const frames: SandboxFrame[] = [];
  let r = 0;
  for (let i = failure.length - 1; i >= 0; i--) {
    const f = failure[i]!;
    const report = unwound[r];
    const fn = report ? code.functions[report.fn] : undefined;
    const matches = report && fn && (fn.name === f.function || (fn.module && f.function === '<module>'));
    if (matches) r++;
    frames.push({
      fn: (matches ? fn : code.functions.find(x => x.name === f.function)) ?? code.functions[0]!,
      frame: matches ? report.frame : -1, depth: matches ? report.depth : -1,
      name: f.function, file: f.file, line: f.line, column: f.column,
      ...(matches ? { locals: visible(report.locals), types: report.types } : {}),
    });
  }
  return frames;
}
