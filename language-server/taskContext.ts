/** One sandboxed task with what every check needs: its code parsed, the names it leaves to the host, its place in the file. */
import { montyBuiltins } from '../engine/check/builtins.ts';
import { unboundNames, type NameUse } from '../engine/check/names.ts';
import { definitionAt } from '../engine/check/signatures.ts';
import { BindingResolver } from '../engine/extract/bindings.ts';
import { bridgePlan } from '../engine/run/bridgePlan.ts';
import type { SandboxTask } from '../engine/extract/tasks.ts';
import type { Program } from '../engine/program.ts';
import type { FilePosition, PythonModule } from '../engine/python/module.ts';
import { field, parsePython, type SyntaxNode, type Tree } from '../engine/python/parser.ts';
import { offsetOf } from './positions.ts';

export interface TaskContext {
  task: SandboxTask;
  program: Program;
  resolver: BindingResolver;
  /** `task.code` parsed: node indices are indices into the code Monty runs. */
  code: Tree;
  /** Names the code uses without binding them, Monty's builtins left out: each is asked of the host. */
  uses: NameUse[];
  /** The file the task's code is in: its own, or the workspace file a code string is imported from. */
  codeModule: PythonModule;
  /** A decorated task's `def` in the file. */
  def?: SyntaxNode;
  /** A code-string task's `orchestrator_from_str(...)` call in the file. */
  call?: SyntaxNode;
  /** Flyte discovered no externals: it runs the code with Monty.run(), no bridge (a call to an unknown name is Monty's NameError, flyte_map too). */
  fastPath: boolean;
  /** File range of a node of `code`. */
  span(node: SyntaxNode): { start: FilePosition; end: FilePosition };
}

/** The `orchestrator_from_str(...)` / `orchestrate_local(...)` call a task comes from. */
function codeStringCall(task: SandboxTask): SyntaxNode | undefined {
  let node: SyntaxNode | null = task.module.root.descendantForIndex(offsetOf(task.module, task.at));
  for (; node; node = node.parent) {
    if (node.type === 'assignment' && field(node, 'right')?.type === 'call') return field(node, 'right') ?? undefined;
    if (node.type === 'call' && /(orchestrator_from_str|orchestrate_local|sandbox\.orchestrator)$/.test(field(node, 'function')?.text ?? '')) return node;
  }
  return undefined;
}

export async function taskContext(program: Program, task: SandboxTask, resolver: BindingResolver): Promise<TaskContext> {
  const code = await parsePython(task.code);
  const builtins = montyBuiltins();
  const uses = unboundNames(code.rootNode, task.inputNames).filter(u => !builtins.has(u.name));
  const def = task.kind === 'decorated' ? definitionAt(task.module, task.at) : undefined;
  const call = task.kind !== 'decorated' ? codeStringCall(task) : undefined;
  const codeModule = task.sourceMap.file === task.module.path ? task.module : await program.workspace.module(task.sourceMap.file);
  return {
    task, program, resolver, code, uses, codeModule,
    fastPath: bridgePlan(task, task.registry).fastPath,
    ...(def ? { def } : {}),
    ...(call ? { call } : {}),
    span: node => task.sourceMap.rangeToFile(node.startIndex, node.endIndex),
  };
}

export function taskContexts(program: Program): Promise<TaskContext[]> {
  const resolver = new BindingResolver(program.workspace);
  return Promise.all(program.tasks.map(t => taskContext(program, t, resolver)));
}
