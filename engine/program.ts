/** A Python file opened for debugging: its sandboxed tasks, ready to run. */
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { UsageError } from './errors.ts';
import type { UnreadableCall } from './extract/codeTasks.ts';
import { TaskExtractor, type PythonVersion, type SandboxTask } from './extract/tasks.ts';
import { Workspace } from './extract/workspace.ts';
import type { FlyteProfile } from './profiles.ts';
import type { FilePosition, PythonModule } from './python/module.ts';

export interface ProgramOptions {
  /** Extra import roots (the workspace folder); the file's own folder always comes first. */
  roots?: string[];
  pythonVersion?: PythonVersion;
  /** The Flyte release whose semantics to reproduce (default: the default profile). */
  profile?: FlyteProfile;
  /** Use this text instead of reading the file (an unsaved editor buffer). */
  text?: string;
}

export interface Program {
  file: string;
  module: PythonModule;
  tasks: SandboxTask[];
  /** The parsed files the extraction looked at (this one and the workspace files it imports). */
  workspace: Workspace;
  /** Sandbox calls seen whose code the debugger cannot read, and why. */
  unreadable: UnreadableCall[];
  /** Where the parser could not read the file (Python would not import it). */
  syntaxWarning?: FilePosition;
  findTask(name?: string): SandboxTask;
}

function unreadableNote(unreadable: UnreadableCall[], name?: string): string {
  const hit = name === undefined ? undefined : unreadable.find(u => u.assignedTo.includes(name));
  if (hit) return `: '${name}' comes from ${hit.call} at line ${hit.at.line}, whose code the debugger cannot read: ${hit.reason}`;
  if (!unreadable.length) return '';
  return `; ${unreadable.length} sandbox call${unreadable.length > 1 ? 's' : ''} seen but not readable (see flyte-sandbox list)`;
}

export async function loadProgram(file: string, options: ProgramOptions = {}): Promise<Program> {
  const path = resolve(file);
  if (options.text === undefined && !existsSync(path)) throw new UsageError('no such file', file);
  if (!path.endsWith('.py')) throw new UsageError('expected a Python (.py) file', file);
  const workspace = new Workspace([dirname(path), ...(options.roots ?? [])], options.text !== undefined ? new Map([[path, options.text]]) : undefined);
  let module: PythonModule;
  try {
    module = await workspace.module(path);
  } catch (e) {
    throw new UsageError(`cannot read the file: ${(e as Error).message}`, file);
  }
  const { tasks, unreadable } = await new TaskExtractor(workspace, {
    ...(options.pythonVersion ? { pythonVersion: options.pythonVersion } : {}),
    ...(options.profile ? { profile: options.profile } : {}),
  }).extract(module);
  const err = module.syntaxError();
  return {
    file: path,
    module,
    tasks,
    workspace,
    unreadable,
    ...(err ? { syntaxWarning: module.nodePosition(err) } : {}),
    findTask(name?: string): SandboxTask {
      if (!tasks.length) throw new UsageError(`no sandboxed task here (looked for @<env>.sandbox.orchestrator functions, orchestrator_from_str(...) assignments and orchestrate_local(...) calls)${unreadableNote(unreadable)}`, file);
      if (name === undefined) {
        if (tasks.length === 1) return tasks[0]!;
        throw new UsageError(`${tasks.length} sandboxed tasks here, say which one: ${tasks.map(t => t.name).join(', ')}`, file);
      }
      const found = tasks.find(t => t.name === name) ?? tasks.find(t => t.flyteName === name);
      if (!found) throw new UsageError(`no sandboxed task '${name}' (found: ${tasks.map(t => (t.flyteName !== t.name ? `${t.name} (${t.flyteName})` : t.name)).join(', ')})${unreadableNote(unreadable, name)}`, file);
      return found;
    },
  };
}
