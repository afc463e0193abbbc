/**
 * Sandboxed tasks found in a Python file, prepared exactly as flyte-sdk
 * prepares them (spec §1.4–1.5), with their registries (§2) and a source map
 * from the code Monty runs back to the file.
 */
import { dottedName, field, namedChildren, parsePython, type SyntaxNode } from '../python/parser.ts';
import type { FilePosition, PythonModule } from '../python/module.ts';
import { decodeStringLiteral, stringLiteral } from '../python/stringLiteral.ts';
import { TrackedText } from '../python/trackedText.ts';
import { Registry, type RegistryEntry } from '../registry.ts';
import { BindingResolver, calleeOf, keywordArg, moduleBindings, positionalArgs, type RefInfo } from './bindings.ts';
import { codeNames, type CodeNamesOptions, type MissedUse } from './codeNames.ts';
import { SourceMap } from './sourceMap.ts';
import { checkInterface, type TypeCheck } from './typeBoundary.ts';
import type { Workspace } from './workspace.ts';

export type PythonVersion = '3.10' | '3.11' | '3.12' | '3.13' | '3.14';

export interface ExtractOptions {
  /** The production interpreter's version: it decides which names Flyte's discovery sees (default 3.12). */
  pythonVersion?: PythonVersion;
}

export interface TaskInput {
  name: string;
  annotation?: string;
}

/** A problem Flyte would raise while defining the task (at import time), so the task never runs. */
export interface DefinitionError {
  type: string;
  message: string;
  at: FilePosition;
}

export interface DeclaredConfig {
  timeout_ms?: number;
  max_memory?: number;
  max_stack_depth?: number;
  type_check?: boolean;
}

export interface CallSite {
  name: string;
  /** The innermost `def` around the call in the sandbox code (`<module>` at top level). */
  enclosing: string;
  /** Position in the code Monty runs. */
  line: number;
  column: number;
  endLine: number;
  endColumn: number;
  file: FilePosition;
}

export interface SandboxTask {
  kind: 'decorated' | 'code-string';
  /** The Python name: the function's, or the variable a code-string task is assigned to. */
  name: string;
  /** The name Flyte shows in its UI (`<env>.<function>`, or `name=`). */
  flyteName: string;
  module: PythonModule;
  at: FilePosition;
  isAsync: boolean;
  inputs: TaskInput[];
  /** What Monty declares as inputs (`_unused` for a code-string task without inputs). */
  inputNames: string[];
  /** Inputs Flyte supplies itself (`{"_unused": 0}`). */
  implicitInputs: Record<string, unknown>;
  outputs: string[];
  /** Exactly the code flyte-sdk hands to Monty. */
  flyteCode: string;
  /** What we run: `flyteCode` with `await <external>(...)` blanked to a plain call (same columns). */
  code: string;
  sourceMap: SourceMap;
  registry: Registry;
  declared: DeclaredConfig;
  definitionErrors: DefinitionError[];
  /** Every call by plain name in the code, for pausing positions and breakpoints. */
  callSites: CallSite[];
}

export function extractOptions(version: PythonVersion | undefined, futureAnnotations: boolean): CodeNamesOptions {
  const [major, minor] = (version ?? '3.12').split('.').map(Number) as [number, number];
  const v = major * 100 + minor;
  return { inlineComprehensions: v >= 312, eagerAnnotations: v <= 313 && !futureAnnotations };
}

function hasFutureAnnotations(module: PythonModule): boolean {
  return namedChildren(module.root).some(s => s.type === 'future_import_statement' && s.text.includes('annotations'));
}

function isDecoratorOfSandbox(decorator: SyntaxNode): boolean {
  return dottedName(calleeOf(decorator))?.endsWith('sandbox.orchestrator') ?? false;
}

function walk(node: SyntaxNode, visit: (n: SyntaxNode) => boolean | void): void {
  if (visit(node) === false) return;
  for (const c of namedChildren(node)) walk(c, visit);
}

