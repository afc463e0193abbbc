/**
 * Python imports a module top to bottom and stops at the first exception:
 * when defining one sandboxed task raises (a refused type, a bad decorator
 * call, a non-callable in tasks=[...]), `flyte run` cannot load any task of
 * that file. Every task of the file gets that first error, with its line.
 */
import type { DefinitionError, SandboxTask } from './tasks.ts';

export function abortModuleOnImportError(tasks: SandboxTask[]): void {
  let first: { error: DefinitionError; task: SandboxTask } | undefined;
  for (const task of tasks) {
    const error = task.definitionErrors.find(e => e.importTime);
    if (!error) continue;
    if (!first || error.at.line < first.error.at.line || (error.at.line === first.error.at.line && error.at.column < first.error.at.column)) first = { error, task };
  }
  if (!first) return;
  for (const task of tasks) {
    const rest = task.definitionErrors.filter(e => e !== first.error);
    task.definitionErrors = [task === first.task ? first.error : { ...first.error, raisedBy: first.task.name }, ...rest];
  }
}

/** Why a task with a definition error never runs, for the failure's hint. */
export function definitionHint(task: SandboxTask, error: DefinitionError): string {
  const file = task.module.path.split('/').at(-1);
  if (error.raisedBy) return `the debugger has just caught a production failure: importing ${file} raises this at line ${error.at.line}, while defining ${error.raisedBy}; Python stops the import there, so Flyte cannot load any task of this file, ${task.name} included`;
  if (!error.importTime) return error.type === 'UnsupportedSource' ? 'the debugger cannot read this part of the task (production may run it)' : `production raises this when the ${task.kind === 'one-shot' ? 'orchestrate_local call' : 'call'} runs, before the sandbox starts`;
  return 'Flyte raises this while defining the task (when the module is imported), so the task never runs in production either';
}

/** The launch error of a task that cannot load, or undefined. */
export function loadFailure(task: SandboxTask): string | undefined {
  const error = task.definitionErrors[0];
  if (!error?.importTime) return undefined;
  const file = task.module.path.split('/').at(-1);
  return `${task.name} cannot be loaded: importing ${file} raises ${error.type} at line ${error.at.line}${error.raisedBy ? ` (defining ${error.raisedBy})` : ''}: ${error.message}. Production fails the same way: Python stops the import there, so Flyte loads no task of this file`;
}
