/**
 * What each external of a task looks like from outside the sandbox: the
 * Python signature a call binds to, and the names production records its
 * actions under (a task's Flyte name, a trace's function name).
 *
 * Production stores a call's inputs by parameter name with defaults filled
 * in, and forgets what was positional; replaying an imported run binds each
 * live call to the signature first. Defaults are read from the source as
 * literals (numbers, strings, None/True/False, tuples, lists, dicts, sets,
 * and module-level names bound to one); anything else is "unknown", and an
 * omitted argument with an unknown default then matches whatever was
 * recorded. Flyte fills a default when it is not None, and None for an
 * Optional parameter (convert.py `_convert_from_native_to_inputs_impl`).
 */
import { dirname } from 'node:path';
import { BindingResolver, moduleBindings, positionalArgs, type ModuleBinding } from '../extract/bindings.ts';
import type { SandboxTask } from '../extract/tasks.ts';
import { Workspace } from '../extract/workspace.ts';
import type { PythonModule } from '../python/module.ts';
import { dottedName, field, namedChildren, type SyntaxNode } from '../python/parser.ts';
import { stringLiteral } from '../python/stringLiteral.ts';
import { tuple } from '../values/python.ts';
import { toWire, type Wire } from '../values/wire.ts';

export interface Param {
  name: string;
  kind: 'positional-only' | 'positional' | 'keyword-only';
  /** The default as a wire value, or the source text of one the debugger cannot evaluate. */
  default?: { value: Wire } | { unknown: string };
  optional: boolean;
}

export interface Signature {
  params: Param[];
  /** "(item: str, qty: int = 1)" */
  text: string;
}

export interface ExternalIdentity {
  name: string;
  signature?: Signature;
  /** Names production records this external's actions under: task ids ("orders.price") and trace names ("durable_time"). */
  flyteNames: string[];
  kind: 'task' | 'remote' | 'trace';
}

/** flyte.durable's public names and the traced functions behind them (flyte-sdk src/flyte/durable/__init__.py). */
const DURABLE: Record<string, { trace: string; params: Param[]; text: string }> = {
  'flyte.durable.time': { trace: 'durable_time', params: [], text: '()' },
  'flyte.durable.now': { trace: 'durable_now', params: [], text: '()' },
  'flyte.durable.sleep': { trace: 'durable_sleep', params: [{ name: 'seconds', kind: 'positional', optional: false }], text: '(seconds: float)' },
};

