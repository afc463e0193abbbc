/**
 * Sandboxed code given as a string: `orchestrator_from_str(...)` and
 * `env.sandbox.orchestrator("...")` tasks assigned at module level, and
 * one-shot `flyte.sandbox.orchestrate_local(...)` runs found anywhere (spec
 * §1.2, §1.3, §2.2, §2.3). A code string is read when it is a literal, a
 * module-level constant (of this file, or imported from another workspace
 * file: its positions are then that file's), or a `+` concatenation of those;
 * any other sandbox call seen is reported with the reason it cannot be read.
 */
import { dottedName, field, namedChildren, type SyntaxNode } from '../python/parser.ts';
import type { FilePosition, PythonModule } from '../python/module.ts';
import { decodeStringLiteral, stringLiteral } from '../python/stringLiteral.ts';
import { TrackedText } from '../python/trackedText.ts';
import type { FlyteProfile } from '../profiles.ts';
import { Registry, type RegistryEntry } from '../registry.ts';
import { BindingResolver, bindingBefore, keywordArg, moduleBindings, positionalArgs } from './bindings.ts';
import { callFormError, type SandboxCallee } from './callForms.ts';
import { codeNames } from './codeNames.ts';
import { floatExpr, floatShape } from './floatInputs.ts';
import { literalTypeName, literalValue } from './literals.ts';
import { checkInterface, type TypeCheck } from './typeBoundary.ts';
import { declaredConfig, importOrigin, prepare, toEntry, walk, type DefinitionError, type PythonVersion, type SandboxTask, type TaskInput } from './tasks.ts';

/** A sandbox call the debugger saw but cannot turn into a runnable task, and why. */
export interface UnreadableCall {
  at: FilePosition;
  /** `flyte.sandbox.orchestrator_from_str(...)`, as written up to the parenthesis. */
  call: string;
  reason: string;
  /** Module-level names whose value comes from this call (`sum_task = make_reducer("sum")`). */
  assignedTo: string[];
}

function sandboxCallee(call: SyntaxNode): SandboxCallee | undefined {
  const callee = dottedName(field(call, 'function')) ?? '';
  if (callee === 'orchestrator_from_str' || callee.endsWith('.orchestrator_from_str')) return 'orchestrator_from_str';
  if (callee === 'orchestrate_local' || callee.endsWith('.orchestrate_local')) return 'orchestrate_local';
  if (callee.endsWith('sandbox.orchestrator')) return 'orchestrator';
  return undefined;
}

function enclosingDef(node: SyntaxNode): SyntaxNode | undefined {
  for (let p = node.parent; p; p = p.parent) if (p.type === 'function_definition') return p;
  return undefined;
}

type Source = { text: TrackedText; module: PythonModule } | { problem: string };

/** What `from X import NAME` binds, for the code strings of a module: the constant's value in X, or why it cannot be read. */
type Imported = Map<string, { module: PythonModule; value: SyntaxNode } | { problem: string }>;

