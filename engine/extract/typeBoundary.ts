/**
 * Flyte's type boundary for sandboxed task interfaces (`_is_allowed_type`),
 * judged on the annotation as written. A failure is a definition error in
 * production (raised when the module is imported), with Flyte's message.
 */
import { dottedName, field, namedChildren, type SyntaxNode } from '../python/parser.ts';

const ALLOWED_PLAIN = new Set(['int', 'float', 'str', 'bool', 'bytes', 'None', 'NoneType', 'list', 'dict', 'tuple', 'set', 'frozenset', 'File', 'Dir', 'DataFrame', 'Any']);
const CONTAINERS = new Set(['list', 'dict', 'tuple', 'set', 'frozenset', 'List', 'Dict', 'Tuple', 'Set', 'FrozenSet']);
const UNIONS = new Set(['Optional', 'Union']);
const BUILTIN_TYPES = new Set(['int', 'float', 'str', 'bool', 'bytes', 'list', 'dict', 'tuple', 'set', 'frozenset', 'object', 'complex', 'bytearray', 'type', 'range']);

const SUPPORTED = 'Supported types: primitives (int, float, str, bool, bytes, None), collections (list, dict, tuple, set), and flyte.io types (File, Dir, DataFrame).';

export function unsupportedTypeMessage(direction: 'input' | 'output', name: string, typeRepr: string): string {
  return `Sandboxed task ${direction} '${name}' has unsupported type ${typeRepr}. ${SUPPORTED}`;
}

/** Python's repr of the annotation's type object, as near as source text allows. */
function typeRepr(node: SyntaxNode, moduleName: string, importedFrom: (name: string) => string | undefined): string {
  const dotted = dottedName(node);
  if (dotted) {
    const head = dotted.split('.')[0]!;
    if (!dotted.includes('.') && BUILTIN_TYPES.has(dotted)) return `<class '${dotted}'>`;
    const origin = importedFrom(head);
    if (origin && !dotted.includes('.')) return `<class '${origin}'>`;
    return dotted.includes('.') ? `<class '${dotted}'>` : `<class '${moduleName}.${dotted}'>`;
  }
  return node.text;
}

/** The offending annotation node, or undefined when Flyte accepts the type. */
function firstDisallowed(node: SyntaxNode): SyntaxNode | undefined {
  if (node.type === 'type') return firstDisallowed(namedChildren(node)[0] ?? node);
  if (node.type === 'none' || node.type === 'ellipsis') return undefined;
  if (node.type === 'string') return undefined; // forward reference: resolved later by Flyte, not judged here
  const dotted = dottedName(node);
  if (dotted) return ALLOWED_PLAIN.has(dotted.split('.').at(-1)!) ? undefined : node;
  if (node.type === 'generic_type' || node.type === 'subscript') {
    const origin = node.type === 'subscript' ? field(node, 'value') : namedChildren(node)[0];
    const originName = dottedName(origin ?? null)?.split('.').at(-1) ?? '';
    const args = node.type === 'subscript'
      ? namedChildren(node).filter(c => c.id !== origin?.id)
      : namedChildren(namedChildren(node)[1] ?? node).flatMap(c => (c.type === 'type' ? [c] : []));
    if (!CONTAINERS.has(originName) && !UNIONS.has(originName)) return node;
    const flat = args.flatMap(a => (a.type === 'tuple' || a.type === 'expression_list' ? namedChildren(a) : [a]));
    return flat.some(arg => firstDisallowed(arg)) ? node : undefined;
  }
  // `X | None` is types.UnionType on Python 3.10-3.13: not in Flyte's allowed set.
  return node;
}

export interface TypeCheck {
  direction: 'input' | 'output';
  name: string;
  annotation: SyntaxNode;
}

export function checkInterface(checks: TypeCheck[], moduleName: string, importedFrom: (name: string) => string | undefined): { message: string; node: SyntaxNode } | undefined {
  for (const c of checks) {
    const bad = firstDisallowed(c.annotation);
    if (bad) {
      const inner = c.annotation.type === 'type' ? namedChildren(c.annotation)[0] ?? c.annotation : c.annotation;
      return { message: unsupportedTypeMessage(c.direction, c.name, typeRepr(inner, moduleName, importedFrom)), node: c.annotation };
    }
  }
  return undefined;
}