const OPTIONAL = /^(?:typing\.)?Optional\[|^(?:typing\.)?Union\[.*\bNone\b.*\]$|\|\s*None\b|\bNone\s*\|/;

function literal(node: SyntaxNode | null | undefined, module: PythonModule, depth = 0): { value: unknown } | undefined {
  if (!node || depth > 20) return undefined;
  switch (node.type) {
    case 'integer': {
      const text = node.text.replace(/_/g, '').toLowerCase();
      const big = BigInt(text);
      return { value: big <= BigInt(Number.MAX_SAFE_INTEGER) && big >= -BigInt(Number.MAX_SAFE_INTEGER) ? Number(big) : big };
    }
    case 'float':
      return /j$/i.test(node.text) ? undefined : { value: Number(node.text.replace(/_/g, '')) };
    case 'string':
    case 'concatenated_string': {
      const s = stringLiteral(node);
      return s === undefined || /^[bBfF]|^[rR][bBfF]|^[bBfF][rR]/.test(node.text) ? undefined : { value: s };
    }
    case 'true':
      return { value: true };
    case 'false':
      return { value: false };
    case 'none':
      return { value: null };
    case 'parenthesized_expression':
      return literal(namedChildren(node)[0], module, depth + 1);
    case 'unary_operator': {
      const inner = literal(field(node, 'argument'), module, depth + 1);
      const op = field(node, 'operator')?.text;
      if (!inner || (typeof inner.value !== 'number' && typeof inner.value !== 'bigint')) return undefined;
      if (op === '-') return { value: typeof inner.value === 'bigint' ? -inner.value : -inner.value };
      return op === '+' ? inner : undefined;
    }
    case 'tuple':
    case 'list':
    case 'set': {
      const items: unknown[] = [];
      for (const c of namedChildren(node)) {
        if (c.type === 'comment') continue;
        const v = literal(c, module, depth + 1);
        if (!v) return undefined;
        items.push(v.value);
      }
      return { value: node.type === 'tuple' ? tuple(items) : node.type === 'set' ? new Set(items) : items };
    }
    case 'dictionary': {
      const out = new Map<unknown, unknown>();
      for (const pair of namedChildren(node)) {
        if (pair.type === 'comment') continue;
        if (pair.type !== 'pair') return undefined;
        const k = literal(field(pair, 'key'), module, depth + 1);
        const v = literal(field(pair, 'value'), module, depth + 1);
        if (!k || !v) return undefined;
        out.set(k.value, v.value);
      }
      return { value: out };
    }
    case 'identifier': {
      const b = moduleBindings(module).get(node.text);
      return b?.kind === 'assign' ? literal(b.value, module, depth + 1) : undefined;
    }
    default:
      return undefined;
  }
}

/** The parameters of a `def`, as Python binds them. */
export function signatureOfDef(def: SyntaxNode, module: PythonModule): Signature {
  const params: Param[] = [];
  const parameters = field(def, 'parameters');
  let kind: Param['kind'] = 'positional';
  const nodes = parameters ? namedChildren(parameters) : [];
  const slash = nodes.findIndex(n => n.type === 'positional_separator');
  nodes.forEach((p, i) => {
    if (p.type === 'positional_separator' || p.type === 'comment') return;
    if (p.type === 'keyword_separator' || p.type === 'list_splat_pattern' || p.type === 'dictionary_splat_pattern') {
      kind = 'keyword-only';
      return;
    }
    if (p.type === 'typed_parameter' && namedChildren(p).some(c => c.type.endsWith('splat_pattern'))) {
      kind = 'keyword-only';
      return;
    }
    const nameNode = p.type === 'identifier' ? p : field(p, 'name') ?? namedChildren(p).find(c => c.type === 'identifier');
    if (!nameNode) return;
    const annotation = field(p, 'type')?.text;
    const valueNode = field(p, 'value');
    const param: Param = { name: nameNode.text, kind: i < slash ? 'positional-only' : kind, optional: annotation !== undefined && OPTIONAL.test(annotation.replace(/\s+/g, ' ')) };
    if (valueNode) {
      const v = literal(valueNode, module);
      param.default = v ? { value: toWire(v.value) } : { unknown: valueNode.text };
    }
    params.push(param);
  });
  return { params, text: parameters?.text.replace(/\s+/g, ' ') ?? '()' };
}

/** The function node behind a binding: a def, or the function given to `env.task(fn)`. */
async function defOf(resolver: BindingResolver, b: ModuleBinding, module: PythonModule): Promise<{ def: SyntaxNode; module: PythonModule } | undefined> {
  if (b.kind === 'def') return { def: b.node, module };
  if (b.kind === 'assign' && b.value.type === 'call') {
    const callee = dottedName(field(b.value, 'function')) ?? '';
    const first = positionalArgs(b.value)[0];
    if (callee.endsWith('.task') && first?.type === 'identifier') {
      const inner = await resolver.lookup(module, first.text);
      if (inner && 'binding' in inner && inner.binding.kind === 'def') return { def: inner.binding.node, module: inner.module };
    }
  }
  return undefined;
}

/** Every registered external of `task`, with its signature and the names production records its actions under. */
export async function externalsOf(task: SandboxTask): Promise<Map<string, ExternalIdentity>> {
  const resolver = new BindingResolver(new Workspace([dirname(task.module.path)]));
  const out = new Map<string, ExternalIdentity>();
  for (const entry of task.registry.entries.values()) {
    const kind: ExternalIdentity['kind'] = entry.category !== 'task' ? 'trace' : entry.taskTemplate ? 'task' : 'remote';
    const identity: ExternalIdentity = { name: entry.name, kind, flyteNames: entry.flyteName ? [entry.flyteName] : [] };
    const found = await resolver.lookup(task.module, entry.name);
    if (found && 'external' in found) {
      const durable = DURABLE[found.external.replace(/^\.+/, '')];
      if (durable) {
        identity.flyteNames.push(durable.trace);
        identity.signature = { params: durable.params, text: durable.text };
      }
    } else if (found) {
      const def = await defOf(resolver, found.binding, found.module);
      if (def) {
        identity.signature = signatureOfDef(def.def, def.module);
        const fnName = field(def.def, 'name')?.text;
        if (fnName && kind === 'trace') identity.flyteNames.push(fnName);
      }
    }
    if (!identity.flyteNames.includes(entry.name)) identity.flyteNames.push(entry.name);
    out.set(entry.name, identity);
  }
  return out;
}

export type Binding = { inputs: Map<string, Wire>; unknownDefaults: string[] } | { problem: string };

/** Python's binding of positional and keyword arguments to `sig`, then Flyte's defaults. */
export function bindCall(fn: string, sig: Signature, args: readonly Wire[], kwargs: Record<string, Wire>): Binding {
  const inputs = new Map<string, Wire>();
  const positional = sig.params.filter(p => p.kind !== 'keyword-only');
  if (args.length > positional.length) {
    return { problem: `${fn}() takes ${positional.length} positional argument${positional.length === 1 ? '' : 's'} but ${args.length} ${args.length === 1 ? 'was' : 'were'} given` };
  }
  args.forEach((a, i) => inputs.set(positional[i]!.name, a));
  for (const [k, v] of Object.entries(kwargs)) {
    const p = sig.params.find(x => x.name === k);
    if (!p) return { problem: `${fn}() got an unexpected keyword argument '${k}'` };
    if (p.kind === 'positional-only') return { problem: `${fn}() got some positional-only arguments passed as keyword arguments: '${k}'` };
    if (inputs.has(k)) return { problem: `${fn}() got multiple values for argument '${k}'` };
    inputs.set(k, v);
  }
  const unknownDefaults: string[] = [];
  for (const p of sig.params) {
    if (inputs.has(p.name) || !p.default) continue;
    if ('unknown' in p.default) unknownDefaults.push(p.name);
    else if (p.default.value !== null) inputs.set(p.name, p.default.value);
    else if (p.optional) inputs.set(p.name, null);
  }
  return { inputs, unknownDefaults };
}
