/**
 * Sandboxed tasks found in a Python file, prepared exactly as flyte-sdk
 * prepares them (spec §1.4–1.5), with their registries (§2) and a source map
 * from the code Monty runs back to the file. Decorated tasks live here; code
 * strings and one-shot `orchestrate_local` runs in `codeTasks.ts`.
 */
import { dottedName, field, namedChildren, parsePython, type SyntaxNode } from '../python/parser.ts';
import type { FilePosition, PythonModule } from '../python/module.ts';
import { stringLiteral } from '../python/stringLiteral.ts';
import { TrackedText } from '../python/trackedText.ts';
import { defaultProfile, type FlyteProfile } from '../profiles.ts';
import { Registry, type RegistryEntry } from '../registry.ts';
import { BindingResolver, bindingBefore, calleeOf, keywordArg, moduleBindings, positionalArgs, type RefInfo } from './bindings.ts';
import { decoratorProblem } from './callForms.ts';
import { CodeTaskReader, type UnreadableCall } from './codeTasks.ts';
import { codeNames, type CodeNamesOptions, type MissedUse } from './codeNames.ts';
import { floatExpr, floatShape, type FloatShape } from './floatInputs.ts';
import { literalValue } from './literals.ts';
import { abortModuleOnImportError } from './moduleImport.ts';
import { SourceMap } from './sourceMap.ts';
import { checkInterface, type TypeCheck } from './typeBoundary.ts';
import type { Workspace } from './workspace.ts';

export type PythonVersion = '3.10' | '3.11' | '3.12' | '3.13' | '3.14';
export const DEFAULT_PYTHON_VERSION: PythonVersion = '3.12';

export interface ExtractOptions {
  /** The production interpreter's version: it decides which names Flyte's discovery sees (default 3.12). */
  pythonVersion?: PythonVersion;
  /** The Flyte release whose semantics to reproduce (default: the default profile). */
  profile?: FlyteProfile;
}

/** A parameter default (or an `orchestrate_local` input value), as written and as read. */
export interface InputDefault {
  text: string;
  /** Present when the text is a literal (or a module constant holding one). */
  value?: unknown;
  /** Why the debugger cannot use it, when `value` is absent. */
  problem?: string;
}

export interface TaskInput {
  name: string;
  annotation?: string;
  default?: InputDefault;
  /** Where floats sit in the declared type: Flyte's type engine makes them floats. */
  floats?: FloatShape;
}

