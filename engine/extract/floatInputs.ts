/**
 * Inputs declared `float` (also inside Optional/list/dict/tuple) reach
 * production's sandbox as Python floats: Flyte's type engine converts them
 * by the declared type, so `10` becomes `10.0`. JS numbers cannot carry that
 * difference into Monty (an integral number crosses as an int), so the code
 * we run converts those inputs itself, in place: inside the trailing call of a
 * decorated task (no line moves), or in one line put before a code string
 * (mapped back to the `inputs=` entry). The code Flyte would run is kept
 * unchanged beside it (`SandboxTask.flyteCode`).
 */
import { dottedName, field, namedChildren, type SyntaxNode } from '../python/parser.ts';
import { isDict, dictEntries, isTuple, pyTypeName } from '../values/python.ts';

export type FloatShape =
  | { kind: 'float' }
  | { kind: 'optional'; of: FloatShape }
  | { kind: 'list'; of: FloatShape }
  | { kind: 'tuple'; of: FloatShape }
  | { kind: 'dict'; of: FloatShape };

function typeArgs(node: SyntaxNode): { origin: string; args: SyntaxNode[] } | undefined {
  if (node.type === 'generic_type') {
    const origin = dottedName(namedChildren(node)[0] ?? null)?.split('.').at(-1) ?? '';
    const params = namedChildren(node)[1];
    const args = params ? namedChildren(params).filter(c => c.type === 'type') : [];
    return { origin, args };
  }
  if (node.type === 'subscript') {
    const value = field(node, 'value');
    const origin = dottedName(value)?.split('.').at(-1) ?? '';
    const args = namedChildren(node).filter(c => c.id !== value?.id).flatMap(a => (a.type === 'tuple' || a.type === 'expression_list' ? namedChildren(a) : [a]));
    return { origin, args };
  }
  return undefined;
}

/** Where floats sit in a declared type, or undefined when the type holds no float. */
export function floatShape(node: SyntaxNode | null | undefined): FloatShape | undefined {
  if (!node) return undefined;
  if (node.type === 'type') return floatShape(namedChildren(node)[0]);
  const dotted = dottedName(node);
  if (dotted) return dotted === 'float' || dotted === 'builtins.float' ? { kind: 'float' } : undefined;
  const g = typeArgs(node);
  if (!g) return undefined;
  const isNone = (a: SyntaxNode) => (a.type === 'type' ? namedChildren(a)[0] : a)?.type === 'none' || a.text === 'None' || a.text === 'type(None)';
  if (g.origin === 'Optional' && g.args.length === 1) {
    const of = floatShape(g.args[0]);
    return of ? { kind: 'optional', of } : undefined;
  }
  if (g.origin === 'Union') {
    const rest = g.args.filter(a => !isNone(a));
    if (rest.length !== 1) return undefined;
    const of = floatShape(rest[0]);
    return of && rest.length < g.args.length ? { kind: 'optional', of } : of;
  }
  if ((g.origin === 'list' || g.origin === 'List') && g.args.length === 1) {
    const of = floatShape(g.args[0]);
    return of ? { kind: 'list', of } : undefined;
  }
  if ((g.origin === 'tuple' || g.origin === 'Tuple') && g.args.length === 2 && g.args[1]!.text === '...') {
    const of = floatShape(g.args[0]);
    return of ? { kind: 'tuple', of } : undefined;
  }
  if ((g.origin === 'dict' || g.origin === 'Dict') && g.args.length === 2) {
    const of = floatShape(g.args[1]);
    return of ? { kind: 'dict', of } : undefined;
  }
  return undefined;
}

/** A Python expression converting `expr` as Flyte's type engine would. */
export function floatExpr(shape: FloatShape, expr: string, depth = 0): string {
  const v = `_f${depth}`;
  switch (shape.kind) {
    case 'float':
      return `float(${expr})`;
    case 'optional':
      return `(None if ${expr} is None else ${floatExpr(shape.of, expr, depth)})`;
    case 'list':
      return `[${floatExpr(shape.of, v, depth + 1)} for ${v} in ${expr}]`;
    case 'tuple':
      return `tuple([${floatExpr(shape.of, v, depth + 1)} for ${v} in ${expr}])`;
    case 'dict':
      return `{_k${depth}: ${floatExpr(shape.of, v, depth + 1)} for _k${depth}, ${v} in ${expr}.items()}`;
  }
}

/** Why a given input value does not fit the declared float shape (Flyte's type engine refuses it), or undefined. */
export function floatProblem(shape: FloatShape, value: unknown, path: string): string | undefined {
  switch (shape.kind) {
    case 'float':
      return typeof value === 'number' || typeof value === 'bigint' ? undefined : `${path} must be a number for a float, got ${pyTypeName(value)}`;
    case 'optional':
      return value === null ? undefined : floatProblem(shape.of, value, path);
    case 'list':
    case 'tuple': {
      if (!Array.isArray(value) || (shape.kind === 'list' && isTuple(value))) return `${path} must be a ${shape.kind}, got ${pyTypeName(value)}`;
      for (let i = 0; i < value.length; i++) {
        const p = floatProblem(shape.of, value[i], `${path}[${i}]`);
        if (p) return p;
      }
      return undefined;
    }
    case 'dict': {
      if (!isDict(value)) return `${path} must be a dict, got ${pyTypeName(value)}`;
      for (const [k, v] of dictEntries(value)) {
        const p = floatProblem(shape.of, v, `${path}[${JSON.stringify(String(k))}]`);
        if (p) return p;
      }
      return undefined;
    }
  }
}
