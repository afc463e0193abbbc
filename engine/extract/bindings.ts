/**
 * What a module-level name is bound to, judged the way Flyte judges the
 * object it finds in `func.__globals__` (spec §2): a TaskTemplate (a task, a
 * sandboxed task, a code-string task), a LazyEntity (remote task handle), a
 * `@syncify` wrapper (has `__wrapped__` and `aio`), something from a module
 * whose name contains "durable", or anything else (ignored).
 */
import { dottedName, field, namedChildren, type SyntaxNode } from '../python/parser.ts';
import type { FilePosition, PythonModule } from '../python/module.ts';
import { stringLiteral } from '../python/stringLiteral.ts';
import type { Workspace } from './workspace.ts';

export type ModuleBinding =
  | { kind: 'def'; node: SyntaxNode; decorators: SyntaxNode[]; module: PythonModule }
  | { kind: 'class'; node: SyntaxNode; module: PythonModule }
  | { kind: 'assign'; node: SyntaxNode; value: SyntaxNode; module: PythonModule }
  | { kind: 'import-from'; node: SyntaxNode; from: string; level: number; name: string; module: PythonModule }
  | { kind: 'import'; node: SyntaxNode; module: PythonModule }
  | { kind: 'other'; node: SyntaxNode; module: PythonModule };

export type RefCategory = 'task' | 'trace' | 'durable';

/** A module-level object, as far as Flyte's classification cares. */
export interface RefInfo {
  /** Flyte's bucket, or undefined when Flyte ignores it in the decorator path. */
  category: RefCategory | undefined;
  /** `isinstance(ref, TaskTemplate)`: dispatched through `.aio`, mapped with `flyte.map`. */
  taskTemplate: boolean;
  /** `callable(obj)`: `tasks=[...]` accepts only callables. */
  callable: boolean;
  /** What the object is, for humans: "Flyte task (@env.task)". */
  what: string;
  /** `obj.__name__` (`func.__name__` for a TaskTemplate), when it has one. */
  pyName?: string;
  /** The task name Flyte shows in its UI. */
  flyteName?: string;
  definedAt?: FilePosition;
  /** The decorator arguments or call node, for reading declared settings. */
  declaration?: SyntaxNode;
}

const COMPOUND_STATEMENTS = new Set(['if_statement', 'try_statement', 'with_statement', 'for_statement', 'while_statement', 'block', 'else_clause', 'elif_clause', 'except_clause', 'finally_clause']);

const cache = new WeakMap<PythonModule, Map<string, ModuleBinding>>();
const histories = new WeakMap<PythonModule, Map<string, ModuleBinding[]>>();

/** Bindings made by module-level statements (also inside module-level if/try/with/for blocks); the last one wins. */
export function moduleBindings(module: PythonModule): Map<string, ModuleBinding> {
  const cached = cache.get(module);
  if (cached) return cached;
  const out = new Map<string, ModuleBinding>();
  const history = new Map<string, ModuleBinding[]>();
  const bind = (name: string, b: ModuleBinding) => {
    let list = history.get(name);
    if (!list) history.set(name, (list = []));
    list.push(b);
    out.set(name, b);
  };
  const bindTargets = (target: SyntaxNode, stmt: SyntaxNode) => {
    if (target.type === 'identifier') bind(target.text, { kind: 'other', node: stmt, module });
    else for (const c of namedChildren(target)) bindTargets(c, stmt);
  };
  const visit = (stmt: SyntaxNode) => {
    switch (stmt.type) {
      case 'decorated_definition': {
        const def = field(stmt, 'definition');
        const decorators = namedChildren(stmt).filter(c => c.type === 'decorator').map(d => namedChildren(d)[0]!).filter(Boolean);
        const name = def && field(def, 'name');
        if (def && name) bind(name.text, def.type === 'class_definition' ? { kind: 'class', node: def, module } : { kind: 'def', node: def, decorators, module });
        return;
      }
      case 'function_definition':
      case 'class_definition': {
        const name = field(stmt, 'name');
        if (name) bind(name.text, stmt.type === 'class_definition' ? { kind: 'class', node: stmt, module } : { kind: 'def', node: stmt, decorators: [], module });
        return;
      }
      case 'expression_statement':
        for (const c of namedChildren(stmt)) if (c.type === 'assignment') visitAssignment(c);
        return;
      case 'import_statement':
        for (const c of namedChildren(stmt)) {
          const alias = c.type === 'aliased_import' ? field(c, 'alias')?.text : c.text.split('.')[0];
          if (alias) bind(alias, { kind: 'import', node: stmt, module });
        }
        return;
      case 'import_from_statement': {
        const mod = field(stmt, 'module_name');
        const modText = mod?.text ?? '';
        const level = /^\.*/.exec(modText)![0].length;
        const from = modText.slice(level);
        for (const c of namedChildren(stmt)) {
          if (mod && c.id === mod.id) continue;
          if (c.type === 'dotted_name') bind(c.text, { kind: 'import-from', node: stmt, from, level, name: c.text, module });
          else if (c.type === 'aliased_import') {
            const name = field(c, 'name')?.text;
            const alias = field(c, 'alias')?.text;
            if (name && alias) bind(alias, { kind: 'import-from', node: stmt, from, level, name, module });
          }
        }
        return;
      }
      case 'for_statement': {
        const left = field(stmt, 'left');
        if (left) bindTargets(left, stmt);
        break;
      }
      default:
        break;
    }
    if (COMPOUND_STATEMENTS.has(stmt.type)) for (const c of namedChildren(stmt)) visit(c);
  };
  const visitAssignment = (a: SyntaxNode) => {
    const left = field(a, 'left');
    const right = field(a, 'right');
    if (!left || !right) return;
    if (right.type === 'assignment') visitAssignment(right);
    const value = right.type === 'assignment' ? innermostValue(right) : right;
    if (left.type === 'identifier') bind(left.text, { kind: 'assign', node: a, value, module });
    else bindTargets(left, a);
  };
  for (const stmt of namedChildren(module.root)) visit(stmt);
  cache.set(module, out);
  histories.set(module, history);
  return out;
}

