/**
 * Every name a task's code leaves to the host, judged the way the sandbox
 * will judge it: a call goes out as an external call (registered, or
 * refused with Flyte's RuntimeError), a read is a name lookup (a NameError:
 * only calls cross the boundary). Why a name is not registered comes from
 * the engine's registry and its classification of module-level names.
 */
import type { NameUse } from '../../engine/check/names.ts';
import type { RefInfo } from '../../engine/extract/bindings.ts';
import { UNKNOWN_EXTERNAL } from '../../engine/registry.ts';
import { fastPathNameError } from '../../engine/run/bridgePlan.ts';
import { field, namedChildren } from '../../engine/python/parser.ts';
import { addToTasksList, insertAtTop, registerInBody, replaceCode, replaceRange } from '../fixes.ts';
import type { Finding, Fix } from '../findings.ts';
import type { TaskContext } from '../taskContext.ts';

/** What production raises for a call to a name nothing answers: the bridge's RuntimeError, or on the fast path Monty's NameError. */
function refused(ctx: TaskContext, name: string): string {
  if (!ctx.fastPath) return `RuntimeError: ${UNKNOWN_EXTERNAL}${name}`;
  const e = fastPathNameError(name);
  return `${e.type}: ${e.message}`;
}

const FAST_PATH = ' With nothing registered Flyte runs this task with Monty.run(), without its bridge, so the call is a NameError inside the sandbox.';
const nameError = (name: string) => `NameError: name '${name}' is not defined`;

function registered(ctx: TaskContext): string {
  const names = ctx.task.registry.names();
  return names.length ? names.join(', ') : '(none)';
}

function where(info: RefInfo, ctx: TaskContext): string {
  if (!info.definedAt) return '';
  return info.definedAt.file === ctx.task.module.path ? ` (line ${info.definedAt.line})` : ` (${info.definedAt.file}:${info.definedAt.line})`;
}

/** A module-level definition copied into the task, when it is in this file and a plain statement. */
async function copyDefinition(ctx: TaskContext, name: string, what: 'function' | 'value'): Promise<Fix | undefined> {
  const found = await ctx.resolver.lookup(ctx.task.module, name);
  if (!found || !('binding' in found) || found.module !== ctx.task.module) return undefined;
  const b = found.binding;
  let node = b.node;
  if (b.kind === 'def' && b.decorators.length) return undefined;
  if (!['def', 'assign', 'import', 'import-from'].includes(b.kind)) return undefined;
  // An assignment's statement is its parent; imports and defs are statements themselves.
  if (b.kind === 'assign') node = node.parent ?? node;
  const module = ctx.task.module;
  const start = module.lineStart(module.position(node.startIndex).line);
  const text = module.text.slice(start, node.endIndex);
  const margin = /^[ \t]*/.exec(text)![0];
  const block = text.split('\n').map(l => (l.startsWith(margin) ? l.slice(margin.length) : l.trimStart())).join('\n');
  const verb = b.kind === 'import' || b.kind === 'import-from' ? 'Import' : 'Copy';
  return insertAtTop(ctx, `${verb} ${what === 'function' ? `the function '${name}'` : `'${name}'`} into the task (the sandbox gets only the task's own code)`, block);
}

async function call(ctx: TaskContext, use: NameUse): Promise<Finding[]> {
  const { task } = ctx;
  const name = use.name;
  if (name === 'flyte_map' || task.registry.get(name)) return [];
  const info = await ctx.resolver.classify(task.module, name);
  const at = ctx.span(use.node);
  const base = { source: 'flyte-sandbox' as const, task: task.name, ...at };
  const suggestions = task.registry.suggestions(name);
  const typoFixes = suggestions.map(s => replaceCode(ctx, use.node, s, `Change to '${s}'`, suggestions.length === 1)).filter((f): f is Fix => !!f);
  const unknown = `not a registered external function: the sandbox will refuse this call (${refused(ctx, name)}). Registered: ${registered(ctx)}.${suggestions.length ? ` Did you mean ${suggestions.map(s => `'${s}'`).join(' or ')}?` : ''}${ctx.fastPath ? FAST_PATH : ''}`;

  if (task.kind !== 'decorated') {
    const fix = info?.callable ? addToTasksList(ctx, name) : undefined;
    const listed = info?.callable ? ` ${name} is a ${info.what}${where(info, ctx)}: only what tasks=[...] lists is registered.` : '';
    return [{ ...base, severity: 'error', code: 'unknown-external', message: unknown + listed, fixes: [...(fix ? [fix] : []), ...typoFixes] }];
  }
  if (info?.category) {
    const fix = registerInBody(ctx, name);
    return [{ ...base, severity: 'warning', code: 'not-discovered', message: `Flyte will not register ${name} for this task, so production refuses this call (${refused(ctx, name)}): ${task.registry.refusalHint(name)}`, fixes: fix ? [fix] : [] }];
  }
  if (info) {
    const fix = await copyDefinition(ctx, name, 'function');
    return [{ ...base, severity: 'warning', code: 'module-helper', message: `${name} is not sent to the sandbox, so production refuses this call (${refused(ctx, name)}): ${task.registry.refusalHint(name)}`, fixes: fix ? [fix] : [] }];
  }
  return [{ ...base, severity: 'error', code: 'unknown-external', message: unknown, fixes: typoFixes }];
}

