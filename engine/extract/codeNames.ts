/**
 * Which global names a function's own code object refers to: what CPython
 * puts in `func.__code__.co_names` (global loads and stores, attribute names,
 * imported names), because that is exactly what Flyte scans to decide which
 * tasks a sandboxed task may call.
 *
 * Names used only inside nested functions, lambdas, generator expressions and
 * (before Python 3.12) comprehensions live in other code objects and are not
 * seen; we record those uses separately so a refused call can say why.
 */
import { field, namedChildren, type SyntaxNode } from '../python/parser.ts';

export interface CodeNamesOptions {
  /** Python 3.12+ inlines list/set/dict comprehensions into the function (PEP 709). */
  inlineComprehensions: boolean;
  /** Python ≤ 3.13 without `from __future__ import annotations` evaluates a nested def's annotations eagerly. */
  eagerAnnotations: boolean;
}

export interface MissedUse {
  name: string;
  node: SyntaxNode;
  /** e.g. "inside nested function 'helper'" */
  where: string;
}

export interface CodeNames {
  /** The emulated `co_names`. */
  names: Set<string>;
  /** Local variables (parameters and names bound in the body), i.e. `co_varnames`. */
  locals: Set<string>;
  /** Global loads Flyte's scan does not see. */
  missed: MissedUse[];
}

const COMPREHENSIONS: Record<string, string> = {
  list_comprehension: 'list comprehension',
  set_comprehension: 'set comprehension',
  dictionary_comprehension: 'dict comprehension',
};

class Walker {
  readonly binds = new Set<string>();
  readonly globals = new Set<string>();
  readonly loads = new Set<string>();
  readonly extra = new Set<string>();
  readonly missed: MissedUse[] = [];
  private readonly comprehensionLocals: Set<string>[] = [];

  constructor(private readonly opts: CodeNamesOptions) {}

  load(name: string): void {
    if (this.comprehensionLocals.some(s => s.has(name))) return;
    this.loads.add(name);
  }

  bind(name: string): void {
    this.binds.add(name);
  }

  bindTarget(node: SyntaxNode): void {
    switch (node.type) {
      case 'identifier':
        this.bind(node.text);
        return;
      case 'attribute':
      case 'subscript':
        this.visit(node);
        return;
      default:
        for (const c of namedChildren(node)) this.bindTarget(c);
    }
  }

  visitChildren(node: SyntaxNode): void {
    for (const c of namedChildren(node)) this.visit(c);
  }