/**
 * What `name` is bound to when the statement at `offset` runs (module code
 * runs top to bottom): the last binding made before it, or 'later' when the
 * name is bound only further down, or undefined when it is never bound.
 */
export function bindingBefore(module: PythonModule, name: string, offset: number): ModuleBinding | 'later' | undefined {
  moduleBindings(module);
  const list = histories.get(module)!.get(name);
  if (!list?.length) return undefined;
  const before = list.filter(b => b.node.startIndex < offset);
  return before.at(-1) ?? 'later';
}

function innermostValue(a: SyntaxNode): SyntaxNode {
  const right = field(a, 'right')!;
  return right.type === 'assignment' ? innermostValue(right) : right;
}

/** The callee of a call, or the expression itself. */
export function calleeOf(expr: SyntaxNode): SyntaxNode {
  return expr.type === 'call' ? field(expr, 'function') ?? expr : expr;
}

export function keywordArg(call: SyntaxNode, name: string): SyntaxNode | undefined {
  const args = field(call, 'arguments');
  if (!args) return undefined;
  for (const a of namedChildren(args)) if (a.type === 'keyword_argument' && field(a, 'name')?.text === name) return field(a, 'value') ?? undefined;
  return undefined;
}

export function positionalArgs(call: SyntaxNode): SyntaxNode[] {
  const args = field(call, 'arguments');
  if (!args) return [];
  return namedChildren(args).filter(a => a.type !== 'keyword_argument' && a.type !== 'comment' && a.type !== 'list_splat' && a.type !== 'dictionary_splat');
}

export class BindingResolver {
  constructor(private readonly workspace: Workspace) {}

  /**
   * Follow imports and aliases to the binding that defines `name` in `module`;
   * with `before`, as the module stands when the statement at that offset runs
   * (imported modules have run to their end).
   */
  async lookup(module: PythonModule, name: string, seen = new Set<string>(), before?: number): Promise<{ binding: ModuleBinding; module: PythonModule } | { external: string } | undefined> {
    const key = `${module.path}:${name}`;
    if (seen.has(key)) return undefined;
    seen.add(key);
    const at = before === undefined ? moduleBindings(module).get(name) : bindingBefore(module, name, before);
    const b = at === 'later' ? undefined : at;
    if (!b) return undefined;
    if (b.kind === 'import-from') {
      const target = await this.workspace.resolveImport(module, b.from, b.level);
      if (!target) return { external: `${'.'.repeat(b.level)}${b.from}.${b.name}` };
      const found = await this.lookup(target, b.name, seen);
      return found ?? { external: `${b.from}.${b.name}` };
    }
    if (b.kind === 'assign' && b.value.type === 'identifier') {
      const aliased = await this.lookup(module, b.value.text, seen, before === undefined ? undefined : b.node.startIndex);
      if (aliased) return aliased;
    }
    return { binding: b, module };
  }

  /** The `name` a `TaskEnvironment(...)` bound to `envExpr` was given. */
  async envName(module: PythonModule, envExpr: string): Promise<string | undefined> {
    if (envExpr.includes('.')) return undefined;
    const found = await this.lookup(module, envExpr);
    if (!found || !('binding' in found) || found.binding.kind !== 'assign') return undefined;
    const call = found.binding.value;
    if (call.type !== 'call' || !dottedName(field(call, 'function'))?.endsWith('TaskEnvironment')) return undefined;
    return stringLiteral(keywordArg(call, 'name') ?? positionalArgs(call)[0]);
  }

  /** Classify what a module-level name refers to (as it stands at offset `before`, when given). */
  async classify(module: PythonModule, name: string, before?: number): Promise<RefInfo | undefined> {
    const found = await this.lookup(module, name, new Set(), before);
    if (!found) return undefined;
    if ('external' in found) return classifyExternal(found.external);
    return this.classifyBinding(found.binding);
  }

