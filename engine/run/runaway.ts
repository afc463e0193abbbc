/**
 * Monty's TimeoutError carries no traceback, so where a runaway sandbox was
 * spinning is inferred: from the last pause (replayed and probed) to the loop
 * that most likely never ends. Only used when a run has already failed.
 */
import type { SandboxTask } from '../extract/tasks.ts';
import { field, namedChildren, parsePython, type SyntaxNode } from '../python/parser.ts';
import type { CallRecord, Frame } from './outcome.ts';
import { probe } from './probe.ts';
import { replayToCall } from './replay.ts';

interface Loop {
  line: number;
  column: number;
  endLine: number;
  function: string;
  hasCall: boolean;
}

async function loopsOf(code: string): Promise<Loop[]> {
  const loops: Loop[] = [];
  const walk = (n: SyntaxNode, fn: string) => {
    const inner = n.type === 'function_definition' ? field(n, 'name')?.text ?? fn : fn;
    if (n.type === 'while_statement' || n.type === 'for_statement') {
      let hasCall = false;
      const scan = (m: SyntaxNode) => {
        if (m.type === 'call') hasCall = true;
        else for (const c of namedChildren(m)) scan(c);
      };
      const body = field(n, 'body');
      if (body) scan(body);
      loops.push({ line: n.startPosition.row + 1, column: n.startPosition.column + 1, endLine: n.endPosition.row + 1, function: inner, hasCall });
    }
    for (const c of namedChildren(n)) walk(c, inner);
  };
  walk((await parsePython(code)).rootNode, '<module>');
  return loops;
}

export interface RunawayGuess {
  frames: Frame[];
  note: string;
}

export async function locateRunaway(task: SandboxTask, inputs: Record<string, unknown>, records: readonly CallRecord[]): Promise<RunawayGuess> {
  const last = [...records].reverse().find(r => r.mapParent === undefined && r.status !== 'pending' && r.status !== 'cancelled');
  let lastSeen: Frame[] = [];
  if (last) {
    const snapshot = replayToCall(task, inputs, records, last.seq);
    if (snapshot) lastSeen = probe(task, snapshot).frames;
  }
  const lastCode = lastSeen.length ? task.sourceMap.toCode(task.codeModule.lineStart(lastSeen.at(-1)!.line) + lastSeen.at(-1)!.column - 1) : undefined;
  const fromLine = lastCode?.line ?? 0;
  const loops = await loopsOf(task.code);
  // the first loop at or after the last pause that cannot pause itself, else any loop around it
  const candidate = loops.find(l => l.line >= fromLine && !l.hasCall) ?? loops.find(l => l.line <= fromLine && l.endLine >= fromLine) ?? loops.find(l => !l.hasCall) ?? loops[0];
  const where = lastSeen.length ? `after its last pause at ${lastSeen.at(-1)!.file}:${lastSeen.at(-1)!.line} (${last!.function}())` : 'before its first external call';
  if (!candidate) return { frames: lastSeen, note: `Monty does not report where it was; the sandbox was running ${where}` };
  const pos = task.sourceMap.toFile(candidate.line, candidate.column);
  const loopFrame: Frame = { file: pos.file, line: pos.line, column: pos.column, function: candidate.function, sourceLine: task.codeModule.lineText(pos.line).trim() };
  const outer = lastSeen.filter(f => f.function !== candidate.function);
  return { frames: [...outer, loopFrame], note: `Monty does not report where it was: the sandbox was running ${where}, most likely in the loop at line ${pos.line} (inferred)` };
}
