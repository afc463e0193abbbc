/**
 * A decorated task's parameters against the call Flyte appends to its code
 * (`t(a, b)`, every input by position): a default never applies, and a
 * keyword-only parameter makes that call fail before the first line.
 */
import { Monty, MontyRuntimeError } from '@pydantic/monty';
import { field, namedChildren, type SyntaxNode } from '../../engine/python/parser.ts';
import { replaceNode } from '../fixes.ts';
import type { Finding, Fix } from '../findings.ts';
import { nodeSpan } from '../positions.ts';
import type { TaskContext } from '../taskContext.ts';

const montySays = new Map<string, string | undefined>();

/** What Monty raises for the trailing call against this parameter shape (asked of Monty with an empty body). */
function trailingCallError(name: string, shape: string, call: string): string | undefined {
  const key = `${name}${shape}|${call}`;
  if (!montySays.has(key)) {
    let said: string | undefined;
    try {
      new Monty(`def ${name}${shape}:\n    pass\n${call}`).run({ printCallback: () => undefined });
    } catch (e) {
      if (e instanceof MontyRuntimeError) said = e.display('type-msg');
    }
    montySays.set(key, said);
  }
  return montySays.get(key);
}

function paramName(p: SyntaxNode): string | undefined {
  return (p.type === 'identifier' ? p : field(p, 'name') ?? namedChildren(p).find(c => c.type === 'identifier'))?.text;
}

function withoutDefault(p: SyntaxNode): string {
  const type = field(p, 'type');
  const name = paramName(p) ?? '';
  return type ? `${name}: ${type.text}` : name;
}

export function parameterFindings(ctx: TaskContext): Finding[] {
  const { task, def } = ctx;
  const params = def && field(def, 'parameters');
  if (!def || !params) return [];
  const trailing = task.flyteCode.slice(task.flyteCode.lastIndexOf('\n') + 1);
  const passed = /\((.*)\)\s*$/.exec(trailing)?.[1] ?? '';
  if (passed.includes('=')) return []; // inputs passed by keyword: neither trap applies
  const module = task.module;
  const base = { source: 'flyte-sandbox' as const, task: task.name };
  const out: Finding[] = [];
  const list = namedChildren(params);
  // flyte.run fills declared defaults in (the engine's profile says whether it does): then they apply.
  for (const p of task.profile.interfaceDefaults ? [] : list) {
    if (p.type !== 'default_parameter' && p.type !== 'typed_default_parameter') continue;
    const name = paramName(p);
    const value = field(p, 'value');
    if (!name || !value || !task.inputNames.includes(name)) continue;
    const fix: Fix = replaceNode(module, p, withoutDefault(p), `Remove the default of '${name}' (it never applies in the sandbox)`);
    out.push({
      ...base, ...nodeSpan(module, value), severity: 'warning', code: 'parameter-default',
      message: `This default never applies in the sandbox: Flyte's code ends with the call ${trailing.trim()}, passing every input by position, so '${name}' must always be given (a run without it fails: Missing required input: '${name}').`,
      fixes: [fix],
    });
  }
  const star = list.find(p => p.type === 'keyword_separator');
  const keywordOnly = star ? list.slice(list.indexOf(star) + 1).map(paramName).filter((n): n is string => !!n && task.inputNames.includes(n)) : [];
  if (star && keywordOnly.length) {
    const positional = list.slice(0, list.indexOf(star)).filter(p => p.type !== 'positional_separator').map(paramName).filter(Boolean);
    const shape = `(${[...positional, '*', ...keywordOnly].join(', ')})`;
    const said = trailingCallError(task.name, shape, `${task.name}(${task.inputNames.map(() => 'None').join(', ')})`);
    // Every parameter positional, keeping Python's rule that those without a default come first
    // (Flyte builds the trailing call from the signature, and passes inputs by name to the task).
    const named = list.filter(p => p.type !== 'keyword_separator' && p.type !== 'positional_separator' && p.type !== 'comment');
    const hasDefault = (p: SyntaxNode) => p.type === 'default_parameter' || p.type === 'typed_default_parameter';
    const ordered = [...named.filter(p => !hasDefault(p)), ...named.filter(hasDefault)];
    const fix: Fix = replaceNode(module, params, `(${ordered.map(p => p.text).join(', ')})`, `Make every parameter positional (remove "*,"${ordered.some((p, i) => p.id !== named[i]!.id) ? '; parameters without a default move first' : ''})`);
    out.push({
      ...base, ...nodeSpan(module, star), severity: 'warning', code: 'keyword-only-parameter',
      message: `Keyword-only parameter${keywordOnly.length > 1 ? 's' : ''} ${keywordOnly.map(n => `'${n}'`).join(', ')}: Flyte's code ends with the call ${trailing.trim()}, passing every input by position, so the task fails before its first line${said ? ` (${said})` : ''}.`,
      fixes: [fix],
    });
  }
  return out;
}
