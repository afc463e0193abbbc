/**
 * Python literals read from source, as `ast.literal_eval` would: parameter
 * defaults, `orchestrate_local(inputs={...})` values, and the type of a
 * non-callable put in `tasks=[...]`. No interpreter runs here (the extension
 * uses extraction and must not load Monty).
 */
import { field, namedChildren, type SyntaxNode } from '../python/parser.ts';
import type { PythonModule } from '../python/module.ts';
import { decodeStringLiteral } from '../python/stringLiteral.ts';
import { tuple } from '../values/python.ts';
import { bindingBefore, moduleBindings } from './bindings.ts';

export interface LiteralValue {
  /** As a Monty value (dicts as Map, tuples marked, big ints as bigint, bytes as Buffer). */
  value: unknown;
  /** The literal is a float at its top level (`10.0`): JS cannot tell it from an int. */
  isFloat: boolean;
}

function parseInt(text: string): number | bigint {
  const t = text.replace(/_/g, '').toLowerCase();
  const big = t.startsWith('0x') || t.startsWith('0o') || t.startsWith('0b') ? BigInt(t.startsWith('0o') ? '0o' + t.slice(2) : t) : BigInt(t);
  return big >= BigInt(Number.MIN_SAFE_INTEGER) && big <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(big) : big;
}

function bytesLiteral(node: SyntaxNode): Buffer | undefined {
  const start = namedChildren(node).find(c => c.type === 'string_start');
  if (!start || !/b/i.test(start.text) || namedChildren(node).some(c => c.type === 'interpolation')) return undefined;
  const content = namedChildren(node).filter(c => c.type === 'string_content').map(c => c.text).join('');
  if (/\\/.test(content)) return undefined;
  return Buffer.from(content, 'latin1');
}

/**
 * The value of a literal expression, or undefined when it is not one. Names
 * bound at module level to a literal count as that literal (a constant),
 * as they stand at offset `before` when given.
 */
export function literalValue(node: SyntaxNode | null | undefined, module?: PythonModule, before?: number, depth = 0): LiteralValue | undefined {
  if (!node || depth > 50) return undefined;
  const plain = (value: unknown): LiteralValue => ({ value, isFloat: false });
  const each = (items: SyntaxNode[]): unknown[] | undefined => {
    const out: unknown[] = [];
    for (const i of items) {
      const v = literalValue(i, module, before, depth + 1);
      if (!v) return undefined;
      out.push(v.value);
    }
    return out;
  };
  switch (node.type) {
    case 'integer':
      return plain(parseInt(node.text));
    case 'float':
      return /j$/i.test(node.text) ? undefined : { value: Number(node.text.replace(/_/g, '')), isFloat: true };
    case 'true':
      return plain(true);
    case 'false':
      return plain(false);
    case 'none':
      return plain(null);
    case 'string':
    case 'concatenated_string': {
      const s = decodeStringLiteral(node);
      if (s) return plain(s.text);
      const b = node.type === 'string' ? bytesLiteral(node) : undefined;
      return b ? plain(b) : undefined;
    }
    case 'parenthesized_expression':
      return literalValue(namedChildren(node)[0], module, before, depth + 1);
    case 'unary_operator': {
      const op = field(node, 'operator')?.text;
      const v = literalValue(field(node, 'argument'), module, before, depth + 1);
      if (!v || (op !== '-' && op !== '+')) return undefined;
      if (typeof v.value === 'number') return { value: op === '-' ? -v.value : v.value, isFloat: v.isFloat };
      if (typeof v.value === 'bigint') return plain(op === '-' ? -v.value : v.value);
      return undefined;
    }
    case 'list': {
      const items = each(namedChildren(node));
      return items ? plain(items) : undefined;
    }
    case 'tuple': {
      const items = each(namedChildren(node));
      return items ? plain(tuple(items)) : undefined;
    }
    case 'set': {
      const items = each(namedChildren(node));
      return items ? plain(new Set(items)) : undefined;
    }
    case 'dictionary': {
      const out = new Map<unknown, unknown>();
      for (const pair of namedChildren(node)) {
        if (pair.type !== 'pair') return undefined;
        const k = literalValue(field(pair, 'key'), module, before, depth + 1);
        const v = literalValue(field(pair, 'value'), module, before, depth + 1);
        if (!k || !v) return undefined;
        out.set(k.value, v.value);
      }
      return plain(out);
    }
    case 'identifier': {
      if (!module) return undefined;
      const b = before === undefined ? moduleBindings(module).get(node.text) : bindingBefore(module, node.text, before);
      if (!b || b === 'later' || b.kind !== 'assign') return undefined;
      return literalValue(b.value, module, b.node.startIndex, depth + 1);
    }
    default:
      return undefined;
  }
}

const LITERAL_TYPES: Record<string, string> = {
  integer: 'int', float: 'float', true: 'bool', false: 'bool', none: 'NoneType', list: 'list', tuple: 'tuple',
  dictionary: 'dict', set: 'set', list_comprehension: 'list', dictionary_comprehension: 'dict', set_comprehension: 'set',
  generator_expression: 'generator', concatenated_string: 'str',
};

/** Python's `type(x).__name__` for an expression whose type the source shows, else undefined. */
export function literalTypeName(node: SyntaxNode, module?: PythonModule, before?: number, depth = 0): string | undefined {
  if (depth > 20) return undefined;
  if (node.type === 'string') return bytesLiteral(node) ? 'bytes' : 'str';
  if (node.type === 'parenthesized_expression') {
    const inner = namedChildren(node)[0];
    return inner ? literalTypeName(inner, module, before, depth + 1) : 'tuple';
  }
  if (node.type === 'unary_operator') {
    const arg = field(node, 'argument');
    return arg ? literalTypeName(arg, module, before, depth + 1) : undefined;
  }
  if (node.type === 'identifier' && module) {
    const b = before === undefined ? moduleBindings(module).get(node.text) : bindingBefore(module, node.text, before);
    if (!b || b === 'later') return undefined;
    if (b.kind === 'import') return 'module';
    if (b.kind === 'assign') return literalTypeName(b.value, module, b.node.startIndex, depth + 1);
    return undefined;
  }
  return LITERAL_TYPES[node.type];
}