function intLiteral(node: SyntaxNode | undefined): number | undefined {
  if (!node) return undefined;
  if (node.type === 'integer') return Number(node.text.replace(/_/g, ''));
  if (node.type === 'parenthesized_expression') return intLiteral(namedChildren(node)[0]);
  if (node.type === 'binary_operator') {
    const l = intLiteral(field(node, 'left') ?? undefined);
    const r = intLiteral(field(node, 'right') ?? undefined);
    const op = field(node, 'operator')?.text;
    if (l === undefined || r === undefined) return undefined;
    if (op === '*') return l * r;
    if (op === '+') return l + r;
    if (op === '-') return l - r;
    if (op === '**') return l ** r;
  }
  return undefined;
}

function declaredConfig(decorator: SyntaxNode | undefined): DeclaredConfig {
  if (!decorator || decorator.type !== 'call') return {};
  const out: DeclaredConfig = {};
  const t = intLiteral(keywordArg(decorator, 'timeout_ms'));
  const m = intLiteral(keywordArg(decorator, 'max_memory'));
  const d = intLiteral(keywordArg(decorator, 'max_stack_depth'));
  const tc = keywordArg(decorator, 'type_check')?.type;
  if (t !== undefined) out.timeout_ms = t;
  if (m !== undefined) out.max_memory = m;
  if (d !== undefined) out.max_stack_depth = d;
  if (tc === 'true' || tc === 'false') out.type_check = tc === 'true';
  return out;
}

/** Prepared code plus everything derived from parsing it. */
interface Prepared {
  flyteCode: TrackedText;
  code: TrackedText;
  callSites: CallSite[];
  sourceMap: SourceMap;
}

async function prepare(module: PythonModule, flyteCode: TrackedText, registered: (name: string) => boolean): Promise<Prepared> {
  const sourceMap = new SourceMap(flyteCode, module);
  const tree = await parsePython(flyteCode.text);
  let code = flyteCode;
  const callSites: CallSite[] = [];
  const codePos = (offset: number) => {
    const before = flyteCode.text.slice(0, offset);
    const line = before.split('\n').length;
    return { line, column: offset - (before.lastIndexOf('\n') + 1) + 1 };
  };
  walk(tree.rootNode, n => {
    if (n.type === 'call') {
      const fn = field(n, 'function');
      if (fn?.type === 'identifier') {
        const start = codePos(n.startIndex);
        const end = codePos(n.endIndex);
        callSites.push({ name: fn.text, enclosing: enclosingFunction(n), line: start.line, column: start.column, endLine: end.line, endColumn: end.column, file: sourceMap.toFile(start.line, start.column) });
      }
    }
    if (n.type === 'await') {
      let inner = namedChildren(n)[0];
      while (inner?.type === 'parenthesized_expression') inner = namedChildren(inner)[0];
      const fn = inner?.type === 'call' ? field(inner, 'function') : null;
      if (inner && fn?.type === 'identifier' && (registered(fn.text) || fn.text === 'flyte_map')) {
        // Monty's JS binding has no futures: `await ext(x)` would await an int. Blank the keyword, keep every column.
        let end = n.startIndex + 'await'.length;
        while (end < inner.startIndex && code.text[end] === ' ') end++;
        code = code.blank(n.startIndex, end);
      }
    }
  });
  // tree-sitter's trees live in wasm memory that no garbage collector frees.
  tree.delete();
  return { flyteCode, code, callSites, sourceMap };
}

export class TaskExtractor {
  private readonly resolver: BindingResolver;

  constructor(workspace: Workspace, private readonly options: ExtractOptions = {}) {
    this.resolver = new BindingResolver(workspace);
  }