/** The code string an expression holds, when the source shows it. */
function codeSource(node: SyntaxNode | undefined, module: PythonModule, before: number | undefined, fn: SyntaxNode | undefined, imported: Imported = new Map(), depth = 0): Source {
  if (!node) return { problem: 'no code string is given' };
  if (depth > 20) return { problem: 'its code is defined through too many names' };
  switch (node.type) {
    case 'string':
    case 'concatenated_string': {
      const t = decodeStringLiteral(node);
      if (t) return { text: t, module };
      return { problem: `its code is an f-string or bytes literal (\`${snippet(node)}\`), built when it runs` };
    }
    case 'parenthesized_expression':
      return codeSource(namedChildren(node)[0], module, before, fn, imported, depth + 1);
    case 'binary_operator': {
      if (field(node, 'operator')?.text !== '+') return { problem: `its code is computed (\`${snippet(node)}\`) when it runs` };
      const l = codeSource(field(node, 'left') ?? undefined, module, before, fn, imported, depth + 1);
      if ('problem' in l) return l;
      const r = codeSource(field(node, 'right') ?? undefined, module, before, fn, imported, depth + 1);
      if ('problem' in r) return r;
      if (l.module !== r.module) return { problem: `its code joins strings from ${l.module.path} and ${r.module.path}; the debugger reads a code string from one file` };
      return { text: l.text.concat(r.text), module: l.module };
    }
    case 'call': {
      const callee = dottedName(field(node, 'function'));
      const args = positionalArgs(node);
      if ((callee === 'textwrap.dedent' || callee === 'dedent') && args.length === 1) return codeSource(args[0], module, before, fn, imported, depth + 1);
      return { problem: `its code is the result of \`${snippet(node)}\`, computed when it runs` };
    }
    case 'identifier': {
      if (fn && codeNames(fn, { inlineComprehensions: true, eagerAnnotations: false }).locals.has(node.text)) {
        const fname = field(fn, 'name')?.text ?? '?';
        return { problem: `its code is \`${node.text}\`, a ${isParameter(fn, node.text) ? 'parameter' : 'local variable'} of ${fname}(), known only when ${fname}() runs` };
      }
      const b = before === undefined ? moduleBindings(module).get(node.text) : bindingBefore(module, node.text, before);
      if (b === 'later') return { problem: `its code is \`${node.text}\`, which is assigned only further down the module` };
      if (!b) return { problem: `its code is \`${node.text}\`, which is not defined at module level in this file` };
      if (b.kind === 'import-from') {
        const from = imported.get(node.text);
        if (!from) return { problem: `its code is \`${node.text}\`, imported from ${'.'.repeat(b.level)}${b.from}, which is not a file of the workspace` };
        if ('problem' in from) return from;
        // the other file has run to its end when this import is done
        return codeSource(from.value, from.module, undefined, undefined, new Map(), depth + 1);
      }
      if (b.kind !== 'assign') return { problem: `its code is \`${node.text}\`, which is not a string constant` };
      return codeSource(b.value, module, b.node.startIndex, undefined, imported, depth + 1);
    }
    default:
      return { problem: `its code is \`${snippet(node)}\`, computed when it runs` };
  }
}

function isParameter(fn: SyntaxNode, name: string): boolean {
  const params = field(fn, 'parameters');
  return (params ? namedChildren(params) : []).some(p => (p.type === 'identifier' ? p.text : (field(p, 'name') ?? namedChildren(p).find(c => c.type === 'identifier'))?.text) === name);
}

function snippet(node: SyntaxNode): string {
  const t = node.text.replace(/\s+/g, ' ');
  return t.length > 40 ? t.slice(0, 39) + '…' : t;
}

export class CodeTaskReader {
  private readonly consumed = new Set<number>();
  /** The module's `from X import NAME` of constants in workspace files (`load`). */
  private imported: Imported = new Map();

  constructor(private readonly resolver: BindingResolver, private readonly profile: FlyteProfile, private readonly pythonVersion: PythonVersion) {}

  /** Read what the module imports from other workspace files by name, for code strings kept there. */
  async load(module: PythonModule): Promise<void> {
    this.imported = new Map();
    for (const [name, b] of moduleBindings(module)) {
      if (b.kind !== 'import-from') continue;
      const found = await this.resolver.lookup(module, name);
      if (!found || 'external' in found) continue;
      if (found.binding.kind === 'assign') this.imported.set(name, { module: found.module, value: found.binding.value });
      else this.imported.set(name, { problem: `its code is \`${name}\`, which is not a string constant in ${found.module.path}` });
    }
  }

  /** A module-level `name = orchestrator_from_str(...)` or `name = env.sandbox.orchestrator("...", ...)`. */
  async codeString(module: PythonModule, assignment: SyntaxNode): Promise<SandboxTask | undefined> {
    const left = field(assignment, 'left');
    const call = field(assignment, 'right');
    if (left?.type !== 'identifier' || call?.type !== 'call') return undefined;
    const callee = sandboxCallee(call);
    const sourceArg = callee === 'orchestrator_from_str' ? keywordArg(call, 'source') ?? positionalArgs(call)[0] : positionalArgs(call)[0];
    if (callee !== 'orchestrator_from_str' && callee !== 'orchestrator') return undefined;
    if (callee === 'orchestrator' && (!sourceArg || literalTypeName(sourceArg, module, call.startIndex) !== 'str')) return undefined;
    const source = codeSource(sourceArg, module, call.startIndex, undefined, this.imported);
    if ('problem' in source) return undefined;
    this.consumed.add(call.id);
    const at = module.nodePosition(left);
    const inputs = this.declaredInputs(module, keywordArg(call, 'inputs'));
    // Python evaluates the arguments first (a name not yet bound is a NameError), then binds the call, then Flyte builds the task.
    const { registry, nameErrors, errors } = await this.tasksListRegistry(module, keywordArg(call, 'tasks'), call.startIndex, true);
    const definitionErrors: DefinitionError[] = [...nameErrors];
    const form = callFormError(callee, call);
    if (form) definitionErrors.push({ type: 'TypeError', message: form, at: module.nodePosition(call), importTime: true });
    definitionErrors.push(...errors, ...inputs.errors);
    const outputNode = keywordArg(call, 'output');
    const outputs = outputNode && !['none', 'type(None)'].includes(outputNode.type === 'none' ? 'none' : outputNode.text) ? [outputNode.text] : [];
    const checks = [...inputs.checks];
    if (outputNode && outputs.length) checks.push({ direction: 'output', name: 'o0', annotation: outputNode });
    const boundary = checkInterface(checks, module.moduleName, n => importOrigin(module, n));
    if (boundary) definitionErrors.push({ type: 'TypeError', message: boundary.message, at: module.nodePosition(boundary.node), importTime: true });

    const dummy = !inputs.inputs.length && this.profile.dummyInput;
    return this.build(module, {
      kind: 'code-string',
      name: left.text,
      flyteName: stringLiteral(keywordArg(call, 'name')) ?? 'sandboxed-code',
      at,
      code: source.text,
      codeModule: source.module,
      origin: sourceArg?.startIndex ?? left.startIndex,
      inputs: inputs.inputs,
      inputNames: dummy ? ['_unused'] : inputs.inputs.map(i => i.name),
      implicitInputs: dummy ? { _unused: 0 } : {},
      outputs,
      registry,
      declared: declaredConfig(call),
      definitionErrors,
      preludeAt: inputs.node?.startIndex ?? left.startIndex,
    });
  }