  visit(node: SyntaxNode): void {
    switch (node.type) {
      case 'identifier':
        this.load(node.text);
        return;
      case 'comment':
        return;
      case 'attribute': {
        const obj = field(node, 'object');
        if (obj) this.visit(obj);
        const attr = field(node, 'attribute');
        if (attr) this.extra.add(attr.text);
        return;
      }
      case 'keyword_argument': {
        const value = field(node, 'value');
        if (value) this.visit(value);
        return;
      }
      case 'decorated_definition':
        for (const c of namedChildren(node)) {
          if (c.type === 'decorator') this.visitChildren(c);
          else this.visit(c);
        }
        return;
      case 'function_definition':
        this.nestedFunction(node);
        return;
      case 'class_definition': {
        const name = field(node, 'name');
        if (name) this.bind(name.text);
        const supers = field(node, 'superclasses');
        if (supers) this.visit(supers);
        const body = field(node, 'body');
        if (body) this.miss(body, `inside class '${name?.text ?? '?'}'`);
        return;
      }
      case 'lambda': {
        const params = field(node, 'parameters');
        if (params) this.parameterDefaults(params);
        const body = field(node, 'body');
        if (body) this.miss(body, 'inside a lambda');
        return;
      }
      case 'generator_expression':
        this.comprehension(node, false, 'generator expression');
        return;
      case 'list_comprehension':
      case 'set_comprehension':
      case 'dictionary_comprehension':
        this.comprehension(node, this.opts.inlineComprehensions, COMPREHENSIONS[node.type]!);
        return;
      case 'assignment': {
        const left = field(node, 'left');
        if (left) this.bindTarget(left);
        const right = field(node, 'right');
        if (right) this.visit(right);
        return;
      }
      case 'augmented_assignment': {
        const left = field(node, 'left');
        if (left?.type === 'identifier') {
          this.bind(left.text);
          this.load(left.text);
        } else if (left) this.bindTarget(left);
        const right = field(node, 'right');
        if (right) this.visit(right);
        return;
      }
      case 'for_statement': {
        const left = field(node, 'left');
        if (left) this.bindTarget(left);
        for (const name of ['right', 'body', 'alternative']) {
          const c = field(node, name);
          if (c) this.visit(c);
        }
        return;
      }
      case 'as_pattern': {
        for (const c of namedChildren(node)) {
          if (c.type === 'as_pattern_target') this.bindTarget(c);
          else this.visit(c);
        }
        return;
      }
      case 'except_clause': {
        const alias = field(node, 'alias');
        for (const c of namedChildren(node)) {
          if (alias && c.id === alias.id) this.bindTarget(c);
          else this.visit(c);
        }
        return;
      }
      case 'named_expression': {
        const name = field(node, 'name');
        if (name) this.bind(name.text);
        const value = field(node, 'value');
        if (value) this.visit(value);
        return;
      }
      case 'global_statement':
        for (const c of namedChildren(node)) if (c.type === 'identifier') this.globals.add(c.text);
        return;
      case 'nonlocal_statement':
        return;
      case 'import_statement':
        for (const c of namedChildren(node)) this.importName(c, true);
        return;
      case 'import_from_statement': {
        const mod = field(node, 'module_name');
        if (mod) this.extra.add(mod.text.replace(/^\.+/, ''));
        for (const c of namedChildren(node)) if (!mod || c.id !== mod.id) this.importName(c, false);
        return;
      }
      case 'delete_statement':
        for (const c of namedChildren(node)) this.bindTarget(c);
        return;
      case 'case_pattern':
        this.casePattern(node);
        return;
      default:
        this.visitChildren(node);
    }
  }

  private importName(node: SyntaxNode, wholeModule: boolean): void {
    if (node.type === 'dotted_name') {
      this.extra.add(node.text);
      this.bind(wholeModule ? node.text.split('.')[0]! : node.text);
    } else if (node.type === 'aliased_import') {
      const name = field(node, 'name');
      const alias = field(node, 'alias');
      if (name) this.extra.add(name.text);
      if (alias) this.bind(alias.text);
    }
  }

  private casePattern(node: SyntaxNode): void {
    for (const c of namedChildren(node)) {
      if (c.type === 'dotted_name') {
        const parts = namedChildren(c);
        if (parts.length === 1) {
          if (parts[0]!.text !== '_') this.bind(parts[0]!.text);
        } else {
          this.load(parts[0]!.text);
          for (const p of parts.slice(1)) this.extra.add(p.text);
        }
      } else if (c.type === 'keyword_pattern') {
        for (const k of namedChildren(c).slice(1)) this.casePattern(k);
      } else if (c.type === 'class_pattern') {
        const [cls, ...rest] = namedChildren(c);
        if (cls) this.visit(cls);
        for (const r of rest) this.casePattern(r);
      } else if (c.type === 'case_pattern' || c.type.endsWith('_pattern')) {
        this.casePattern(c);
      } else {
        this.visit(c);
      }
    }
  }

  private parameterDefaults(params: SyntaxNode): void {
    for (const p of namedChildren(params)) {
      const value = field(p, 'value');
      if (value) this.visit(value);
      const type = field(p, 'type');
      if (type && this.opts.eagerAnnotations) this.visit(type);
    }
  }

  private nestedFunction(node: SyntaxNode): void {
    const name = field(node, 'name');
    if (name) this.bind(name.text);
    const params = field(node, 'parameters');
    if (params) this.parameterDefaults(params);
    const ret = field(node, 'return_type');
    if (ret && this.opts.eagerAnnotations) this.visit(ret);
    const body = field(node, 'body');
    if (body) this.miss(body, `inside nested function '${name?.text ?? '?'}'`);
  }

