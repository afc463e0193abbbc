/**
 * How production runs a given task, as data the engine loop consults:
 * - the fast path: when Flyte discovered no externals it calls `Monty.run()`
 *   without the bridge, so any call to another function (flyte_map too) is
 *   Monty's NameError inside the sandbox, and nothing is marshaled;
 * - what Monty refuses before the first line runs (an inputs dict with no
 *   input declared);
 * - why a sandbox error that production also raises happened, in words
 *   (the debugger has just caught a production failure).
 */
import type { SandboxTask } from '../extract/tasks.ts';
import type { Registry } from '../registry.ts';
import type { Frame, SandboxFailure } from './outcome.ts';

export interface BridgePlan {
  /** No external discovered: `Monty.run()`, no bridge, no marshaling, no flyte_map. */
  fastPath: boolean;
  /** Monty refuses to start (production fails the same way before any line runs). */
  startFailure?: SandboxFailure;
}

export function bridgePlan(task: SandboxTask, registry: Registry): BridgePlan {
  const fastPath = task.profile.fastPath && registry.entries.size === 0;
  const plan: BridgePlan = { fastPath };
  if (task.inputNames.length === 0 && task.profile.emptyInputsRefused) {
    const how = task.kind === 'one-shot'
      ? 'orchestrate_local passes its inputs={} to Monty as given (flyte-sdk\'s own examples pass inputs={"_unused": 0} for this reason)'
      : `${task.name} has no parameters, so Flyte builds Monty(code, inputs=[]) and still calls monty.${fastPath ? 'run' : 'start'}(inputs={})`;
    plan.startFailure = {
      type: 'TypeError',
      message: 'No input variables declared but inputs dict was provided',
      origin: 'sandbox',
      frames: [{ file: task.at.file, line: task.at.line, column: task.at.column, function: '<module>', sourceLine: task.module.lineText(task.at.line).trim() }],
      hint: `the debugger has just caught a production failure: ${how}, and pydantic-monty ${task.profile.montyPin} refuses an inputs dict when no input is declared, before any line runs. flyte-sdk adds a dummy _unused input only for code-string tasks. ${task.kind === 'one-shot' ? 'Pass inputs={"_unused": 0}' : 'Give the task a parameter (it may go unused)'}, or choose the 'pooled' profile if your flyte has PR #1539`,
    };
  }
  return plan;
}

/** What Monty raises for a call to a function it does not know, without the bridge. */
export function fastPathNameError(name: string): { type: string; message: string } {
  return { type: 'NameError', message: `name '${name}' is not defined` };
}

function innermost(frames: readonly Frame[]): Frame | undefined {
  return frames.at(-1);
}

/** The hint for a sandbox error production raises too, or undefined when there is nothing to add. */
export function explainSandboxError(task: SandboxTask, registry: Registry, plan: BridgePlan, type: string, message: string, frames: readonly Frame[]): string | undefined {
  const awaited = /^'(\w+)' object can't be awaited$/.exec(message);
  if (type === 'TypeError' && awaited && task.profile.awaitExternal === 'fails') {
    const at = innermost(frames);
    const site = at && task.callSites.find(s => s.file.line === at.line && registry.get(s.name) && /\bawait\b/.test(task.codeModule.lineText(at.line)));
    if (site) {
      return `the debugger has just caught a production failure: in ${task.profile.label} the bridge resumes Monty with the plain result of ${site.name}() (a ${awaited[1]} here), not an awaitable, so \`await ${site.name}(...)\` fails at this line. Inside a sandboxed task calls to other tasks are synchronous: drop the \`await\`. (flyte-sdk's own example opaque_io.py, orchestrate_etl, has this bug.) The 'pooled' profile (PR #1539) reproduces a bridge that awaits external calls`;
    }
  }
  const missing = /^name '([\w.]+)' is not defined$/.exec(message);
  if (type === 'NameError' && missing && plan.fastPath && task.callSites.some(s => s.name === missing[1])) {
    const name = missing[1]!;
    const why = registry.refusalHint(name);
    return `the debugger has just caught a production failure: Flyte discovered no externals for ${task.name}, so it runs the code with Monty.run() instead of its bridge, and calling any function the code does not define (${name === 'flyte_map' ? 'flyte_map included: it exists only in the bridge' : name}) is Monty's NameError.${why ? ` ${why}` : ''}`;
  }
  return undefined;
}
