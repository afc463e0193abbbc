/**
 * Where is a paused sandbox? MontySnapshot does not say, so a throw-away copy
 * is resumed with an exception no `except Exception` catches and its
 * traceback is read. Costs a dump and a load: only on demand, never per call.
 *
 * Monty loses the inner frames when that exception unwinds through a `try`
 * block, so the result is checked against the call sites we know and
 * repaired from them when it can be, else marked inexact.
 */
import { MontyRuntimeError, MontySnapshot, type Frame as MontyFrame } from '@pydantic/monty';
import type { SourceMap } from '../extract/sourceMap.ts';
import type { CallSite, SandboxTask } from '../extract/tasks.ts';
import type { Frame } from './outcome.ts';

export interface ProbeResult {
  frames: Frame[];
  /** False when the innermost frame is a best guess. */
  exact: boolean;
}

export function mapFrames(task: SandboxTask, frames: readonly MontyFrame[], sourceMap: SourceMap = task.sourceMap): Frame[] {
  return frames.map(f => {
    const pos = sourceMap.toFile(f.line, f.column);
    return { file: pos.file, line: pos.line, column: pos.column, function: f.functionName ?? '<module>', sourceLine: task.codeModule.lineText(pos.line).trim() };
  });
}

function siteFrame(task: SandboxTask, site: CallSite): Frame {
  return { file: site.file.file, line: site.file.line, column: site.file.column, function: site.enclosing, sourceLine: task.codeModule.lineText(site.file.line).trim() };
}

export function probe(task: SandboxTask, snapshot: MontySnapshot): ProbeResult {
  const name = snapshot.functionName;
  let raw: MontyFrame[] | undefined;
  try {
    const copy = MontySnapshot.load(snapshot.dump(), { printCallback: () => undefined });
    copy.resume({ exception: { type: 'KeyboardInterrupt', message: 'probe' } });
  } catch (e) {
    if (e instanceof MontyRuntimeError && e.exception.typeName === 'KeyboardInterrupt') raw = e.traceback();
  }
  const sites = task.callSites.filter(s => s.name === name);
  const innermost = raw?.at(-1);
  if (raw && innermost && sites.some(s => s.line >= innermost.line && s.line <= innermost.endLine)) {
    return { frames: mapFrames(task, raw), exact: true };
  }
  // The traceback was cut short (a try block) or swallowed (a bare except): rebuild it from the call sites.
  const outer = raw ? mapFrames(task, raw) : [];
  if (sites.length !== 1) return { frames: outer, exact: false };
  const chain: CallSite[] = [sites[0]!];
  while (chain[0]!.enclosing !== '<module>') {
    const callers = task.callSites.filter(s => s.name === chain[0]!.enclosing);
    if (callers.length !== 1 || chain.includes(callers[0]!)) return { frames: [...outer.slice(0, -1), siteFrame(task, sites[0]!)], exact: false };
    chain.unshift(callers[0]!);
  }
  return { frames: chain.map(site => siteFrame(task, site)), exact: true };
}
