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
