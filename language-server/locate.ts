/** Which task, and which node of its code, a file position falls in. */
import type { FilePosition } from '../engine/python/module.ts';
import type { SyntaxNode } from '../engine/python/parser.ts';
import type { FileAnalysis } from './analysis.ts';
import { offsetOf } from './positions.ts';
import type { TaskContext } from './taskContext.ts';

export interface CodeSpot {
  ctx: TaskContext;
  /** Index into the task's code of the character at the position (or just before it, at the end of a word). */
  index: number;
  node: SyntaxNode;
}

/** `before`: the character just before the position counts first (completion, where the cursor ends a word). */
export function spotAt(analysis: FileAnalysis, p: FilePosition, prefer: 'at' | 'before' = 'at'): CodeSpot | undefined {
  for (const ctx of analysis.contexts) {
    if (ctx.codeModule.path !== p.file) continue;
    const offset = offsetOf(ctx.codeModule, p);
    for (const o of prefer === 'at' ? [offset, offset - 1] : [offset - 1, offset]) {
      const code = ctx.task.sourceMap.toCode(o);
      if (!code) continue;
      // toCode gives Monty-style positions; the index is what the parsed code uses.
      const index = ctx.task.code.split('\n').slice(0, code.line - 1).reduce((n, l) => n + l.length + 1, 0) + code.column - 1;
      if (!ctx.task.sourceMap.isVerbatim(index)) continue;
      const node = ctx.code.rootNode.descendantForIndex(index);
      if (node) return { ctx, index, node };
    }
  }
  return undefined;
}

/** The external call name or flyte_map task-name string at a spot. */
export function externalAt(spot: CodeSpot): { name: string; node: SyntaxNode; viaMap: boolean } | undefined {
  let node: SyntaxNode | null = spot.node;
  if (node.type === 'identifier') {
    const parent = node.parent;
    if (parent?.type === 'call' && parent.childForFieldName('function')?.id === node.id) return { name: node.text, node, viaMap: false };
    return undefined;
  }
  while (node && node.type !== 'string') node = node.parent;
  const args = node?.parent;
  if (node && args?.type === 'argument_list' && args.parent?.childForFieldName('function')?.text === 'flyte_map' && args.namedChildren[0]?.id === node.id) {
    const content = node.namedChildren.find(c => c?.type === 'string_content')?.text;
    if (content) return { name: content, node, viaMap: true };
  }
  return undefined;
}