  /** Every `orchestrate_local(...)` call whose code can be read, as a one-shot task named by its line. */
  async oneShots(module: PythonModule): Promise<SandboxTask[]> {
    const calls: SyntaxNode[] = [];
    walk(module.root, n => {
      if (n.type === 'call' && sandboxCallee(n) === 'orchestrate_local') calls.push(n);
    });
    const out: SandboxTask[] = [];
    for (const call of calls) {
      const fn = enclosingDef(call);
      const before = fn ? undefined : call.startIndex;
      const sourceArg = keywordArg(call, 'source') ?? positionalArgs(call)[0];
      const source = codeSource(sourceArg, module, before, fn, this.imported);
      if ('problem' in source) continue;
      const inputs = this.valueInputs(module, keywordArg(call, 'inputs'), before);
      if (!inputs) continue;
      this.consumed.add(call.id);
      // Inside a function nothing happens until it is called: its errors are the call's, not the import's.
      const importTime = fn === undefined;
      const { registry, nameErrors, errors } = await this.tasksListRegistry(module, keywordArg(call, 'tasks'), before, importTime);
      const definitionErrors: DefinitionError[] = [...nameErrors];
      const form = callFormError('orchestrate_local', call);
      if (form) definitionErrors.push({ type: 'TypeError', message: form, at: module.nodePosition(call), importTime });
      definitionErrors.push(...errors);
      const line = module.nodePosition(call).line;
      out.push(await this.build(module, {
        kind: 'one-shot',
        name: `orchestrate_local@${line}`,
        flyteName: `orchestrate_local@${line}`,
        at: module.nodePosition(call),
        code: source.text,
        codeModule: source.module,
        origin: sourceArg?.startIndex ?? call.startIndex,
        inputs,
        inputNames: inputs.map(i => i.name),
        implicitInputs: {},
        outputs: [],
        registry,
        declared: {},
        definitionErrors,
        preludeAt: keywordArg(call, 'inputs')?.startIndex ?? call.startIndex,
      }));
    }
    return out;
  }

  /** The other sandbox calls of the module: what they are and why the debugger cannot run them. */
  unreadable(module: PythonModule): UnreadableCall[] {
    const out: UnreadableCall[] = [];
    walk(module.root, n => {
      if (n.type !== 'call' || this.consumed.has(n.id)) return;
      const callee = sandboxCallee(n);
      if (!callee) return;
      if (n.parent?.type === 'decorator') return;
      const fn = enclosingDef(n);
      const before = fn ? undefined : n.startIndex;
      const sourceArg = callee === 'orchestrator' ? positionalArgs(n)[0] : keywordArg(n, 'source') ?? positionalArgs(n)[0];
      if (callee === 'orchestrator') {
        if (!sourceArg || sourceArg.type === 'none') return;
        const b = sourceArg.type === 'identifier' ? moduleBindings(module).get(sourceArg.text) : undefined;
        if (b?.kind === 'def') {
          out.push(this.entry(module, n, fn, `${field(n, 'function')!.text}(${sourceArg.text}) makes a sandboxed task of a function without the @ form; the debugger reads sandboxed functions written as @env.sandbox.orchestrator`));
          return;
        }
      }
      const source = codeSource(sourceArg, module, before, fn, this.imported);
      let reason: string;
      if ('problem' in source) reason = source.problem;
      else if (callee === 'orchestrate_local') reason = `its inputs= is not a dict literal with string keys (the debugger needs the input names)`;
      else if (fn) reason = `it is built inside ${field(fn, 'name')?.text ?? '?'}(), when that function runs; the debugger reads code-string tasks assigned to a module-level name`;
      else reason = 'its task is not assigned to a module-level name';
      out.push(this.entry(module, n, fn, reason));
    });
    return out;
  }

