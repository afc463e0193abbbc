/**
 * Python's scoping over the code Monty runs: which names a sandboxed task's
 * code uses without binding them anywhere it can see. Those are exactly the
 * names the sandbox has to ask the host for: a call to one becomes an
 * external call (registered or refused), a read of one a name lookup (a
 * NameError, since only calls cross the boundary).
 *
 * A name bound anywhere in a function is local to the whole function, as in
 * Python; annotations are not evaluated by Monty and are skipped.
 */
import { field, namedChildren, type SyntaxNode } from '../python/parser.ts';

export interface NameUse {
  name: string;
  /** `call`: the callee of a call; `read`: any other load. */
  kind: 'call' | 'read';
  node: SyntaxNode;
  /** The innermost `def` around the use (`<module>` at top level). */
  enclosing: string;
}

interface Scope {
  kind: 'module' | 'function' | 'lambda' | 'comprehension' | 'class';
  parent: Scope | undefined;
  bound: Set<string>;
  globals: Set<string>;
  name: string;
}

const COMPREHENSIONS = new Set(['list_comprehension', 'set_comprehension', 'dictionary_comprehension', 'generator_expression']);

function newScope(kind: Scope['kind'], parent: Scope | undefined, name: string): Scope {
  return { kind, parent, bound: new Set(), globals: new Set(), name };
}

/** The function scope a walrus binds in (PEP 572: comprehensions are skipped). */
function walrusTarget(scope: Scope): Scope {
  let s = scope;
  while (s.kind === 'comprehension' && s.parent) s = s.parent;
  return s;
}

class Analyzer {
  readonly uses: NameUse[] = [];
  private readonly scopes = new Map<number, Scope>();

  constructor(root: SyntaxNode, predeclared: Iterable<string>) {
    const module = newScope('module', undefined, '<module>');
    for (const n of predeclared) module.bound.add(n);
    this.scopes.set(root.id, module);
    this.collect(root, module);
    this.resolve(root, module);
  }

  // ── pass 1: what each scope binds ───────────────────────────────────

  private bindTarget(node: SyntaxNode, scope: Scope): void {
    if (node.type === 'identifier') scope.bound.add(node.text);
    else if (node.type === 'attribute' || node.type === 'subscript') return;
    else for (const c of namedChildren(node)) this.bindTarget(c, scope);
  }

  private parameters(params: SyntaxNode | null, inner: Scope, outer: Scope): void {
    if (!params) return;
    for (const p of namedChildren(params)) {
      const name = p.type === 'identifier' ? p : field(p, 'name') ?? namedChildren(p).find(c => c.type === 'identifier');
      if (name?.type === 'identifier') inner.bound.add(name.text);
      const value = field(p, 'value');
      if (value) this.collect(value, outer);
    }
  }

  private collect(node: SyntaxNode, scope: Scope): void {
    switch (node.type) {
      case 'function_definition':
      case 'lambda': {
        const name = field(node, 'name');
        if (name) scope.bound.add(name.text);
        const inner = newScope(node.type === 'lambda' ? 'lambda' : 'function', scope, name?.text ?? '<lambda>');
        this.scopes.set(node.id, inner);
        this.parameters(field(node, 'parameters'), inner, scope);
        const body = field(node, 'body');
        if (body) this.collect(body, inner);
        return;
      }
      case 'class_definition': {
        const name = field(node, 'name');
        if (name) scope.bound.add(name.text);
        const inner = newScope('class', scope, name?.text ?? '?');
        this.scopes.set(node.id, inner);
        const supers = field(node, 'superclasses');
        if (supers) this.collect(supers, scope);
        const body = field(node, 'body');
        if (body) this.collect(body, inner);
        return;
      }
      case 'list_comprehension':
      case 'set_comprehension':
      case 'dictionary_comprehension':
      case 'generator_expression': {
        const inner = newScope('comprehension', scope, scope.name);
        this.scopes.set(node.id, inner);
        const clauses = namedChildren(node).filter(c => c.type === 'for_in_clause');
        clauses.forEach((clause, i) => {
          const left = field(clause, 'left');
          if (left) this.bindTarget(left, inner);
          const right = field(clause, 'right');
          // The outermost iterable is evaluated in the enclosing scope.
          if (right) this.collect(right, i === 0 ? scope : inner);
        });
        for (const c of namedChildren(node)) if (c.type !== 'for_in_clause') this.collect(c, inner);
        return;
      }
      case 'assignment':
      case 'augmented_assignment': {
        const left = field(node, 'left');
        if (left) this.bindTarget(left, scope);
        break;
      }
      case 'for_statement':
      case 'for_in_clause': {
        const left = field(node, 'left');
        if (left) this.bindTarget(left, scope);
        break;
      }
      case 'as_pattern_target':
        this.bindTarget(node, scope);
        return;
      case 'except_clause': {
        const alias = field(node, 'alias');
        if (alias) this.bindTarget(alias, scope);
        break;
      }
      case 'named_expression': {
        const name = field(node, 'name');
        if (name) walrusTarget(scope).bound.add(name.text);
        break;
      }
      case 'global_statement':
        for (const c of namedChildren(node)) if (c.type === 'identifier') scope.globals.add(c.text);
        return;
      case 'nonlocal_statement':
        return;
      case 'import_statement':
        for (const c of namedChildren(node)) {
          if (c.type === 'dotted_name') scope.bound.add(c.text.split('.')[0]!);
          else if (c.type === 'aliased_import') {
            const alias = field(c, 'alias');
            if (alias) scope.bound.add(alias.text);
          }
        }
        return;
      case 'import_from_statement': {
        const mod = field(node, 'module_name');
        for (const c of namedChildren(node)) {
          if (mod && c.id === mod.id) continue;
          if (c.type === 'dotted_name') scope.bound.add(c.text);
          else if (c.type === 'aliased_import') {
            const alias = field(c, 'alias');
            if (alias) scope.bound.add(alias.text);
          }
        }
        return;
      }
      default:
        break;
    }
    for (const c of namedChildren(node)) this.collect(c, scope);
  }

