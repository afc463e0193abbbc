/**
 * What Flyte raises while defining the task, when the module is imported
 * (the engine's `definitionErrors`: the type boundary, generators,
 * `*args`, bad `tasks=[...]` entries): the task never runs. A `X | None`
 * the boundary refuses has a mechanical fix, `Optional[X]`.
 */
import type { PythonModule } from '../../engine/python/module.ts';
import { field, namedChildren, type SyntaxNode } from '../../engine/python/parser.ts';
import type { Edit, Finding, Fix } from '../findings.ts';
import { expressionAt, offsetOf } from '../positions.ts';
import type { TaskContext } from '../taskContext.ts';

/** The outermost `A | B` nodes inside an annotation. */
function unions(node: SyntaxNode): SyntaxNode[] {
  if (node.type === 'binary_operator' && field(node, 'operator')?.text === '|') return [node];
  return namedChildren(node).flatMap(unions);
}

function operands(node: SyntaxNode): SyntaxNode[] {
  if (node.type === 'binary_operator' && field(node, 'operator')?.text === '|') return [field(node, 'left'), field(node, 'right')].flatMap(n => (n ? operands(n) : []));
  return [node];
}

function typingImportEdit(module: PythonModule, names: string[]): Edit | undefined {
  const missing = names.filter(n => !new RegExp(`^from typing import .*\\b${n}\\b`, 'm').test(module.text));
  if (!missing.length) return undefined;
  // After the module docstring and `from __future__` imports, before the first other statement.
  const statements = namedChildren(module.root).filter(st => st.type !== 'comment');
  const isDocstring = (st: SyntaxNode) => st.type === 'expression_statement' && namedChildren(st)[0]?.type === 'string';
  let i = 0;
  while (i < statements.length && ((i === 0 && isDocstring(statements[0]!)) || statements[i]!.type === 'future_import_statement')) i++;
  const line = statements[i] ? module.position(statements[i]!.startIndex).line : module.position(module.text.length).line + 1;
  const at = { file: module.path, line, column: 1 };
  return { file: module.path, start: at, end: at, newText: `from typing import ${missing.join(', ')}\n` };
}

function optionalFix(module: PythonModule, annotation: SyntaxNode): Fix | undefined {
  const found = unions(annotation);
  if (!found.length) return undefined;
  const used = new Set<string>();
  const edits: Edit[] = found.map(u => {
    const parts = operands(u);
    const rest = parts.filter(p => p.type !== 'none');
    let text: string;
    if (rest.length < parts.length && rest.length === 1) {
      used.add('Optional');
      text = `Optional[${rest[0]!.text}]`;
    } else {
      used.add('Union');
      text = `Union[${parts.map(p => p.text).join(', ')}]`;
    }
    return { file: module.path, start: module.position(u.startIndex), end: module.position(u.endIndex), newText: text };
  });
  const imp = typingImportEdit(module, [...used].sort());
  return { title: `Write it as ${edits.map(e => e.newText).join(', ')} (typing.Union, which Flyte's type boundary accepts)`, edits: [...(imp ? [imp] : []), ...edits], preferred: true };
}

export function definitionFindings(ctx: TaskContext): Finding[] {
  const module = ctx.task.module;
  return ctx.task.definitionErrors.map((e): Finding => {
    const range = e.at.file === module.path ? expressionAt(module, e.at) : { start: e.at, end: { ...e.at, column: e.at.column + 1 } };
    const node = module.root.descendantForIndex(offsetOf(module, range.start), Math.max(offsetOf(module, range.start), offsetOf(module, range.end) - 1));
    const fix = node && e.type === 'TypeError' && e.message.includes('has unsupported type') ? optionalFix(module, node) : undefined;
    return {
      source: 'flyte-sandbox', task: ctx.task.name, ...range, severity: e.type === 'UnsupportedSource' ? 'warning' : 'error',
      code: e.type === 'UnsupportedSource' ? 'unreadable-task' : 'definition-error',
      message: e.type === 'UnsupportedSource' ? `The debugger cannot read this task: ${e.message}.` : `${e.type}: ${e.message} (Flyte raises this when the module is imported: ${e.importTime ? 'no task of this file runs' : 'the task never runs'})`,
      ...(fix ? { fixes: [fix] } : {}),
    };
  });
}