  private comprehension(node: SyntaxNode, inline: boolean, kind: string): void {
    const clauses = namedChildren(node).filter(c => c.type === 'for_in_clause' || c.type === 'if_clause');
    const first = clauses.find(c => c.type === 'for_in_clause');
    const firstIterable = first ? field(first, 'right') : null;
    // The outermost iterable is evaluated in the enclosing scope, in every version.
    if (firstIterable) this.visit(firstIterable);
    if (!inline) {
      // A walrus inside a comprehension binds in the enclosing function, even when the comprehension is its own code object.
      const bindWalrus = (n: SyntaxNode) => {
        if (n.type === 'lambda' || n.type === 'function_definition') return;
        if (n.type === 'named_expression') {
          const name = field(n, 'name');
          if (name) this.bind(name.text);
        }
        for (const c of namedChildren(n)) bindWalrus(c);
      };
      bindWalrus(node);
      for (const c of namedChildren(node)) {
        if (c.id === first?.id) {
          const left = field(c, 'left');
          if (left) this.miss(left, `inside a ${kind}`);
        } else this.miss(c, `inside a ${kind}`);
      }
      return;
    }
    const locals = new Set<string>();
    this.comprehensionLocals.push(locals);
    const collectTargets = (n: SyntaxNode) => {
      if (n.type === 'identifier') locals.add(n.text);
      else for (const c of namedChildren(n)) collectTargets(c);
    };
    for (const clause of clauses) {
      if (clause.type === 'for_in_clause') {
        const left = field(clause, 'left');
        if (left) collectTargets(left);
        const right = field(clause, 'right');
        if (right && clause.id !== first?.id) this.visit(right);
      } else this.visitChildren(clause);
    }
    const body = field(node, 'body');
    if (body) this.visit(body);
    this.comprehensionLocals.pop();
  }

  /** Record global-looking loads in a body that belongs to another code object. */
  private miss(node: SyntaxNode, where: string): void {
    const scan = (n: SyntaxNode) => {
      if (n.type === 'identifier') {
        const parent = n.parent;
        if (parent?.type === 'keyword_argument' && field(parent, 'name')?.id === n.id) return;
        if (parent?.type === 'attribute' && field(parent, 'attribute')?.id === n.id) return;
        this.missed.push({ name: n.text, node: n, where });
        return;
      }
      for (const c of namedChildren(n)) scan(c);
    };
    scan(node);
  }
}

/** Emulate `co_names` of a module-level `def` (its `co_freevars` is empty: no enclosing function). */
export function codeNames(fn: SyntaxNode, opts: CodeNamesOptions): CodeNames {
  const w = new Walker(opts);
  const params = field(fn, 'parameters');
  const paramNames = new Set<string>();
  const collect = (n: SyntaxNode) => {
    if (n.type === 'identifier') paramNames.add(n.text);
    else for (const c of namedChildren(n)) if (c.type !== 'type' && field(n, 'value')?.id !== c.id) collect(c);
  };
  if (params) collect(params);
  for (const p of paramNames) w.bind(p);
  const body = field(fn, 'body');
  if (body) w.visit(body);

  const locals = new Set([...w.binds].filter(n => !w.globals.has(n)));
  const names = new Set<string>(w.extra);
  for (const n of w.loads) if (!locals.has(n)) names.add(n);
  for (const n of w.binds) if (w.globals.has(n)) names.add(n);
  const missed = w.missed.filter(m => !names.has(m.name) && !locals.has(m.name));
  return { names, locals, missed };
}

/** Names a block of statements binds in its own scope (assignments, loops, imports, defs), less those it declares `global`. */
export function scopeBindings(body: SyntaxNode, opts: CodeNamesOptions): string[] {
  const w = new Walker(opts);
  w.visit(body);
  return [...w.binds].filter(n => !w.globals.has(n));
}