/** A problem Flyte would raise while defining the task, so the task never runs. */
export interface DefinitionError {
  type: string;
  message: string;
  at: FilePosition;
  /** Raised while Python imports the module (so the import stops there), not when something is called later. */
  importTime: boolean;
  /** The task (or statement) that raises it, when another task of the file fails because of it. */
  raisedBy?: string;
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

export type TaskKind = 'decorated' | 'code-string' | 'one-shot';

export interface SandboxTask {
  /** decorated: `@env.sandbox.orchestrator`; code-string: `orchestrator_from_str` / `env.sandbox.orchestrator("...")`; one-shot: `orchestrate_local(...)`. */
  kind: TaskKind;
  /** The Python name: the function's, the variable a code-string task is assigned to, or `orchestrate_local@<line>`. */
  name: string;
  /** The name Flyte shows in its UI (`<env>.<function>`, or `name=`). */
  flyteName: string;
  module: PythonModule;
  /** The file its code is in: `module`, except for a code string imported from another workspace file. */
  codeModule: PythonModule;
  at: FilePosition;
  isAsync: boolean;
  inputs: TaskInput[];
  /** What Monty declares as inputs (`_unused` for a code-string task without inputs, when the profile injects it). */
  inputNames: string[];
  /** Inputs Flyte supplies itself (`{"_unused": 0}`). */
  implicitInputs: Record<string, unknown>;
  outputs: string[];
  /** Exactly the code flyte-sdk hands to Monty. */
  flyteCode: string;
  /** What we run: `flyteCode` with float inputs converted as Flyte's type engine does and, for a profile whose bridge awaits, `await <external>(...)` blanked to a plain call (same columns). */
  code: string;
  sourceMap: SourceMap;
  registry: Registry;
  declared: DeclaredConfig;
  definitionErrors: DefinitionError[];
  /** Every call by plain name in the code, for pausing positions and breakpoints. */
  callSites: CallSite[];
  profile: FlyteProfile;
  pythonVersion: PythonVersion;
}

export function extractOptions(version: PythonVersion | undefined, futureAnnotations: boolean): CodeNamesOptions {
  const [major, minor] = (version ?? DEFAULT_PYTHON_VERSION).split('.').map(Number) as [number, number];
  const v = major * 100 + minor;
  return { inlineComprehensions: v >= 312, eagerAnnotations: v <= 313 && !futureAnnotations };
}

function hasFutureAnnotations(module: PythonModule): boolean {
  return namedChildren(module.root).some(s => s.type === 'future_import_statement' && s.text.includes('annotations'));
}

export function isDecoratorOfSandbox(decorator: SyntaxNode): boolean {
  return dottedName(calleeOf(decorator))?.endsWith('sandbox.orchestrator') ?? false;
}

export function walk(node: SyntaxNode, visit: (n: SyntaxNode) => boolean | void): void {
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

export function declaredConfig(decorator: SyntaxNode | undefined): DeclaredConfig {
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
export interface Prepared {
  code: TrackedText;
  callSites: CallSite[];
  sourceMap: SourceMap;
}

/**
 * Parse the code we run: its call sites, the source map, and (for a profile
 * whose bridge awaits external calls) `await ext(...)` blanked to a plain call:
 * Monty's JS binding has no futures, so that is how a resolved future looks.
 */
export async function prepare(module: PythonModule, runCode: TrackedText, registered: (name: string) => boolean, profile: FlyteProfile): Promise<Prepared> {
  const tree = await parsePython(runCode.text);
  let code = runCode;
  const provisional = new SourceMap(runCode, module);
  const callSites: CallSite[] = [];
  const codePos = (offset: number) => {
    const before = runCode.text.slice(0, offset);
    const line = before.split('\n').length;
    return { line, column: offset - (before.lastIndexOf('\n') + 1) + 1 };
  };
  walk(tree.rootNode, n => {
    if (n.type === 'call') {
      const fn = field(n, 'function');
      if (fn?.type === 'identifier') {
        const start = codePos(n.startIndex);
        const end = codePos(n.endIndex);
        callSites.push({ name: fn.text, enclosing: enclosingFunction(n), line: start.line, column: start.column, endLine: end.line, endColumn: end.column, file: provisional.toFile(start.line, start.column) });
      }
    }
    if (n.type === 'await' && profile.awaitExternal === 'awaits') {
      let inner = namedChildren(n)[0];
      while (inner?.type === 'parenthesized_expression') inner = namedChildren(inner)[0];
      const fn = inner?.type === 'call' ? field(inner, 'function') : null;
      if (inner && fn?.type === 'identifier' && (registered(fn.text) || fn.text === 'flyte_map')) {
        let end = n.startIndex + 'await'.length;
        while (end < inner.startIndex && code.text[end] === ' ') end++;
        code = code.blank(n.startIndex, end);
      }
    }
  });
  // tree-sitter's trees live in wasm memory that no garbage collector frees.
  tree.delete();
  return { code, callSites, sourceMap: new SourceMap(code, module) };
}

export class TaskExtractor {
  private readonly resolver: BindingResolver;
  private readonly profile: FlyteProfile;
  private readonly pythonVersion: PythonVersion;

  constructor(workspace: Workspace, private readonly options: ExtractOptions = {}) {
    this.resolver = new BindingResolver(workspace);
    this.profile = options.profile ?? defaultProfile();
    this.pythonVersion = options.pythonVersion ?? DEFAULT_PYTHON_VERSION;
  }

  /** The file's sandboxed tasks, and the sandbox calls seen whose code the debugger cannot read. */
  async extract(module: PythonModule): Promise<{ tasks: SandboxTask[]; unreadable: UnreadableCall[] }> {
    const tasks: SandboxTask[] = [];
    const codeTasks = new CodeTaskReader(this.resolver, this.profile, this.pythonVersion);
    await codeTasks.load(module);
    const visit = async (node: SyntaxNode): Promise<void> => {
      for (const stmt of namedChildren(node)) {
        if (stmt.type === 'decorated_definition') {
          const def = field(stmt, 'definition');
          const decorators = namedChildren(stmt).filter(c => c.type === 'decorator').map(d => namedChildren(d)[0]!);
          if (def?.type === 'function_definition' && decorators.some(isDecoratorOfSandbox)) tasks.push(await this.decorated(module, stmt, def, decorators));
        } else if (stmt.type === 'expression_statement') {
          const a = namedChildren(stmt)[0];
          if (a?.type === 'assignment') {
            const task = await codeTasks.codeString(module, a);
            if (task) tasks.push(task);
          }
        } else if (['if_statement', 'try_statement', 'block', 'else_clause', 'elif_clause', 'except_clause', 'finally_clause', 'with_statement'].includes(stmt.type)) {
          await visit(stmt);
        }
      }
    };
    await visit(module.root);
    tasks.push(...await codeTasks.oneShots(module));
    const unreadable = codeTasks.unreadable(module);
    abortModuleOnImportError(tasks);
    return { tasks, unreadable };
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
    const params = this.parameters(module, def, stmt.startIndex);
    const nameNode = field(def, 'name')!;
    const trailing = (args: string[]) => TrackedText.synthetic(`\n${isAsync ? 'await ' : ''}${name}(${args.join(', ')})`, nameNode.startIndex);
    const body = src.rstrip();
    const flyteCode = body.concat(trailing(params.inputNames));
    // Flyte's type engine hands float inputs over as floats: convert them in the trailing call (no line moves).
    const runCode = body.concat(trailing(params.inputs.map(i => (i.floats ? floatExpr(i.floats, i.name) : i.name))));

    const { registry } = await this.decoratorRegistry(module, stmt, def);
    const prepared = await prepare(module, runCode, n => registry.get(n) !== undefined, this.profile);
    const sandboxDecorator = decorators.find(isDecoratorOfSandbox)!;
    const info = await this.resolver.classifyBinding({ kind: 'def', node: def, decorators, module });

    // In the order Flyte meets them: the decorator call, NativeInterface.from_callable, the type boundary, extract_source.
    const definitionErrors: DefinitionError[] = [];
    const form = decoratorProblem(sandboxDecorator, module);
    if (form) definitionErrors.push({ type: form.type, message: form.message, at: module.nodePosition(form.node), importTime: true });
    definitionErrors.push(...params.errors);
    const returnType = field(def, 'return_type');
    const outputs = outputTypes(returnType);
    const boundary = checkInterface([...params.checks, ...outputs.checks], module.moduleName, n => importOrigin(module, n));
    if (boundary) definitionErrors.push({ type: 'TypeError', message: boundary.message, at: module.nodePosition(boundary.node), importTime: true });
    if (hasOwnYield(def)) {
      definitionErrors.push({ type: 'TypeError', message: `Sandboxed tasks cannot be ${isAsync ? 'async generators' : 'generators'}: ${name}`, at: module.nodePosition(def), importTime: true });
    }

    return {
      kind: 'decorated',
      name,
      flyteName: info.flyteName ?? name,
      module,
      codeModule: module,
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
      profile: this.profile,
      pythonVersion: this.pythonVersion,
    };
  }

  private parameters(module: PythonModule, def: SyntaxNode, definedAt: number): { inputs: TaskInput[]; inputNames: string[]; checks: TypeCheck[]; errors: DefinitionError[] } {
    const inputs: TaskInput[] = [];
    const checks: TypeCheck[] = [];
    const errors: DefinitionError[] = [];
    const params = field(def, 'parameters');
    for (const p of params ? namedChildren(params) : []) {
      const splat = p.type === 'list_splat_pattern' || p.type === 'dictionary_splat_pattern' || (p.type === 'typed_parameter' && namedChildren(p).some(c => c.type.endsWith('splat_pattern')));
      if (splat) {
        const fn = field(def, 'name')!.text;
        if (!errors.length) errors.push({ type: 'ValueError', message: `Function ${fn} cannot have variable positional or keyword arguments.`, at: module.nodePosition(p), importTime: true });
        continue;
      }
      const nameNode = p.type === 'identifier' ? p : field(p, 'name') ?? namedChildren(p).find(c => c.type === 'identifier');
      if (!nameNode || p.type === 'keyword_separator' || p.type === 'positional_separator') continue;
      const type = field(p, 'type');
      const input: TaskInput = { name: nameNode.text, ...(type ? { annotation: type.text } : {}) };
      const shape = floatShape(type);
      if (shape) input.floats = shape;
      const value = field(p, 'value');
      if (value) {
        const lit = literalValue(value, module, definedAt);
        input.default = lit
          ? { text: value.text, value: lit.value }
          : { text: value.text, problem: `its default \`${value.text}\` is not a literal the debugger can evaluate (Flyte would evaluate it when the module is imported)` };
      }
      inputs.push(input);
      if (type) checks.push({ direction: 'input', name: nameNode.text, annotation: type });
    }
    return { inputs, inputNames: inputs.map(i => i.name), checks, errors };
  }

  private async decoratorRegistry(module: PythonModule, stmt: SyntaxNode, def: SyntaxNode): Promise<{ registry: Registry }> {
    const opts = extractOptions(this.options.pythonVersion, hasFutureAnnotations(module));
    const names = codeNames(def, opts);
    const entries: RegistryEntry[] = [];
    const ignored: RegistryEntry[] = [];
    // Flyte scans func.__globals__ when the decorator runs: only what the module has bound by then counts.
    for (const n of [...names.names].sort()) {
      const info = await this.resolver.classify(module, n, stmt.startIndex);
      if (!info) continue;
      const entry = toEntry(n, info, 'referenced in the task body (co_names)');
      if (info.category) entries.push(entry);
      else ignored.push(entry);
    }
    const registered = new Set(entries.map(e => e.name));
    const hints = await this.refusalHints(module, stmt, def, registered, names.missed, opts);
    return { registry: new Registry(entries, hints, ignored) };
  }

  /** For each name the task calls but Flyte will not register, the reason in words. */
  private async refusalHints(module: PythonModule, stmt: SyntaxNode, def: SyntaxNode, registered: Set<string>, missed: MissedUse[], opts: CodeNamesOptions): Promise<Map<string, string>> {
    const hints = new Map<string, string>();
    const where = (p: FilePosition | undefined) => (p ? `${p.file}:${p.line}` : 'an import');
    const taskName = field(def, 'name')!.text;
    const taskLine = module.nodePosition(stmt).line;
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
      const notYet = bindingBefore(module, name, stmt.startIndex) === 'later' ? moduleBindings(module).get(name) : undefined;
      if (info.category && notYet) {
        const line = module.nodePosition(notYet.node).line;
        hints.set(name, `${name} is a ${info.what} defined at line ${line}, below ${taskName} (line ${taskLine}). Flyte collects a sandboxed task's externals when its decorator runs, while the module is still being imported, so ${name} did not exist yet and was not registered. Production fails the same way. Define ${name} above ${taskName}.`);
      } else if (info.category) {
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
}

export function toEntry(name: string, info: RefInfo, reason: string): RegistryEntry {
  return {
    name,
    category: info.category ?? 'trace',
    taskTemplate: info.taskTemplate,
    ...(info.taskTemplate || /syncify/.test(info.what) ? {} : { noAio: /LazyEntity/.test(info.what) ? 'LazyEntity' : 'function' }),
    what: info.what,
    reason,
    ...(info.flyteName ? { flyteName: info.flyteName } : {}),
    ...(info.definedAt ? { definedAt: info.definedAt } : {}),
  };
}

export function importOrigin(module: PythonModule, name: string): string | undefined {
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
