/**
 * Monty's own verdict on each task's code (compile, then ty with the task's
 * stubs), cached by the exact code and prefix: an edit re-checks only the
 * task it changed. Results are indices into the code, placed in the file
 * through the task's current source map.
 */
import { compileProblems, runTypeCheck, typeProblemsFrom, type CodeProblem, type TyDiagnostic } from '../../engine/check/monty.ts';
import { typeCheckPrefix, type ModuleLoader } from '../../engine/check/signatures.ts';
import type { Finding } from '../findings.ts';
import type { TaskContext } from '../taskContext.ts';

class Cache<V> {
  private readonly map = new Map<string, V>();
  constructor(private readonly size: number) {}
  get(key: string, make: () => V): V {
    const hit = this.map.get(key);
    if (hit !== undefined) {
      this.map.delete(key);
      this.map.set(key, hit);
      return hit;
    }
    const v = make();
    this.map.set(key, v);
    if (this.map.size > this.size) this.map.delete(this.map.keys().next().value!);
    return v;
  }
}

const compiled = new Cache<Promise<CodeProblem[]>>(400);
const typed = new Cache<TyDiagnostic[]>(400);

// ty's "used when not defined" is about names the sandbox asks the host for: the name checks say what happens to them.
const LEFT_TO_NAME_CHECKS = new Set(['unresolved-reference']);

export interface MontyCheckOptions {
  typeCheck: boolean;
  load: ModuleLoader;
}

function toFinding(ctx: TaskContext, p: CodeProblem, source: Finding['source']): Finding {
  const range = ctx.task.sourceMap.rangeToFile(p.start, p.end);
  const typeCheck = source === 'monty typeCheck';
  return {
    source,
    task: ctx.task.name,
    ...range,
    severity: typeCheck ? (p.severity === 'error' ? 'warning' : 'information') : 'error',
    code: p.code ?? 'monty-compile',
    message: typeCheck ? p.message : `${p.message} (Monty cannot run this code: the task fails before its first line)`,
    ...(p.url ? { url: p.url } : {}),
  };
}

/** What Monty's compiler says (cached by code): a task it refuses gets nothing else from Monty. */
export async function compileFindings(ctx: TaskContext): Promise<Finding[]> {
  const { task } = ctx;
  const compile = await compiled.get(`${task.inputNames.join(',')}\0${task.code}`, () => compileProblems(task));
  return compile.map(p => toFinding(ctx, p, 'monty'));
}

/**
 * What Monty's type checker says, cached by code and stubs. It runs in this
 * thread: in a worker thread Monty's native memory piled up (a worker that is
 * idle between checks rarely collects garbage) and, on a busy machine, it
 * was no faster.
 */
export async function typeFindings(ctx: TaskContext, options: MontyCheckOptions): Promise<Finding[]> {
  const { task } = ctx;
  // Flyte never type-checks (SandboxedConfig.type_check is never read); a task that says type_check=False is left alone.
  if (!options.typeCheck || task.declared.type_check === false) return [];
  const prefix = await typeCheckPrefix(task, options.load);
  const found = typed.get(`${task.inputNames.join(',')}\0${task.code}\0${prefix}`, () => runTypeCheck(task.code, task.inputNames, task.module.path, prefix));
  return typeProblemsFrom(task, prefix, found).filter(p => !LEFT_TO_NAME_CHECKS.has(p.code ?? '')).map(p => toFinding(ctx, p, 'monty typeCheck'));
}