  async classifyBinding(b: ModuleBinding): Promise<RefInfo> {
    const at = b.module.nodePosition(b.node);
    const durableModule = b.module.moduleName.includes('durable');
    const plain = (what: string, pyName?: string, isCallable = true): RefInfo => durableModule && isCallable
      ? { category: 'durable', taskTemplate: false, callable: true, what: `${what} from module '${b.module.moduleName}' (its __module__ contains "durable")`, pyName, definedAt: at }
      : { category: undefined, taskTemplate: false, callable: isCallable, what, pyName, definedAt: at };
    switch (b.kind) {
      case 'def': {
        const fnName = field(b.node, 'name')?.text ?? '?';
        const top = b.decorators[0];
        if (!top) return plain('plain function', fnName);
        const decoratorName = dottedName(calleeOf(top)) ?? top.text;
        const parts = decoratorName.split('.');
        const last = parts.at(-1);
        if (decoratorName.endsWith('sandbox.orchestrator')) {
          const env = parts.length === 3 ? await this.envName(b.module, parts[0]!) : undefined;
          const explicit = top.type === 'call' ? stringLiteral(keywordArg(top, 'name')) : undefined;
          return { category: 'task', taskTemplate: true, callable: true, what: `sandboxed task (@${decoratorName})`, pyName: fnName, flyteName: explicit ?? `${env ?? parts[0]}.${fnName}`, definedAt: at, declaration: top };
        }
        if (last === 'task' && parts.length >= 2) {
          const env = await this.envName(b.module, parts.slice(0, -1).join('.'));
          const explicit = top.type === 'call' ? stringLiteral(keywordArg(top, 'name')) : undefined;
          return { category: 'task', taskTemplate: true, callable: true, what: `Flyte task (@${decoratorName})`, pyName: fnName, flyteName: explicit ?? `${env ?? parts.slice(0, -1).join('.')}.${fnName}`, definedAt: at, declaration: top };
        }
        if (last === 'syncify') return { category: 'trace', taskTemplate: false, callable: true, what: `@${decoratorName} wrapper (has __wrapped__ and aio)`, pyName: fnName, definedAt: at };
        if (last === 'trace') return plain(`@${decoratorName} function (has __wrapped__ but no aio: Flyte ignores it)`, fnName);
        return plain(`function decorated with @${decoratorName}`, fnName);
      }
      case 'class':
        return plain('class', field(b.node, 'name')?.text);
      case 'assign': {
        const v = b.value;
        if (v.type === 'none') return { category: undefined, taskTemplate: false, callable: false, what: 'None (Flyte skips globals that are None)', definedAt: at };
        if (v.type === 'call') {
          const callee = dottedName(field(v, 'function')) ?? '';
          const first = positionalArgs(v)[0];
          if (callee.endsWith('orchestrator_from_str') || (callee.endsWith('sandbox.orchestrator') && first && stringLiteral(first) !== undefined)) {
            return { category: 'task', taskTemplate: true, callable: true, what: `code-string sandboxed task (${callee})`, pyName: '<lambda>', flyteName: stringLiteral(keywordArg(v, 'name')) ?? 'sandboxed-code', definedAt: at, declaration: v };
          }
          if (callee.endsWith('Task.get') || callee.endsWith('remote.Task.get')) {
            const remoteName = stringLiteral(keywordArg(v, 'name') ?? first);
            return { category: 'task', taskTemplate: false, callable: true, what: `remote task handle (${callee}, a LazyEntity)`, flyteName: remoteName, definedAt: at, declaration: v };
          }
          if (callee.endsWith('.task') && first?.type === 'identifier') {
            const inner = await this.classify(b.module, first.text);
            return { category: 'task', taskTemplate: true, callable: true, what: `Flyte task (${callee}(${first.text}))`, pyName: inner?.pyName ?? first.text, definedAt: at, declaration: v };
          }
        }
        return plain(`value (${v.type.replace(/_/g, ' ')})`, undefined, v.type === 'lambda');
      }
      case 'import':
        return plain('module', undefined, false);
      case 'import-from':
      case 'other':
        return plain('value', undefined, false);
    }
  }
}

/** Names imported from packages outside the workspace: only flyte's own durable wrappers are known. */
function classifyExternal(qualified: string): RefInfo {
  const short = qualified.split('.').at(-1);
  if (qualified.startsWith('flyte.durable.')) {
    return { category: 'trace', taskTemplate: false, callable: true, what: `${qualified} (a @syncify wrapper)`, pyName: short };
  }
  return { category: undefined, taskTemplate: false, callable: true, what: `imported from ${qualified.split('.').slice(0, -1).join('.')} (outside the workspace: not inspected; add it to "externals" if it is a task)`, pyName: short };
}
