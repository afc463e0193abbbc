/**
 * F5 on a Python file with no launch.json: find its sandboxed tasks (quick
 * pick when several), ask for inputs with a JSON skeleton from the task's
 * signature, and start. A configuration from launch.json gets its defaults
 * and is checked here, with messages that say what to fix.
 */
import { existsSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import * as vscode from 'vscode';
import type { SandboxTask } from '../engine/extract/tasks.ts';
import { pythonFor } from './python.ts';
import { DEBUG_TYPE } from './sessionModel.ts';
import { inputSkeleton, tasksOf } from './tasks.ts';

export type Mode = 'debug' | 'stubs';

async function pickTask(document: vscode.TextDocument, wanted?: string): Promise<SandboxTask | undefined> {
  const tasks = await tasksOf(document);
  if (!tasks.length) {
    void vscode.window.showErrorMessage(`Flyte Sandbox: ${basename(document.fileName)} has no sandboxed task (an @<env>.sandbox.orchestrator function or an orchestrator_from_str(...) assignment).`);
    return undefined;
  }
  if (wanted) return tasks.find(t => t.name === wanted || t.flyteName === wanted);
  if (tasks.length === 1) return tasks[0];
  const pick = await vscode.window.showQuickPick(tasks.map(t => ({ label: t.name, description: t.flyteName, detail: `line ${t.at.line} · inputs: ${t.inputs.map(i => i.name).join(', ') || '(none)'}`, task: t })), { title: 'Which sandboxed task?', placeHolder: 'Pick the task to debug' });
  return pick?.task;
}

/** Inputs from an inputs.json next to the program, else asked for (pre-filled from the signature). */
async function askInputs(program: string, task: SandboxTask): Promise<unknown> {
  for (const name of [`${basename(program, '.py')}.inputs.json`, 'inputs.json']) {
    const path = join(dirname(program), name);
    if (existsSync(path)) return path;
  }
  if (!task.inputs.length) return {};
  const text = await vscode.window.showInputBox({
    title: `Inputs for ${task.name}(${task.inputs.map(i => (i.annotation ? `${i.name}: ${i.annotation}` : i.name)).join(', ')})`,
    prompt: 'A JSON object with the task\'s inputs',
    value: JSON.stringify(inputSkeleton(task)),
    ignoreFocusOut: true,
    validateInput: v => {
      try {
        const parsed = JSON.parse(v) as unknown;
        if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return 'Expected a JSON object, e.g. {"n": 10}';
        const missing = task.inputs.map(i => i.name).filter(n => !(n in (parsed as object)));
        return missing.length ? `Missing: ${missing.join(', ')}` : undefined;
      } catch (e) {
        return `Not JSON: ${(e as Error).message}`;
      }
    },
  });
  return text === undefined ? undefined : JSON.parse(text);
}

/** A configuration for a task of a document, as F5, the CodeLens and the editor buttons start it. */
export async function configurationFor(document: vscode.TextDocument, mode: Mode, taskName?: string): Promise<vscode.DebugConfiguration | undefined> {
  const task = await pickTask(document, taskName);
  if (!task) return undefined;
  const program = document.uri.fsPath;
  const inputs = await askInputs(program, task);
  if (inputs === undefined) return undefined;
  const config: vscode.DebugConfiguration = { type: DEBUG_TYPE, request: 'launch', name: `${mode === 'stubs' ? 'Run' : 'Debug'} ${task.name}`, program, task: task.name, inputs, stopOnExternalCall: mode === 'stubs' ? 'none' : 'all' };
  if (mode === 'stubs') {
    const stubs = [`${basename(program, '.py')}.stubs.json`, 'stubs.json'].map(n => join(dirname(program), n)).find(existsSync);
    if (stubs) config.stubs = stubs;
    else void vscode.window.showWarningMessage(`Flyte Sandbox: no stubs.json next to ${basename(program)}: calls without a stub will pause and ask for a result.`);
  }
  return config;
}

export class ConfigurationProvider implements vscode.DebugConfigurationProvider {
  async provideDebugConfigurations(): Promise<vscode.DebugConfiguration[]> {
    const document = vscode.window.activeTextEditor?.document;
    const tasks = document ? await tasksOf(document) : [];
    if (!tasks.length) return [{ type: DEBUG_TYPE, request: 'launch', name: 'Debug sandboxed task', program: '${file}', inputs: {}, stopOnExternalCall: 'all' }];
    return tasks.map(t => ({ type: DEBUG_TYPE, request: 'launch', name: `Debug ${t.name}`, program: '${file}', task: t.name, inputs: inputSkeleton(t), stopOnExternalCall: 'all' }));
  }

  async resolveDebugConfiguration(_folder: vscode.WorkspaceFolder | undefined, config: vscode.DebugConfiguration): Promise<vscode.DebugConfiguration | null | undefined> {
    if (!config.type && !config.request && !config.name) {
      const document = vscode.window.activeTextEditor?.document;
      if (!document || document.languageId !== 'python') {
        void vscode.window.showErrorMessage('Flyte Sandbox: open a Python file with a sandboxed task, then press F5.');
        return undefined;
      }
      const made = await configurationFor(document, 'debug');
      if (!made) return undefined;
      config = made;
    }
    config.type ??= DEBUG_TYPE;
    config.request ??= 'launch';
    config.name ??= 'Debug sandboxed task';
    if (!config.program) {
      void vscode.window.showErrorMessage('Flyte Sandbox: the launch configuration needs "program", the Python file with the sandboxed task (e.g. "${file}").');
      return null;
    }
    return config;
  }

  /** After variables are substituted: the interpreter for forwarding, and a check of the program. */
  async resolveDebugConfigurationWithSubstitutedVariables(folder: vscode.WorkspaceFolder | undefined, config: vscode.DebugConfiguration): Promise<vscode.DebugConfiguration | null | undefined> {
    if (typeof config.program === 'string' && !existsSync(config.program) && folder) {
      const inFolder = join(folder.uri.fsPath, config.program);
      if (existsSync(inFolder)) config.program = inFolder;
    }
    if (typeof config.program === 'string' && !config.program.endsWith('.py')) {
      void vscode.window.showErrorMessage(`Flyte Sandbox: "program" must be a Python (.py) file, got ${config.program}.`);
      return null;
    }
    config.cwd ??= folder?.uri.fsPath ?? (typeof config.program === 'string' ? dirname(config.program) : undefined);
    config.python ??= await pythonFor(typeof config.program === 'string' ? vscode.Uri.file(config.program) : undefined);
    config.pythonVersion ??= vscode.workspace.getConfiguration('flyteSandbox').get<string>('pythonVersion');
    return config;
  }
}
