/** Sandboxed tasks of an open document, found by the engine's own extraction and cached per version. */
import * as vscode from 'vscode';
import { loadProgram } from '../engine/program.ts';
import type { SandboxTask } from '../engine/extract/tasks.ts';

const cache = new Map<string, { version: number; tasks: Promise<SandboxTask[]> }>();

export function tasksOf(document: vscode.TextDocument): Promise<SandboxTask[]> {
  if (document.languageId !== 'python' || document.uri.scheme !== 'file') return Promise.resolve([]);
  const key = document.uri.toString();
  const hit = cache.get(key);
  if (hit && hit.version === document.version) return hit.tasks;
  const text = document.getText();
  // Only files that mention the sandbox are parsed (cheap test first).
  const tasks = /sandbox|orchestrator_from_str/.test(text)
    ? loadProgram(document.uri.fsPath, { text, roots: (vscode.workspace.workspaceFolders ?? []).map(f => f.uri.fsPath) }).then(p => p.tasks, () => [])
    : Promise.resolve([]);
  cache.set(key, { version: document.version, tasks });
  return tasks;
}

/** A JSON skeleton of a task's inputs from its signature: {"n": 0, "path": ""}. */
export function inputSkeleton(task: SandboxTask): Record<string, unknown> {
  const guess = (annotation?: string): unknown => {
    const a = (annotation ?? '').replace(/\s/g, '');
    if (/^(int)$/.test(a)) return 0;
    if (/^(float)$/.test(a)) return 0.0;
    if (/^(str)$/.test(a)) return '';
    if (/^(bool)$/.test(a)) return false;
    if (/^(list|List|set|Set|tuple|Tuple)(\[|$)/.test(a)) return [];
    if (/^(dict|Dict)(\[|$)/.test(a)) return {};
    if (/^(File|Dir)$/.test(a)) return { __flyte_io_type__: a, path: '' };
    if (a === 'DataFrame') return { __flyte_io_type__: 'DataFrame', uri: '', format: 'parquet' };
    return null;
  };
  return Object.fromEntries(task.inputs.map(i => [i.name, guess(i.annotation)]));
}
