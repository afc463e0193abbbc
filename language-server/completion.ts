/**
 * Completion inside sandboxed tasks: the registered task names inside
 * `flyte_map("`, flyte_map's keywords inside its parentheses, and the task's
 * externals (plus flyte_map itself) where a name is typed.
 */
import { CompletionItemKind, InsertTextFormat, type CompletionItem } from 'vscode-languageserver';
import { MAP_KWARGS } from '../engine/run/flyteMap.ts';
import type { FilePosition } from '../engine/python/module.ts';
import type { SyntaxNode } from '../engine/python/parser.ts';
import type { FileAnalysis } from './analysis.ts';
import { spotAt } from './locate.ts';
import { toPosition } from './positions.ts';

function insideFlyteMapArgs(node: SyntaxNode | null): boolean {
  for (let n = node; n; n = n.parent) {
    if (n.type === 'argument_list') return n.parent?.childForFieldName('function')?.text === 'flyte_map';
    if (n.type === 'call' || n.type.endsWith('_statement')) return false;
  }
  return false;
}

export function complete(analysis: FileAnalysis, at: FilePosition, lineText: string): CompletionItem[] {
  const spot = spotAt(analysis, at, 'before');
  if (!spot) return [];
  const { ctx } = spot;
  const registry = ctx.task.registry;
  const before = lineText.slice(0, at.column - 1);
  const typedName = /flyte_map\(\s*(["'])(\w*)$/.exec(before);
  if (typedName) {
    const start = { ...at, column: at.column - typedName[2]!.length };
    return registry.names().map((name, i) => {
      const e = registry.get(name)!;
      return {
        label: name,
        kind: CompletionItemKind.Function,
        detail: e.what,
        documentation: `Registered: ${e.reason}. flyte_map runs it ${e.taskTemplate ? 'with flyte.map' : 'as a plain callable'}.`,
        sortText: String(i).padStart(4, '0'),
        textEdit: { range: { start: toPosition(start), end: toPosition(at) }, newText: name },
      };
    });
  }
  const word = /[A-Za-z_]\w*$/.exec(before)?.[0] ?? '';
  // inside a string or a comment of the task's code there are no names to offer
  for (let n: SyntaxNode | null = spot.node; n; n = n.parent) if (n.type === 'string' || n.type === 'comment') return [];
  if (/[.]\s*\w*$/.test(before)) return [];
  const items: CompletionItem[] = [];
  if (insideFlyteMapArgs(spot.node) && !/=\s*\w*$/.test(before)) {
    for (const k of MAP_KWARGS) items.push({ label: `${k}=`, kind: CompletionItemKind.Property, detail: 'flyte_map keyword', documentation: 'Flyte passes only group_name, concurrency and return_exceptions to the map; it drops any other keyword.', insertText: `${k}=`, sortText: `0${k}` });
  }
  for (const name of registry.names()) {
    const e = registry.get(name)!;
    items.push({ label: name, kind: CompletionItemKind.Function, detail: e.what, documentation: `Registered external of ${ctx.task.name}: ${e.reason}.`, sortText: `1${name}` });
  }
  items.push({
    label: 'flyte_map', kind: CompletionItemKind.Function, detail: 'flyte_map(task_name, *iterables, concurrency=..., group_name=..., return_exceptions=...)',
    documentation: "Flyte's sandbox built-in: maps a registered task over the iterables (zip semantics), results in input order.",
    insertText: 'flyte_map("${1}", ${2})', insertTextFormat: InsertTextFormat.Snippet, sortText: '2flyte_map',
  });
  return word ? items.filter(i => i.label.startsWith(word) || i.label.toLowerCase().includes(word.toLowerCase())) : items;
}