async function read(ctx: TaskContext, use: NameUse): Promise<Finding[]> {
  const { task } = ctx;
  const name = use.name;
  const at = ctx.span(use.node);
  const base = { source: 'flyte-sandbox' as const, task: task.name, ...at };
  const info = task.registry.get(name) ? undefined : await ctx.resolver.classify(task.module, name);
  const parent = use.node.parent;
  const isMapTarget = parent?.type === 'argument_list' && parent.parent && field(parent.parent, 'function')?.text === 'flyte_map' && namedChildren(parent)[0]?.id === use.node.id;
  if (task.registry.get(name) || info?.category) {
    const fixes: Fix[] = [];
    if (isMapTarget) {
      const f = replaceCode(ctx, use.node, JSON.stringify(name), `Pass the task's name: flyte_map("${name}", ...)`, true);
      if (f) fixes.push(f);
    }
    const mapHint = isMapTarget ? ` flyte_map takes the task's name as a string: flyte_map("${name}", ...).` : '';
    return [{ ...base, severity: 'warning', code: 'task-read', message: `${name} is read, not called: only calls cross the sandbox boundary, so this read fails at run time (${nameError(name)}).${mapHint}`, fixes }];
  }
  if (info) {
    const fix = await copyDefinition(ctx, name, 'value');
    return [{ ...base, severity: 'warning', code: 'module-value', message: `${name} is a ${info.what} of the module${where(info, ctx)}, and Monty receives only the task's own code: this read fails at run time (${nameError(name)}).`, fixes: fix ? [fix] : [] }];
  }
  return [{ ...base, severity: 'error', code: 'undefined-name', message: `${nameError(name)}: this read fails at run time.` }];
}

/** `await ext(...)`: in a release whose bridge resumes Monty with the plain result, that await fails. */
function awaited(ctx: TaskContext, use: NameUse): Finding[] {
  if (ctx.task.profile.awaitExternal !== 'fails' || ctx.fastPath) return [];
  if (use.name !== 'flyte_map' && !ctx.task.registry.get(use.name)) return [];
  let n = use.node.parent?.parent;
  while (n?.type === 'parenthesized_expression') n = n.parent;
  if (n?.type !== 'await') return [];
  const keyword = n.child(0);
  const next = keyword?.nextSibling;
  const fix = keyword && next && replaceRange(ctx, keyword.startIndex, next.startIndex, '', `Drop the await (calls to other tasks are synchronous in the sandbox)`);
  return [{
    source: 'flyte-sandbox', task: ctx.task.name, ...ctx.span(n), severity: 'warning', code: 'await-external',
    message: `In ${ctx.task.profile.label} the bridge resumes Monty with the plain result of ${use.name}(), not an awaitable, so this await fails at run time (TypeError: '<type of the result>' object can't be awaited). Inside a sandboxed task, calls to other tasks are synchronous: drop the await.`,
    fixes: fix ? [fix] : [],
  }];
}

export async function nameFindings(ctx: TaskContext): Promise<Finding[]> {
  const out: Finding[] = [];
  for (const use of ctx.uses) if (use.kind === 'call') out.push(...awaited(ctx, use));
  for (const use of ctx.uses) out.push(...(use.kind === 'call' ? await call(ctx, use) : await read(ctx, use)));
  return out;
}
