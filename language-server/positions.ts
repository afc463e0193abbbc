/** Engine positions (1-based line and column, UTF-16) to LSP positions (0-based) and back, and node ranges. */
import type { Position, Range } from 'vscode-languageserver';
import type { FilePosition, PythonModule } from '../engine/python/module.ts';
import { field, type SyntaxNode } from '../engine/python/parser.ts';

export function toPosition(p: FilePosition): Position {
  return { line: Math.max(0, p.line - 1), character: Math.max(0, p.column - 1) };
}

export function toRange(start: FilePosition, end: FilePosition): Range {
  return { start: toPosition(start), end: toPosition(end) };
}

export function fromPosition(file: string, p: Position): FilePosition {
  return { file, line: p.line + 1, column: p.character + 1 };
}

export function offsetOf(module: PythonModule, p: FilePosition): number {
  return module.lineStart(p.line) + p.column - 1;
}

export function nodeSpan(module: PythonModule, node: SyntaxNode): { start: FilePosition; end: FilePosition } {
  return { start: module.position(node.startIndex), end: module.position(node.endIndex) };
}

const STATEMENTS = /(_statement|_definition|^block|^module|_clause)$/;

/**
 * The expression a position names: the largest node starting there that is
 * not a statement (a definition is named by its name). The engine reports
 * where a problem starts; this gives it an end.
 */
export function expressionAt(module: PythonModule, at: FilePosition): { start: FilePosition; end: FilePosition } {
  const offset = offsetOf(module, at);
  let node: SyntaxNode | null = module.root.descendantForIndex(offset);
  while (node?.parent && node.parent.startIndex === offset) {
    const parent: SyntaxNode = node.parent;
    if (parent.type === 'function_definition' || parent.type === 'class_definition') {
      const name = field(parent, 'name');
      if (name) return nodeSpan(module, name);
    }
    if (STATEMENTS.test(parent.type)) break;
    node = parent;
  }
  if (!node || node.startIndex !== offset) return { start: at, end: { ...at, column: at.column + 1 } };
  return nodeSpan(module, node);
}

export function contains(start: FilePosition, end: FilePosition, p: FilePosition): boolean {
  const before = (a: FilePosition, b: FilePosition) => a.line < b.line || (a.line === b.line && a.column <= b.column);
  return before(start, p) && before(p, end);
}
