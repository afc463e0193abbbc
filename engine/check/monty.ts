/**
 * What Monty itself says about a sandboxed task's code: whether it compiles
 * (syntax, unsupported constructs) and what its type checker (`ty`) finds
 * with the task's inputs and externals declared in a prefix
 * (`typeCheckPrefixCode`). Positions are indices into `task.code`, so a
 * result stays valid while the code is unchanged, wherever the task moves in
 * the file; `task.sourceMap.rangeToFile` places them.
 */
import { Monty, MontyRuntimeError, MontySyntaxError, MontyTypingError } from '@pydantic/monty';
import type { SandboxTask } from '../extract/tasks.ts';
import { firstSyntaxError, parsePython } from '../python/parser.ts';

export interface CodeProblem {
  severity: 'error' | 'warning' | 'info';
  /** Monty's own text ("NotImplementedError: ...", ty's message). */
  message: string;
  /** ty's rule ("invalid-argument-type"); absent for compile errors. */
  code?: string;
  url?: string;
  /** [start, end) in `task.code` (UTF-16 indices). */
  start: number;
  end: number;
}

/** Start index of each line of `text`, and the UTF-16 index of (1-based line, 1-based code-point column). */
function indexer(text: string): (line: number, column: number) => number {
  const starts = [0];
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 10) starts.push(i + 1);
  return (line, column) => {
    const start = starts[Math.max(0, Math.min(line - 1, starts.length - 1))]!;
    let i = start;
    for (let cp = 1; cp < column && i < text.length && text[i] !== '\n'; cp++) i += (text.codePointAt(i) ?? 0) > 0xffff ? 2 : 1;
    return i;
  };
}

function span(start: number, end: number): { start: number; end: number } {
  return { start, end: Math.max(end, start + 1) };
}

/** Where to put a problem Monty gives no position for: the task's name, or the start of its code. */
function taskStart(task: SandboxTask): { start: number; end: number } {
  const i = task.code.indexOf(task.name);
  return i >= 0 && task.kind === 'decorated' ? span(i, i + task.name.length) : span(0, 1);
}

/** Monty's compile of exactly the code the run uses: syntax errors and constructs it does not support. */
export async function compileProblems(task: SandboxTask): Promise<CodeProblem[]> {
  try {
    new Monty(task.code, { scriptName: task.module.path, ...(task.inputNames.length ? { inputs: task.inputNames } : {}) });
    return [];
  } catch (e) {
    if (e instanceof MontySyntaxError) {
      // Monty gives no position for a syntax error: the parser the engine uses finds it.
      const tree = await parsePython(task.code);
      const bad = firstSyntaxError(tree.rootNode);
      const at = bad && bad.id !== tree.rootNode.id ? span(bad.startIndex, bad.endIndex) : taskStart(task);
      tree.delete();
      return [{ severity: 'error', message: e.display('type-msg'), ...at }];
    }
    if (e instanceof MontyRuntimeError) {
      const frame = e.traceback().at(-1);
      const index = indexer(task.code);
      const at = frame
        ? span(index(frame.line, frame.column), index(frame.endLine ?? frame.line, frame.endColumn ?? frame.column + 1))
        : taskStart(task);
      return [{ severity: 'error', message: e.display('type-msg'), ...at }];
    }
    throw e;
  }
}

export interface TyDiagnostic {
  code: string;
  message: string;
  severity: string;
  url?: string | null;
  location: { row: number; column: number };
  end_location: { row: number; column: number };
}

/** ty's raw findings on `code` with `prefix` in front (rows count from the prefix's first line). Pure: runs anywhere Monty loads. */
export function runTypeCheck(code: string, inputNames: readonly string[], scriptName: string, prefix: string): TyDiagnostic[] {
  try {
    new Monty(code, { scriptName, ...(inputNames.length ? { inputs: [...inputNames] } : {}), typeCheck: true, typeCheckPrefixCode: prefix });
    return [];
  } catch (e) {
    if (!(e instanceof MontyTypingError)) return [];
    return JSON.parse(e.displayDiagnostics('json')) as TyDiagnostic[];
  }
}

/**
 * ty's findings placed in the task's code. Findings inside the prefix, or on
 * code the file does not contain (the trailing call Flyte appends), are
 * dropped.
 */
export function typeProblemsFrom(task: SandboxTask, prefix: string, found: readonly TyDiagnostic[]): CodeProblem[] {
  const prefixLines = prefix.split('\n').length;
  const index = indexer(task.code);
  const out: CodeProblem[] = [];
  for (const d of found) {
    const line = d.location.row - prefixLines;
    if (line < 1) continue;
    const start = index(line, d.location.column);
    const end = index(d.end_location.row - prefixLines, d.end_location.column);
    if (!task.sourceMap.isVerbatim(start)) continue;
    out.push({
      severity: d.severity === 'warning' ? 'warning' : d.severity === 'error' ? 'error' : 'info',
      message: d.message,
      code: d.code,
      ...(d.url ? { url: d.url } : {}),
      ...span(start, end),
    });
  }
  return out;
}

/** ty on the task's code with `prefix` (stubs of the inputs and externals) in front, in this thread. */
export function typeProblems(task: SandboxTask, prefix: string): CodeProblem[] {
  return typeProblemsFrom(task, prefix, runTypeCheck(task.code, task.inputNames, task.module.path, prefix));
}