  private entry(module: PythonModule, call: SyntaxNode, fn: SyntaxNode | undefined, reason: string): UnreadableCall {
    const fname = fn ? field(fn, 'name')?.text : undefined;
    const assignedTo: string[] = [];
    if (fname) {
      for (const [name, b] of moduleBindings(module)) {
        if (b.kind === 'assign' && b.value.type === 'call' && dottedName(field(b.value, 'function')) === fname) assignedTo.push(name);
      }
    }
    return { at: module.nodePosition(call), call: `${field(call, 'function')!.text}(...)`, reason, assignedTo };
  }

  /** `inputs={"x": int, ...}`: names and declared types. */
  private declaredInputs(module: PythonModule, node: SyntaxNode | undefined): { inputs: TaskInput[]; checks: TypeCheck[]; errors: DefinitionError[]; node?: SyntaxNode } {
    const inputs: TaskInput[] = [];
    const checks: TypeCheck[] = [];
    const errors: DefinitionError[] = [];
    if (node?.type === 'dictionary') {
      for (const pair of namedChildren(node)) {
        const key = stringLiteral(field(pair, 'key'));
        const value = field(pair, 'value');
        if (key === undefined || !value) continue;
        const input: TaskInput = { name: key, annotation: value.text };
        const shape = floatShape(value);
        if (shape) input.floats = shape;
        inputs.push(input);
        checks.push({ direction: 'input', name: key, annotation: value });
      }
    } else if (node && node.type !== 'none') {
      errors.push({ type: 'UnsupportedSource', message: 'inputs= must be a dict literal for the debugger to read the input names', at: module.nodePosition(node), importTime: false });
    }
    return { inputs, checks, errors, ...(node ? { node } : {}) };
  }

  /** `orchestrate_local(inputs={...})`: names and the values given, or undefined when the names cannot be read. */
  private valueInputs(module: PythonModule, node: SyntaxNode | undefined, before: number | undefined): TaskInput[] | undefined {
    if (!node) return [];
    if (node.type === 'dictionary') {
      const inputs: TaskInput[] = [];
      for (const pair of namedChildren(node)) {
        if (pair.type !== 'pair') return undefined;
        const key = stringLiteral(field(pair, 'key'));
        const value = field(pair, 'value');
        if (key === undefined || !value) return undefined;
        const lit = literalValue(value, module, before);
        inputs.push({
          name: key,
          default: lit ? { text: value.text, value: lit.value } : { text: value.text, problem: `its value \`${value.text}\` is computed when the call runs; give it in inputs` },
          ...(lit?.isFloat ? { floats: { kind: 'float' as const } } : {}),
        });
      }
      return inputs;
    }
    const lit = literalValue(node, module, before);
    if (!lit || !(lit.value instanceof Map) || [...lit.value.keys()].some(k => typeof k !== 'string')) return undefined;
    return [...(lit.value as Map<string, unknown>)].map(([k, v]) => ({ name: k, default: { text: JSON.stringify(v) ?? String(v), value: v } }));
  }

