/**
 * `flyte_map(...)` calls checked before the run: the arguments that are
 * literals go through the engine's own `planFlyteMap` (Flyte's validation,
 * Flyte's messages), the rest stand in as "some iterable". Keyword arguments
 * other than Flyte's three are dropped by the bridge without a word.
 */
import { fastPathNameError } from '../../engine/run/bridgePlan.ts';
import { MAP_KWARGS, planFlyteMap } from '../../engine/run/flyteMap.ts';
import { stringLiteral } from '../../engine/python/stringLiteral.ts';
import { field, namedChildren, type SyntaxNode } from '../../engine/python/parser.ts';
import { pyIterate, tuple } from '../../engine/values/python.ts';
import { addToTasksList, registerInBody, removeArgument, replaceCode } from '../fixes.ts';
import type { Finding, Fix } from '../findings.ts';
import type { TaskContext } from '../taskContext.ts';

const UNKNOWN = Symbol('not a literal');

/** The value of a literal, as Monty would hand it to the host; UNKNOWN for anything computed. */
function literal(node: SyntaxNode): unknown {
  switch (node.type) {
    case 'string':
    case 'concatenated_string': {
      const s = stringLiteral(node);
      return s === undefined ? UNKNOWN : s;
    }
    case 'integer': {
      const n = Number(node.text.replace(/_/g, ''));
      return Number.isFinite(n) ? n : UNKNOWN;
    }
    case 'float':
      return Number(node.text.replace(/_/g, ''));
    case 'true':
      return true;
    case 'false':
      return false;
    case 'none':
      return null;
    case 'list':
    case 'list_comprehension':
      return [];
    case 'tuple':
      return tuple([]);
    case 'dictionary':
    case 'dictionary_comprehension':
      return new Map();
    case 'set':
    case 'set_comprehension':
      return new Set();
    case 'parenthesized_expression': {
      const inner = namedChildren(node)[0];
      return inner ? literal(inner) : UNKNOWN;
    }
    case 'unary_operator': {
      const arg = field(node, 'argument');
      const v = arg ? literal(arg) : UNKNOWN;
      return typeof v === 'number' && field(node, 'operator')?.text === '-' ? -v : UNKNOWN;
    }
    default:
      return UNKNOWN;
  }
}

async function check(ctx: TaskContext, call: SyntaxNode): Promise<Finding[]> {
  const { task } = ctx;
  const args = field(call, 'arguments');
  const items = args ? namedChildren(args).filter(a => a.type !== 'comment') : [];
  const positional = items.filter(a => a.type !== 'keyword_argument' && a.type !== 'dictionary_splat');
  const keywords = items.filter(a => a.type === 'keyword_argument');
  const base = { source: 'flyte-sandbox' as const, task: task.name };
  const out: Finding[] = [];

  for (const kw of keywords) {
    const name = field(kw, 'name')?.text ?? '';
    if ((MAP_KWARGS as readonly string[]).includes(name)) continue;
    const fix = removeArgument(ctx, kw, `Remove '${name}=' (Flyte drops it)`);
    out.push({ ...base, ...ctx.span(kw), severity: 'warning', code: 'flyte-map-dropped-keyword', unnecessary: true, message: `Flyte's flyte_map silently drops the keyword argument '${name}': only ${MAP_KWARGS.join(', ')} reach the map.`, fixes: fix ? [fix] : [] });
  }

  const splat = positional.some(a => a.type === 'list_splat');
  const first = positional[0];
  if (first && first.type !== 'list_splat') {
    const name = literal(first);
    // A name read here is reported where every read is; anything else computed cannot be judged before the run.
    if (name === UNKNOWN) {
      if (first.type !== 'identifier') out.push({ ...base, ...ctx.span(first), severity: 'information', code: 'flyte-map-dynamic-task', message: 'The task name is computed, so it cannot be checked before the run: Flyte needs the name (a str) of a registered task here, else the run fails (RuntimeError: flyte_map first argument must be a task name string, got ...).' });
      return out;
    }
  } else if (splat) {
    return out;
  }

  const values = positional.filter(a => a.type !== 'list_splat').map(literal);
  const staticArgs = values.map((v, i) => (v === UNKNOWN ? (i === 0 ? '' : []) : v));
  if (splat && staticArgs.length < 2) staticArgs.push([]);
  const kwargs: Record<string, unknown> = {};
  for (const kw of keywords) {
    const name = field(kw, 'name')?.text ?? '';
    const value = field(kw, 'value');
    const v = value ? literal(value) : UNKNOWN;
    if ((MAP_KWARGS as readonly string[]).includes(name) && v !== UNKNOWN) kwargs[name] = v;
  }
  const plan = planFlyteMap(task.registry, staticArgs, kwargs, task.profile);
  if (!('kind' in plan) || plan.kind !== 'raise') return out;
  const message = `${plan.type}: ${plan.message}`;
  if (staticArgs.length < 2) {
    out.push({ ...base, ...ctx.span(call), severity: 'error', code: 'flyte-map-arguments', message });
    return out;
  }
  if (typeof staticArgs[0] !== 'string') {
    out.push({ ...base, ...ctx.span(first!), severity: 'error', code: 'flyte-map-task-name', message });
    return out;
  }
  const taskName = staticArgs[0];
  if (!task.registry.get(taskName)) return [...out, await notRegistered(ctx, first!, taskName, message)];
  const notIterable = positional.slice(1).find((_a, i) => values[i + 1] !== UNKNOWN && !pyIterate(values[i + 1]));
  out.push({ ...base, ...ctx.span(notIterable ?? call), severity: 'error', code: 'flyte-map-iterable', message });
  return out;
}