  // ── pass 2: every load, resolved ────────────────────────────────────

  private isBound(name: string, scope: Scope): boolean {
    let s: Scope | undefined = scope;
    if (s.globals.has(name)) return moduleOf(s).bound.has(name);
    let first = true;
    while (s) {
      // A class body's names are not visible from the functions inside it.
      if (s.kind !== 'class' || first) {
        if (s.bound.has(name)) return true;
        if (s.globals.has(name)) return moduleOf(s).bound.has(name);
      }
      first = false;
      s = s.parent;
    }
    return false;
  }

  private enclosing(scope: Scope): string {
    let s: Scope | undefined = scope;
    while (s && s.kind !== 'function' && s.kind !== 'module') s = s.parent;
    return s?.name ?? '<module>';
  }

  private use(node: SyntaxNode, scope: Scope): void {
    if (this.isBound(node.text, scope)) return;
    const parent = node.parent;
    const kind = parent?.type === 'call' && field(parent, 'function')?.id === node.id ? 'call' : 'read';
    this.uses.push({ name: node.text, kind, node, enclosing: this.enclosing(scope) });
  }

  private resolve(node: SyntaxNode, scope: Scope): void {
    switch (node.type) {
      case 'identifier':
        this.use(node, scope);
        return;
      case 'type':
      case 'comment':
      case 'string':
      case 'global_statement':
      case 'nonlocal_statement':
      case 'import_statement':
      case 'import_from_statement':
        return;
      case 'attribute': {
        const obj = field(node, 'object');
        if (obj) this.resolve(obj, scope);
        return;
      }
      case 'keyword_argument': {
        const value = field(node, 'value');
        if (value) this.resolve(value, scope);
        return;
      }
      case 'function_definition':
      case 'lambda': {
        const inner = this.scopes.get(node.id)!;
        const params = field(node, 'parameters');
        for (const p of params ? namedChildren(params) : []) {
          const value = field(p, 'value');
          if (value) this.resolve(value, scope);
        }
        const body = field(node, 'body');
        if (body) this.resolve(body, inner);
        return;
      }
      case 'decorated_definition':
        for (const c of namedChildren(node)) this.resolve(c, scope);
        return;
      case 'class_definition': {
        const supers = field(node, 'superclasses');
        if (supers) this.resolve(supers, scope);
        const body = field(node, 'body');
        if (body) this.resolve(body, this.scopes.get(node.id)!);
        return;
      }
      case 'assignment': {
        const left = field(node, 'left');
        if (left) this.targets(left, scope);
        const right = field(node, 'right');
        if (right) this.resolve(right, scope);
        return;
      }
      case 'augmented_assignment': {
        const left = field(node, 'left');
        if (left) this.resolve(left, scope);
        const right = field(node, 'right');
        if (right) this.resolve(right, scope);
        return;
      }
      case 'for_statement': {
        const left = field(node, 'left');
        if (left) this.targets(left, scope);
        for (const name of ['right', 'body', 'alternative']) {
          const c = field(node, name);
          if (c) this.resolve(c, scope);
        }
        return;
      }
      case 'as_pattern_target':
        this.targets(node, scope);
        return;
      case 'named_expression': {
        const value = field(node, 'value');
        if (value) this.resolve(value, scope);
        return;
      }
      default:
        break;
    }
    if (COMPREHENSIONS.has(node.type)) {
      const inner = this.scopes.get(node.id)!;
      const clauses = namedChildren(node).filter(c => c.type === 'for_in_clause');
      clauses.forEach((clause, i) => {
        const left = field(clause, 'left');
        if (left) this.targets(left, inner);
        const right = field(clause, 'right');
        if (right) this.resolve(right, i === 0 ? scope : inner);
      });
      for (const c of namedChildren(node)) if (c.type !== 'for_in_clause') this.resolve(c, inner);
      return;
    }
    if (node.type === 'except_clause') {
      const alias = field(node, 'alias');
      for (const c of namedChildren(node)) if (!alias || c.id !== alias.id) this.resolve(c, scope);
      return;
    }
    for (const c of namedChildren(node)) this.resolve(c, scope);
  }

  /** Assignment targets: plain names are stores, but attribute objects and subscripts are loads. */
  private targets(node: SyntaxNode, scope: Scope): void {
    if (node.type === 'identifier') return;
    if (node.type === 'attribute' || node.type === 'subscript') {
      this.resolve(node, scope);
      return;
    }
    for (const c of namedChildren(node)) this.targets(c, scope);
  }
}

function moduleOf(scope: Scope): Scope {
  let s = scope;
  while (s.parent) s = s.parent;
  return s;
}

/** Every use of a name the code does not bind itself, in source order. `predeclared`: the inputs Monty declares. */
export function unboundNames(root: SyntaxNode, predeclared: Iterable<string>): NameUse[] {
  return new Analyzer(root, predeclared).uses.sort((a, b) => a.node.startIndex - b.node.startIndex);
}
