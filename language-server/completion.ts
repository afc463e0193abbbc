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

/** Whether the innermost open parenthesis before `index` is flyte_map's (text-based: the code may not parse while typing). */
function insideFlyteMapArgs(code: string, index: number): boolean {
  let depth = 0;
  for (let i = index - 1; i >= 0; i--) {
    const ch = code[i];
    if (ch === ')' || ch === ']' || ch === '}') depth++;
    else if (ch === '(' || ch === '[' || ch === '{') {
      if (depth === 0) return ch === '(' && /\bflyte_map\s*$/.test(code.slice(Math.max(0, i - 40), i));
      depth--;
    } else if (ch === '\n' && depth === 0 && !/[,(]\s*$/.test(code.slice(Math.max(0, i - 200), i))) return false;
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
  if (insideFlyteMapArgs(ctx.task.code, spot.index + 1) && !/=\s*\w*$/.test(before)) {
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