  async extract(module: PythonModule): Promise<SandboxTask[]> {
    const tasks: SandboxTask[] = [];
    const visit = async (node: SyntaxNode): Promise<void> => {
      for (const stmt of namedChildren(node)) {
        if (stmt.type === 'decorated_definition') {
          const def = field(stmt, 'definition');
          const decorators = namedChildren(stmt).filter(c => c.type === 'decorator').map(d => namedChildren(d)[0]!);
          if (def?.type === 'function_definition' && decorators.some(isDecoratorOfSandbox)) tasks.push(await this.decorated(module, stmt, def, decorators));
        } else if (stmt.type === 'expression_statement') {
          const a = namedChildren(stmt)[0];
          if (a?.type === 'assignment') {
            const task = await this.codeString(module, a);
            if (task) tasks.push(task);
          }
        } else if (['if_statement', 'try_statement', 'block', 'else_clause', 'elif_clause', 'except_clause', 'finally_clause', 'with_statement'].includes(stmt.type)) {
          await visit(stmt);
        }
      }
    };
    await visit(module.root);
    return tasks;
  }

  private async decorated(module: PythonModule, stmt: SyntaxNode, def: SyntaxNode, decorators: SyntaxNode[]): Promise<SandboxTask> {
    const name = field(def, 'name')!.text;
    const isAsync = namedChildren(def).some(c => c.type === 'async') || def.text.startsWith('async');
    // inspect.getsource: whole lines from the first decorator to the end of the function.
    const first = module.position(stmt.startIndex);
    const start = module.lineStart(first.line);
    let end = def.endIndex;
    const nl = module.text.indexOf('\n', end);
    end = nl < 0 ? module.text.length : nl + 1;
    let src = TrackedText.fromFile(module.text, start, end).dedent();
    // drop lines before the first that starts with "def " / "async def" (the decorators)
    const lines = src.lineRanges();
    const firstDef = lines.find(([s, e]) => /^(def |async def)/.test(src.text.slice(s, e).trimStart()));
    if (firstDef) src = src.slice(firstDef[0]);
    const params = this.parameters(module, def);
    const call = `${name}(${params.inputNames.join(', ')})`;
    const nameNode = field(def, 'name')!;
    const flyteCode = src.rstrip().concat(TrackedText.synthetic(`\n${isAsync ? 'await ' : ''}${call}`, nameNode.startIndex));

    const { registry } = await this.decoratorRegistry(module, def);
    const prepared = await prepare(module, flyteCode, n => registry.get(n) !== undefined);
    const sandboxDecorator = decorators.find(isDecoratorOfSandbox)!;
    const info = await this.resolver.classifyBinding({ kind: 'def', node: def, decorators, module });

    const definitionErrors = [...params.errors];
    if (hasOwnYield(def)) {
      definitionErrors.unshift({ type: 'TypeError', message: `Sandboxed tasks cannot be ${isAsync ? 'async generators' : 'generators'}: ${name}`, at: module.nodePosition(def) });
    }
    const returnType = field(def, 'return_type');
    const outputs = outputTypes(returnType);
    const boundary = checkInterface([...params.checks, ...outputs.checks], module.moduleName, n => importOrigin(module, n));
    if (boundary) definitionErrors.push({ type: 'TypeError', message: boundary.message, at: module.nodePosition(boundary.node) });

    return {
      kind: 'decorated',
      name,
      flyteName: info.flyteName ?? name,
      module,
      at: module.nodePosition(nameNode),
      isAsync,
      inputs: params.inputs,
      inputNames: params.inputNames,
      implicitInputs: {},
      outputs: outputs.texts,
      flyteCode: flyteCode.text,
      code: prepared.code.text,
      sourceMap: prepared.sourceMap,
      registry,
      declared: declaredConfig(sandboxDecorator),
      definitionErrors,
      callSites: prepared.callSites,
    };
  }

