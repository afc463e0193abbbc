/**
 * Calls Flyte's sandbox API would refuse before any sandbox runs, with the
 * TypeError CPython raises for them: unknown keywords, missing or extra
 * arguments of `env.sandbox.orchestrator(...)`, `orchestrator_from_str(...)`
 * and `orchestrate_local(...)`, and the one argument `orchestrator()` itself
 * type-checks (`orchestrator(42)`).
 */
import { field, namedChildren, type SyntaxNode } from '../python/parser.ts';
import type { PythonModule } from '../python/module.ts';
import { literalTypeName } from './literals.ts';

interface Signature {
  /** As CPython names it in messages (`_SandboxNamespace.orchestrator`). */
  qualname: string;
  /** Counted in "takes N positional arguments" (a bound method's self). */
  implicit: number;
  positionalOnly: string[];
  positional: string[];
  requiredPositional: number;
  keywordOnly: string[];
  requiredKeywordOnly: string[];
}

const ORCHESTRATOR: Signature = {
  qualname: '_SandboxNamespace.orchestrator',
  implicit: 1,
  positionalOnly: ['_func_or_source'],
  positional: [],
  requiredPositional: 0,
  keywordOnly: ['tasks', 'inputs', 'output', 'timeout_ms', 'max_memory', 'max_stack_depth', 'type_check', 'name', 'cache', 'retries'],
  requiredKeywordOnly: [],
};

const FROM_STR: Signature = {
  qualname: 'orchestrator_from_str',
  implicit: 0,
  positionalOnly: [],
  positional: ['source'],
  requiredPositional: 1,
  keywordOnly: ['inputs', 'output', 'tasks', 'name', 'timeout_ms', 'cache', 'retries', 'image'],
  requiredKeywordOnly: ['inputs'],
};

const ORCHESTRATE_LOCAL: Signature = {
  qualname: 'orchestrate_local',
  implicit: 0,
  positionalOnly: [],
  positional: ['source'],
  requiredPositional: 1,
  keywordOnly: ['inputs', 'tasks', 'timeout_ms'],
  requiredKeywordOnly: ['inputs'],
};

export type SandboxCallee = 'orchestrator' | 'orchestrator_from_str' | 'orchestrate_local';

const SIGNATURES: Record<SandboxCallee, Signature> = { orchestrator: ORCHESTRATOR, orchestrator_from_str: FROM_STR, orchestrate_local: ORCHESTRATE_LOCAL };

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

function names(list: string[]): string {
  const q = list.map(n => `'${n}'`);
  return q.length <= 1 ? q.join('') : `${q.slice(0, -1).join(', ')} and ${q.at(-1)}`;
}

/** CPython's TypeError for calling `callee` with these arguments, or undefined when the call binds. */
export function callFormError(callee: SandboxCallee, call: SyntaxNode): string | undefined {
  const sig = SIGNATURES[callee];
  const args = field(call, 'arguments');
  const all = args ? namedChildren(args).filter(a => a.type !== 'comment') : [];
  if (all.some(a => a.type === 'list_splat' || a.type === 'dictionary_splat')) return undefined;
  const positional = all.filter(a => a.type !== 'keyword_argument');
  const keywords = all.filter(a => a.type === 'keyword_argument').map(a => field(a, 'name')?.text ?? '');
  const known = new Set([...sig.positional, ...sig.keywordOnly]);
  const unknown = keywords.find(k => !known.has(k));
  if (unknown !== undefined) {
    const posOnly = keywords.filter(k => sig.positionalOnly.includes(k));
    if (posOnly.length) return `${sig.qualname}() got some positional-only arguments passed as keyword arguments: '${posOnly.join(', ')}'`;
    return `${sig.qualname}() got an unexpected keyword argument '${unknown}'`;
  }
  const twice = sig.positional.slice(0, positional.length).find(p => keywords.includes(p));
  if (twice) return `${sig.qualname}() got multiple values for argument '${twice}'`;
  const max = sig.positionalOnly.length + sig.positional.length;
  if (positional.length > max) {
    const min = sig.implicit + sig.requiredPositional;
    const takes = min === sig.implicit + max ? plural(min, 'positional argument') : `from ${min} to ${plural(sig.implicit + max, 'positional argument')}`;
    const kwOnly = keywords.filter(k => sig.keywordOnly.includes(k)).length;
    const given = sig.implicit + positional.length;
    return `${sig.qualname}() takes ${takes} but ${kwOnly ? `${plural(given, 'positional argument')} (and ${plural(kwOnly, 'keyword-only argument')})` : given} ${given === 1 && !kwOnly ? 'was' : 'were'} given`;
  }
  const missingPos = sig.positional.slice(positional.length, sig.requiredPositional).filter(p => !keywords.includes(p));
  if (missingPos.length) return `${sig.qualname}() missing ${plural(missingPos.length, 'required positional argument')}: ${names(missingPos)}`;
  const missingKw = sig.requiredKeywordOnly.filter(k => !keywords.includes(k));
  if (missingKw.length) return `${sig.qualname}() missing ${plural(missingKw.length, 'required keyword-only argument')}: ${names(missingKw)}`;
  return undefined;
}

export interface DecoratorProblem {
  type: string;
  message: string;
  node: SyntaxNode;
}

/** What `@env.sandbox.orchestrator(...)` raises when the module is imported, or undefined when it decorates. */
export function decoratorProblem(decorator: SyntaxNode, module: PythonModule): DecoratorProblem | undefined {
  if (decorator.type !== 'call') return undefined;
  const form = callFormError('orchestrator', decorator);
  if (form) return { type: 'TypeError', message: form, node: decorator };
  const args = field(decorator, 'arguments');
  const first = args ? namedChildren(args).find(a => a.type !== 'keyword_argument' && a.type !== 'comment') : undefined;
  if (!first || first.type === 'none') return undefined;
  const type = literalTypeName(first, module, decorator.startIndex);
  if (type === 'str') {
    // Mode 2 builds a CodeTaskTemplate; applying it to the function calls the template, whose forward() refuses.
    return { type: 'RuntimeUserError', message: 'CodeTaskTemplate does not support forward(). Use flyte.run() to execute through the sandbox.', node: first };
  }
  if (type !== undefined && type !== 'generator') return { type: 'TypeError', message: `orchestrator() expects a callable, string, or keyword arguments, got <class '${type}'>`, node: first };
  return undefined;
}
