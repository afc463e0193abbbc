/** Mechanical fixes, as edits of the user's file: each keeps the code as the user wrote it, apart from the one change. */
import { keywordArg, positionalArgs } from '../engine/extract/bindings.ts';
import type { FilePosition, PythonModule } from '../engine/python/module.ts';
import { field, namedChildren, type SyntaxNode } from '../engine/python/parser.ts';
import type { Edit, Fix } from './findings.ts';
import { nodeSpan } from './positions.ts';
import type { TaskContext } from './taskContext.ts';

function lineStartOf(p: FilePosition): FilePosition {
  return { ...p, column: 1 };
}

/** Where new statements go at the top of the task's code, and their indentation; undefined when the code shares its first line with something else. */
function topOfTask(ctx: TaskContext): { at: FilePosition; indent: string } | undefined {
  const module = ctx.codeModule;
  let first: FilePosition;
  if (ctx.def) {
    const body = field(ctx.def, 'body');
    const statements = body ? namedChildren(body).filter(s => s.type !== 'comment') : [];
    const docstring = statements[0]?.type === 'expression_statement' && namedChildren(statements[0])[0]?.type === 'string';
    const target = statements[docstring ? 1 : 0] ?? statements[0];
    if (!target) return undefined;
    first = module.position(target.startIndex);
    if (docstring && !statements[1]) first = { ...module.position(statements[0]!.endIndex), line: module.position(statements[0]!.endIndex).line + 1, column: module.position(statements[0]!.startIndex).column };
  } else {
    first = ctx.task.sourceMap.indexToFile(0);
  }
  const lineText = module.lineText(first.line);
  const indent = lineText.slice(0, first.column - 1);
  if (!/^[ \t]*$/.test(indent)) return undefined;
  return { at: lineStartOf(first), indent };
}

/** Insert `block` (lines without indentation) at the top of the task's code. */
export function insertAtTop(ctx: TaskContext, title: string, block: string): Fix | undefined {
  const top = topOfTask(ctx);
  if (!top) return undefined;
  const text = block.split('\n').map(l => (l ? top.indent + l : l)).join('\n') + '\n';
  return { title, edits: [{ file: ctx.codeModule.path, start: top.at, end: top.at, newText: text }] };
}

/** A decorated task: a call in a branch that never runs puts the name in the task's own code object, where Flyte's discovery looks. */
export function registerInBody(ctx: TaskContext, name: string): Fix | undefined {
  return insertAtTop(ctx, `Register '${name}' with Flyte: reference it in the task body (in a branch that never runs)`,
    `if False:  # lets Flyte's discovery see ${name} (it scans the names the task's own code uses)\n    ${name}()`);
}

/** A code-string or orchestrate_local task: add `name` to its `tasks=[...]`. */
export function addToTasksList(ctx: TaskContext, name: string): Fix | undefined {
  const call = ctx.call;
  if (!call) return undefined;
  const module = ctx.task.module;
  const list = keywordArg(call, 'tasks');
  const file = module.path;
  if (list && (list.type === 'list' || list.type === 'tuple')) {
    const items = namedChildren(list).filter(c => c.type !== 'comment');
    const last = items.at(-1);
    const at = last ? module.position(last.endIndex) : module.position(list.startIndex + 1);
    return { title: `Add '${name}' to tasks=[...]`, edits: [{ file, start: at, end: at, newText: last ? `, ${name}` : name }], preferred: true };
  }
  if (list) return undefined;
  const args = field(call, 'arguments');
  if (!args) return undefined;
  const end = module.position(args.endIndex - 1);
  const hasArgs = positionalArgs(call).length > 0 || namedChildren(args).some(a => a.type === 'keyword_argument');
  return { title: `Add tasks=[${name}]`, edits: [{ file, start: end, end, newText: `${hasArgs ? ', ' : ''}tasks=[${name}]` }], preferred: true };
}

export function replaceNode(module: PythonModule, node: SyntaxNode, newText: string, title: string, preferred = false): Fix {
  const { start, end } = nodeSpan(module, node);
  return { title, edits: [{ file: module.path, start, end, newText }], ...(preferred ? { preferred } : {}) };
}

/** Replace the file range of a node of the task's code (for code-string tasks the node lives inside the string). */
export function replaceCode(ctx: TaskContext, node: SyntaxNode, newText: string, title: string, preferred = false): Fix | undefined {
  for (let i = node.startIndex; i < node.endIndex; i++) if (!ctx.task.sourceMap.isVerbatim(i)) return undefined;
  const { start, end } = ctx.span(node);
  return { title, edits: [{ file: ctx.codeModule.path, start, end, newText }], ...(preferred ? { preferred } : {}) };
}

/** Replace code characters [from, to) of the task's code, when the file holds them as they are. */
export function replaceRange(ctx: TaskContext, from: number, to: number, newText: string, title: string): Fix | undefined {
  for (let i = from; i < to; i++) if (!ctx.task.sourceMap.isVerbatim(i)) return undefined;
  const { start, end } = ctx.task.sourceMap.rangeToFile(from, to);
  return { title, edits: [{ file: ctx.codeModule.path, start, end, newText }] };
}

/** Delete an argument of a call of the task's code, with the comma that separates it. */
export function removeArgument(ctx: TaskContext, arg: SyntaxNode, title: string): Fix | undefined {
  const prev = arg.previousSibling;
  const next = arg.nextSibling;
  const from = prev?.type === ',' ? prev.startIndex : arg.startIndex;
  const to = prev?.type === ',' ? arg.endIndex : next?.type === ',' ? next.endIndex + (ctx.task.code[next.endIndex] === ' ' ? 1 : 0) : arg.endIndex;
  for (let i = from; i < to; i++) if (!ctx.task.sourceMap.isVerbatim(i)) return undefined;
  const { start, end } = ctx.task.sourceMap.rangeToFile(from, to);
  const edit: Edit = { file: ctx.codeModule.path, start, end, newText: '' };
  return { title, edits: [edit] };
}