/** Flyte's "not found", and when the name is a task of the module, the trap behind it. */
async function notRegistered(ctx: TaskContext, nameNode: SyntaxNode, taskName: string, message: string): Promise<Finding> {
  const { task } = ctx;
  const suggestions = task.registry.suggestions(taskName);
  const typoFixes = suggestions.map(s => replaceCode(ctx, nameNode, JSON.stringify(s), `Change to "${s}"`, suggestions.length === 1)).filter((f): f is Fix => !!f);
  const plain: Finding = { source: 'flyte-sandbox', task: task.name, ...ctx.span(nameNode), severity: 'error', code: 'flyte-map-unregistered', message, fixes: typoFixes };
  const info = /^[A-Za-z_]\w*$/.test(taskName) ? await ctx.resolver.classify(task.module, taskName) : undefined;
  if (!info?.callable) return plain;
  if (task.kind !== 'decorated') {
    const fix = addToTasksList(ctx, taskName);
    return { ...plain, message: `${message}. ${taskName} is a ${info.what}: only what tasks=[...] lists is registered.`, fixes: [...(fix ? [fix] : []), ...typoFixes] };
  }
  if (!info.category) return plain;
  const fix = registerInBody(ctx, taskName);
  return { ...plain, severity: 'warning', code: 'flyte-map-unreferenced', message: `${message}. Production fails this way: ${task.registry.refusalHint(taskName)}`, fixes: [...(fix ? [fix] : []), ...typoFixes] };
}

export async function flyteMapFindings(ctx: TaskContext): Promise<Finding[]> {
  const out: Finding[] = [];
  for (const use of ctx.uses) {
    if (use.name !== 'flyte_map' || use.kind !== 'call' || !use.node.parent) continue;
    if (ctx.fastPath) {
      // flyte_map exists only in Flyte's bridge, which a task with nothing registered does not get.
      const e = fastPathNameError('flyte_map');
      out.push({ source: 'flyte-sandbox', task: ctx.task.name, ...ctx.span(use.node), severity: 'error', code: 'flyte-map-fast-path', message: `${e.type}: ${e.message}: flyte_map exists only in Flyte's bridge, and with nothing registered Flyte runs this task with Monty.run(), without the bridge. Reference the mapped task by name in the task body to register it.` });
      continue;
    }
    out.push(...(await check(ctx, use.node.parent)));
  }
  return out;
}
