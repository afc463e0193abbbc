/** A parsed Python source file with line/column arithmetic in one place. */
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { firstSyntaxError, parsePython, type SyntaxNode, type Tree } from './parser.ts';

export interface FilePosition {
  file: string;
  /** 1-based */
  line: number;
  /** 1-based */
  column: number;
}

export class PythonModule {
  private readonly lineStarts: number[];

  private constructor(readonly path: string, readonly text: string, readonly tree: Tree, readonly moduleName: string) {
    this.lineStarts = [0];
    for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 10) this.lineStarts.push(i + 1);
  }

  static async fromText(path: string, text: string, moduleName = basename(path).replace(/\.py$/, '')): Promise<PythonModule> {
    return new PythonModule(path, text, await parsePython(text), moduleName);
  }

  static async fromFile(path: string, moduleName?: string): Promise<PythonModule> {
    return PythonModule.fromText(path, await readFile(path, 'utf8'), moduleName);
  }

  get root(): SyntaxNode {
    return this.tree.rootNode;
  }

  syntaxError(): SyntaxNode | undefined {
    return firstSyntaxError(this.root);
  }

  /** 1-based line and column of a string offset. */
  position(offset: number): FilePosition {
    let lo = 0;
    let hi = this.lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.lineStarts[mid]! <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { file: this.path, line: lo + 1, column: offset - this.lineStarts[lo]! + 1 };
  }

  nodePosition(node: SyntaxNode): FilePosition {
    return this.position(node.startIndex);
  }

  lineStart(line: number): number {
    return this.lineStarts[Math.max(0, Math.min(line - 1, this.lineStarts.length - 1))]!;
  }

  lineText(line: number): string {
    const start = this.lineStart(line);
    const end = line < this.lineStarts.length ? this.lineStarts[line]! - 1 : this.text.length;
    return this.text.slice(start, end);
  }
}