  private parameters(module: PythonModule, def: SyntaxNode): { inputs: TaskInput[]; inputNames: string[]; checks: TypeCheck[]; errors: DefinitionError[] } {
    const inputs: TaskInput[] = [];
    const checks: TypeCheck[] = [];
    const errors: DefinitionError[] = [];
    const params = field(def, 'parameters');
    for (const p of params ? namedChildren(params) : []) {
      const splat = p.type === 'list_splat_pattern' || p.type === 'dictionary_splat_pattern' || (p.type === 'typed_parameter' && namedChildren(p).some(c => c.type.endsWith('splat_pattern')));
      if (splat) {
        const fn = field(def, 'name')!.text;
        errors.push({ type: 'ValueError', message: `Function ${fn} cannot have variable positional or keyword arguments.`, at: module.nodePosition(p) });
        continue;
      }
      const nameNode = p.type === 'identifier' ? p : field(p, 'name') ?? namedChildren(p).find(c => c.type === 'identifier');
      if (!nameNode || p.type === 'keyword_separator' || p.type === 'positional_separator') continue;
      const type = field(p, 'type');
      inputs.push({ name: nameNode.text, ...(type ? { annotation: type.text } : {}) });
      if (type) checks.push({ direction: 'input', name: nameNode.text, annotation: type });
    }
    return { inputs, inputNames: inputs.map(i => i.name), checks, errors };
  }

  private async decoratorRegistry(module: PythonModule, def: SyntaxNode): Promise<{ registry: Registry }> {
    const opts = extractOptions(this.options.pythonVersion, hasFutureAnnotations(module));
    const names = codeNames(def, opts);
    const entries: RegistryEntry[] = [];
    const ignored: RegistryEntry[] = [];
    for (const n of [...names.names].sort()) {
      const info = await this.resolver.classify(module, n);
      if (!info) continue;
      const entry = toEntry(n, info, 'referenced in the task body (co_names)');
      if (info.category) entries.push(entry);
      else ignored.push(entry);
    }
    const registered = new Set(entries.map(e => e.name));
    const hints = await this.refusalHints(module, def, registered, names.missed, opts);
    return { registry: new Registry(entries, hints, ignored) };
  }

  /** For each name the task calls but Flyte will not register, the reason in words. */
  private async refusalHints(module: PythonModule, def: SyntaxNode, registered: Set<string>, missed: MissedUse[], opts: CodeNamesOptions): Promise<Map<string, string>> {
    const hints = new Map<string, string>();
    const where = (p: FilePosition | undefined) => (p ? `${p.file}:${p.line}` : 'an import');
    const called = new Set<string>();
    walk(def, n => {
      if (n.type === 'call' && field(n, 'function')?.type === 'identifier') called.add(field(n, 'function')!.text);
      if (n.type === 'call' && field(n, 'function')?.text === 'flyte_map') {
        const first = positionalArgs(n)[0];
        const s = stringLiteral(first);
        if (s !== undefined) called.add(s);
      }
    });
    for (const name of called) {
      if (registered.has(name) || name === 'flyte_map') continue;
      const info = await this.resolver.classify(module, name);
      if (!info) continue;
      if (info.category) {
        const uses = missed.filter(m => m.name === name);
        const why = uses.length
          ? `it is used only ${uses[0]!.where} (line ${module.nodePosition(uses[0]!.node).line})${uses[0]!.where.includes('comprehension') && !opts.inlineComprehensions ? ', a separate code object before Python 3.12' : ''}, and Flyte scans only the task's own code object (co_names)`
          : `it is never referenced by name in the task body (a string in flyte_map("${name}", ...) is not a reference), and Flyte scans only the task's own code object (co_names)`;
        hints.set(name, `${name} is a ${info.what} (${where(info.definedAt)}), but Flyte does not register it for this sandboxed task: ${why}. Production fails the same way. Reference ${name} directly in the task body to register it.`);
      } else {
        hints.set(name, `${name} is a ${info.what} (${where(info.definedAt)}). Flyte registers only tasks, remote task handles and @syncify/durable wrappers, and Monty receives only the task's own source, so other module-level code is not available in the sandbox.`);
      }
    }
    return hints;
  }

