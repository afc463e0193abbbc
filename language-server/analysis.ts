/**
 * One Python file as the language server sees it: the engine's extraction
 * of its sandboxed tasks (on the editor's text), and every finding about
 * them. Code outside sandboxed tasks is left alone.
 */
import type { ModuleLoader } from '../engine/check/signatures.ts';
import type { PythonVersion } from '../engine/extract/tasks.ts';
import { profileById } from '../engine/profiles.ts';
import { loadProgram, type Program } from '../engine/program.ts';
import type { PythonModule } from '../engine/python/module.ts';
import { definitionFindings } from './checks/definition.ts';
import { flyteMapFindings } from './checks/flyteMap.ts';
import { compileFindings, typeFindings } from './checks/monty.ts';
import { nameFindings } from './checks/names.ts';
import { parameterFindings } from './checks/parameters.ts';
import type { Finding } from './findings.ts';
import { expressionAt } from './positions.ts';
import { taskContexts, type TaskContext } from './taskContext.ts';

export interface AnalysisOptions {
  roots: string[];
  pythonVersion?: PythonVersion;
  /** A Flyte profile id; unknown ids fall back to the engine's default. */
  flyteProfile?: string;
  typeCheck: boolean;
}

export interface FileAnalysis {
  path: string;
  text: string;
  program?: Program;
  contexts: TaskContext[];
  findings: Finding[];
}

/** Cheap test first: only files that mention the sandbox are parsed (as the extension's task finder does). */
export function mentionsSandbox(text: string): boolean {
  return /sandbox|orchestrator_from_str/.test(text);
}

export function moduleLoader(program: Program): ModuleLoader {
  return async (path: string): Promise<PythonModule | undefined> => {
    try {
      return await program.workspace.module(path);
    } catch {
      return undefined;
    }
  };
}

/** Free the analysis's parse trees (tree-sitter's wasm memory is not garbage-collected). Nothing may use its nodes afterwards. */
export async function disposeAnalysis(a: FileAnalysis): Promise<void> {
  for (const ctx of a.contexts) ctx.code.delete();
  await a.program?.workspace.dispose();
}

function sameRange(a: Finding, b: Finding): boolean {
  return a.start.line === b.start.line && a.start.column === b.start.column && a.end.line === b.end.line && a.end.column === b.end.column;
}

function within(inner: Finding, outer: Finding): boolean {
  const le = (a: { line: number; column: number }, b: { line: number; column: number }) => a.line < b.line || (a.line === b.line && a.column <= b.column);
  return le(outer.start, inner.start) && le(inner.end, outer.end);
}

export async function analyze(path: string, text: string, options: AnalysisOptions): Promise<FileAnalysis> {
  if (!path.endsWith('.py') || !mentionsSandbox(text)) return { path, text, contexts: [], findings: [] };
  const profile = options.flyteProfile ? profileById(options.flyteProfile) : undefined;
  const program = await loadProgram(path, { text, roots: options.roots, ...(options.pythonVersion ? { pythonVersion: options.pythonVersion } : {}), ...(profile ? { profile } : {}) });
  const contexts = await taskContexts(program);
  const load = moduleLoader(program);
  const findings: Finding[] = [];
  const compiled = await Promise.all(contexts.map(compileFindings));
  const typed = contexts.map((ctx, i) => (compiled[i]!.length ? Promise.resolve([]) : typeFindings(ctx, { typeCheck: options.typeCheck, load })));
  const ours: Finding[][] = [];
  for (const [i, ctx] of contexts.entries()) {
    // Code that does not parse says nothing reliable about its names.
    const syntaxError = compiled[i]!.some(f => f.message.startsWith('SyntaxError'));
    ours.push([...definitionFindings(ctx), ...(syntaxError ? [] : [...parameterFindings(ctx), ...(await nameFindings(ctx)), ...(await flyteMapFindings(ctx))])]);
  }
  for (const [i] of contexts.entries()) {
    // ty saying the same as a finding of ours, on the same code, is left out.
    const mine = ours[i]!;
    findings.push(...compiled[i]!, ...mine, ...(await typed[i]!).filter(t => !mine.some(o => sameRange(o, t) || (t.code === 'invalid-await' && o.code === 'await-external' && within(t, o)))));
  }
  // Sandbox calls the engine saw but cannot read: said once, so their silence is not taken for a clean bill.
  for (const u of program.unreadable) {
    const range = expressionAt(program.module, u.at);
    findings.push({ source: 'flyte-sandbox', task: u.call, ...range, severity: 'information', code: 'unreadable-task', message: `The debugger cannot read this sandboxed task, so it is not checked: ${u.reason}.` });
  }
  findings.sort((a, b) => a.start.line - b.start.line || a.start.column - b.start.column || a.end.line - b.end.line || a.end.column - b.end.column);
  // An import-time error belongs to every task of the file (Python stops importing there): said once.
  const unique = findings.filter((f, i) => i === 0 || !(sameRange(f, findings[i - 1]!) && f.message === findings[i - 1]!.message));
  return { path, text, program, contexts, findings: unique };
}
