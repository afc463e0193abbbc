/**
 * What the Call Stack shows at a stop: a label frame for the pending
 * external call (or the flyte_map in flight), then the sandbox's frames,
 * innermost first, each at its own line. The sandbox frames come from the
 * instrumented run's reports when the run has them (exact, with locals),
 * else from the position probe (frames only).
 */
import type { SandboxTask } from '../extract/tasks.ts';
import type { ExternalCall, Frame } from '../run/outcome.ts';
import type { StackFrameInfo } from './api.ts';
import type { FramesAtStop, SandboxFrame } from './sandboxFrames.ts';

export interface StackEntry {
  info: StackFrameInfo;
  frame?: SandboxFrame;
}

export function entriesFromFrames(base: number, frames: readonly SandboxFrame[], first = 0): StackEntry[] {
  return frames.map((f, i) => ({ info: { id: base + first + i, name: f.name, file: f.file, line: f.line, column: f.column }, frame: f }));
}

export function entriesFromProbe(base: number, frames: readonly Frame[], first = 0): StackEntry[] {
  return [...frames].reverse().map((f, i) => ({ info: { id: base + first + i, name: f.function, file: f.file, line: f.line, column: f.column } }));
}

/**
 * The innermost frame waiting on `call`: put it at the call itself (the
 * statement's report knows the statement; the call sites know the column).
 */
export function atCall(task: SandboxTask, at: FramesAtStop, call: ExternalCall): FramesAtStop {
  const inner = at.frames[0];
  if (!inner?.site) return at;
  const start = task.sourceMap.fileOffsetAt(inner.site.codeStart);
  const end = task.sourceMap.fileOffsetAt(Math.max(inner.site.codeStart, inner.site.codeEnd - 1));
  const offsetOf = (line: number, column: number) => task.codeModule.lineStart(line) + column - 1;
  const name = call.mapIndex !== undefined ? 'flyte_map' : call.function;
  const site = task.callSites.find(s => s.name === name && offsetOf(s.file.line, s.file.column) >= start && offsetOf(s.file.line, s.file.column) <= end);
  if (!site) return at;
  return { ...at, frames: [{ ...inner, line: site.file.line, column: site.file.column }, ...at.frames.slice(1)] };
}

/** The label frame at the top of a thread's stack, placed where the innermost sandbox frame is. */
export function labelFrame(base: number, name: string, task: SandboxTask, inner: { file?: string; line: number; column: number } | undefined): StackEntry {
  return { info: { id: base, name, label: true, line: inner?.line ?? task.at.line, column: inner?.column ?? 1, file: inner?.file ?? task.module.path } };
}