  private async codeString(module: PythonModule, assignment: SyntaxNode): Promise<SandboxTask | undefined> {
    const left = field(assignment, 'left');
    const call = field(assignment, 'right');
    if (left?.type !== 'identifier' || call?.type !== 'call') return undefined;
    const callee = dottedName(field(call, 'function')) ?? '';
    const sourceArg = keywordArg(call, 'source') ?? positionalArgs(call)[0];
    const isFromStr = callee === 'orchestrator_from_str' || callee.endsWith('.orchestrator_from_str');
    const isEnvForm = callee.endsWith('sandbox.orchestrator') && sourceArg !== undefined && (sourceArg.type === 'string' || sourceArg.type === 'concatenated_string');
    if (!isFromStr && !isEnvForm) return undefined;
    const at = module.nodePosition(left);
    const definitionErrors: DefinitionError[] = [];
    let literal = decodeStringLiteral(sourceArg);
    // The file the code's characters come from: this one, or the workspace file a name is imported from.
    let codeModule = module;
    if (!literal && sourceArg?.type === 'identifier') {
      const found = await this.resolver.lookup(module, sourceArg.text);
      if (found && 'binding' in found && found.binding.kind === 'assign') {
        literal = decodeStringLiteral(found.binding.value);
        if (literal) codeModule = found.module;
      }
    }
    if (!literal) {
      definitionErrors.push({ type: 'UnsupportedSource', message: 'the code of an orchestrator_from_str task must be a string literal (or a module-level name bound to one) for the debugger to read it', at: sourceArg ? module.nodePosition(sourceArg) : at });
      literal = TrackedText.synthetic('', left.startIndex);
    }
    // prepare_code_source: dedent, strip, empty -> "None"
    let prepared = literal.dedent().strip();
    if (prepared.text === '') {
      prepared = TrackedText.synthetic('None', sourceArg?.startIndex ?? left.startIndex);
      codeModule = module;
    }

    const inputsNode = keywordArg(call, 'inputs');
    const inputs: TaskInput[] = [];
    const checks: TypeCheck[] = [];
    if (inputsNode?.type === 'dictionary') {
      for (const pair of namedChildren(inputsNode)) {
        const key = stringLiteral(field(pair, 'key'));
        const value = field(pair, 'value');
        if (key === undefined || !value) continue;
        inputs.push({ name: key, annotation: value.text });
        checks.push({ direction: 'input', name: key, annotation: value });
      }
    } else if (inputsNode && inputsNode.type !== 'none') {
      definitionErrors.push({ type: 'UnsupportedSource', message: 'inputs= must be a dict literal for the debugger to read the input names', at: module.nodePosition(inputsNode) });
    }
    const outputNode = keywordArg(call, 'output');
    const outputs = outputNode && !['none', 'type(None)'].includes(outputNode.type === 'none' ? 'none' : outputNode.text) ? [outputNode.text] : [];
    if (outputNode && outputs.length) checks.push({ direction: 'output', name: 'o0', annotation: outputNode });
    const boundary = checkInterface(checks, module.moduleName, n => importOrigin(module, n));
    if (boundary) definitionErrors.push({ type: 'TypeError', message: boundary.message, at: module.nodePosition(boundary.node) });

    const { registry, errors } = await this.tasksListRegistry(module, keywordArg(call, 'tasks'));
    definitionErrors.push(...errors);
    const code = await prepare(codeModule, prepared, n => registry.get(n) !== undefined);
    const inputNames = inputs.length ? inputs.map(i => i.name) : ['_unused'];
    return {
      kind: 'code-string',
      name: left.text,
      flyteName: stringLiteral(keywordArg(call, 'name')) ?? 'sandboxed-code',
      module,
      at,
      isAsync: false,
      inputs,
      inputNames,
      implicitInputs: inputs.length ? {} : { _unused: 0 },
      outputs,
      flyteCode: prepared.text,
      code: code.code.text,
      sourceMap: code.sourceMap,
      registry,
      declared: declaredConfig(call),
      definitionErrors,
      callSites: code.callSites,
    };
  }