  /** `_tasks_to_dict` + `_classify_refs` over a `tasks=[...]` literal. */
  private async tasksListRegistry(module: PythonModule, list: SyntaxNode | undefined, before: number | undefined, importTime: boolean): Promise<{ registry: Registry; nameErrors: DefinitionError[]; errors: DefinitionError[] }> {
    const entries: RegistryEntry[] = [];
    const errors: DefinitionError[] = [];
    const nameErrors: DefinitionError[] = [];
    if (!list || list.type === 'none') return { registry: new Registry([]), nameErrors, errors };
    if (list.type !== 'list' && list.type !== 'tuple') {
      errors.push({ type: 'UnsupportedSource', message: 'tasks= must be a list literal for the debugger to read it', at: module.nodePosition(list), importTime: false });
      return { registry: new Registry([]), nameErrors, errors };
    }
    const seen = new Set<string>();
    for (const item of namedChildren(list)) {
      if (item.type === 'comment') continue;
      const at = module.nodePosition(item);
      if (item.type === 'identifier' && before !== undefined && bindingBefore(module, item.text, before) === 'later') {
        if (!nameErrors.length) nameErrors.push({ type: 'NameError', message: `name '${item.text}' is not defined`, at, importTime });
        continue;
      }
      const literalType = item.type === 'identifier' || item.type === 'attribute' ? undefined : literalTypeName(item, module, before);
      if (literalType !== undefined) {
        if (!errors.length) errors.push({ type: 'TypeError', message: `Expected a callable or TaskTemplate, got <class '${literalType}'>`, at, importTime });
        continue;
      }
      const ref = item.type === 'identifier' ? item.text : dottedName(item);
      const info = ref && !ref.includes('.') ? await this.resolver.classify(module, ref, before) : undefined;
      if (!info) {
        // Not defined in the workspace: assume a callable named as written.
        const key = ref?.split('.').at(-1) ?? item.text;
        entries.push({ name: key, category: 'trace', taskTemplate: false, noAio: 'function', what: `${item.text} (not found in the workspace: treated as a plain callable)`, reason: 'in tasks=[...]' });
        continue;
      }
      if (!info.callable) {
        const type = literalTypeName(item, module, before) ?? (info.what.startsWith('None') ? 'NoneType' : undefined);
        if (!errors.length) errors.push({ type: 'TypeError', message: `Expected a callable or TaskTemplate, got ${type ? `<class '${type}'>` : info.what}`, at, importTime });
        continue;
      }
      if (info.pyName === undefined) {
        if (!errors.length) errors.push({ type: 'AttributeError', message: `'LazyEntity' object has no attribute '__name__' (flyte.remote.Task.get handles cannot go in tasks=[...]; reference them from a decorated task instead)`, at, importTime });
        continue;
      }
      if (seen.has(info.pyName)) {
        if (!errors.length) errors.push({ type: 'ValueError', message: `Duplicate task name '${info.pyName}'`, at, importTime });
        continue;
      }
      seen.add(info.pyName);
      // _classify_refs: anything that is not a task or durable is a trace ref.
      entries.push(toEntry(info.pyName, { ...info, category: info.category ?? 'trace' }, `in tasks=[...] as ${item.text}`));
    }
    return { registry: new Registry(entries), nameErrors, errors };
  }

  private async build(module: PythonModule, t: {
    kind: 'code-string' | 'one-shot'; name: string; flyteName: string; at: FilePosition; code: TrackedText; codeModule: PythonModule; origin: number;
    inputs: TaskInput[]; inputNames: string[]; implicitInputs: Record<string, unknown>; outputs: string[];
    registry: Registry; declared: SandboxTask['declared']; definitionErrors: DefinitionError[]; preludeAt: number;
  }): Promise<SandboxTask> {
    // prepare_code_source: dedent, strip, empty -> "None"
    let flyteCode = t.code.dedent().strip();
    // positions of the code are in the file that holds it (another workspace file for an imported constant)
    const elsewhere = t.codeModule !== module;
    if (flyteCode.text === '') flyteCode = TrackedText.synthetic('None', elsewhere ? t.code.offsets[0] ?? 0 : t.origin);
    // Float inputs: one line before the code converts them as Flyte's type engine does (mapped to inputs=).
    const floats = t.inputs.filter(i => i.floats);
    const runCode = floats.length ? TrackedText.synthetic(`${floats.map(i => `${i.name} = ${floatExpr(i.floats!, i.name)}`).join('; ')}\n`, elsewhere ? flyteCode.offsets[0] ?? 0 : t.preludeAt).concat(flyteCode) : flyteCode;
    const prepared = await prepare(t.codeModule, runCode, n => t.registry.get(n) !== undefined, this.profile);
    return {
      kind: t.kind,
      name: t.name,
      flyteName: t.flyteName,
      module,
      codeModule: t.codeModule,
      at: t.at,
      isAsync: false,
      inputs: t.inputs,
      inputNames: t.inputNames,
      implicitInputs: t.implicitInputs,
      outputs: t.outputs,
      flyteCode: flyteCode.text,
      code: prepared.code.text,
      sourceMap: prepared.sourceMap,
      registry: t.registry,
      declared: t.declared,
      definitionErrors: t.definitionErrors,
      callSites: prepared.callSites,
      profile: this.profile,
      pythonVersion: this.pythonVersion,
    };
  }
}