  /** `_tasks_to_dict` + `_classify_refs` over a `tasks=[...]` literal. */
  private async tasksListRegistry(module: PythonModule, list: SyntaxNode | undefined): Promise<{ registry: Registry; errors: DefinitionError[] }> {
    const entries: RegistryEntry[] = [];
    const errors: DefinitionError[] = [];
    if (!list || list.type === 'none') return { registry: new Registry([]), errors };
    if (list.type !== 'list' && list.type !== 'tuple') {
      errors.push({ type: 'UnsupportedSource', message: 'tasks= must be a list literal for the debugger to read it', at: module.nodePosition(list) });
      return { registry: new Registry([]), errors };
    }
    const seen = new Set<string>();
    for (const item of namedChildren(list)) {
      const ref = item.type === 'identifier' ? item.text : dottedName(item);
      const info = ref && !ref.includes('.') ? await this.resolver.classify(module, ref) : undefined;
      const at = module.nodePosition(item);
      if (!info) {
        // Not defined in the workspace: assume a callable named as written.
        const key = ref?.split('.').at(-1) ?? item.text;
        entries.push({ name: key, category: 'trace', taskTemplate: false, what: `${item.text} (not found in the workspace: treated as a plain callable)`, reason: 'in tasks=[...]' });
        continue;
      }
      if (!info.callable) {
        errors.push({ type: 'TypeError', message: `Expected a callable or TaskTemplate, got ${info.what}`, at });
        continue;
      }
      if (info.pyName === undefined) {
        errors.push({ type: 'AttributeError', message: `'LazyEntity' object has no attribute '__name__' (flyte.remote.Task.get handles cannot go in tasks=[...]; reference them from a decorated task instead)`, at });
        continue;
      }
      if (seen.has(info.pyName)) {
        errors.push({ type: 'ValueError', message: `Duplicate task name '${info.pyName}'`, at });
        continue;
      }
      seen.add(info.pyName);
      // _classify_refs: anything that is not a task or durable is a trace ref.
      entries.push(toEntry(info.pyName, { ...info, category: info.category ?? 'trace' }, `in tasks=[...] as ${item.text}`));
    }
    return { registry: new Registry(entries), errors };
  }
}

function toEntry(name: string, info: RefInfo, reason: string): RegistryEntry {
  return {
    name,
    category: info.category ?? 'trace',
    taskTemplate: info.taskTemplate,
    what: info.what,
    reason,
    ...(info.flyteName ? { flyteName: info.flyteName } : {}),
    ...(info.definedAt ? { definedAt: info.definedAt } : {}),
  };
}

function importOrigin(module: PythonModule, name: string): string | undefined {
  const b = moduleBindings(module).get(name);
  return b?.kind === 'import-from' ? `${b.from}.${b.name}` : undefined;
}

function outputTypes(returnType: SyntaxNode | null): { texts: string[]; checks: TypeCheck[] } {
  if (!returnType) return { texts: [], checks: [] };
  const inner = namedChildren(returnType)[0] ?? returnType;
  if (inner.type === 'none') return { texts: [], checks: [] };
  if (inner.type === 'generic_type' && namedChildren(inner)[0]?.text.match(/^(tuple|Tuple)$/)) {
    const args = namedChildren(namedChildren(inner)[1] ?? inner).filter(c => c.type === 'type');
    if (args.length && !args.some(a => a.text === '...')) {
      return { texts: args.map(a => a.text), checks: args.map((a, i) => ({ direction: 'output', name: `o${i}`, annotation: a })) };
    }
  }
  return { texts: [returnType.text], checks: [{ direction: 'output', name: 'o0', annotation: returnType }] };
}

function enclosingFunction(node: SyntaxNode): string {
  for (let p = node.parent; p; p = p.parent) if (p.type === 'function_definition') return field(p, 'name')?.text ?? '?';
  return '<module>';
}

/** `yield` in the function's own body (not in nested functions or lambdas). */
function hasOwnYield(def: SyntaxNode): boolean {
  let found = false;
  const body = field(def, 'body');
  if (body) walk(body, n => {
    if (n.type === 'function_definition' || n.type === 'lambda' || n.type === 'class_definition') return false;
    if (n.type === 'yield') found = true;
    return !found;
  });
  return found;
}
