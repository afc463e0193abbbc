/** Maps a (line, column) in the code Monty runs back to the user's .py file. */
import type { FilePosition, PythonModule } from '../python/module.ts';
import type { TrackedText } from '../python/trackedText.ts';

export interface CodePosition {
  line: number;
  column: number;
}

export class SourceMap {
  private readonly starts: number[];

  constructor(private readonly code: TrackedText, private readonly module: PythonModule) {
    this.starts = code.lineStarts();
  }

  get file(): string {
    return this.module.path;
  }

  toFile(line: number, column: number): FilePosition {
    const lineIndex = Math.max(0, Math.min(line - 1, this.starts.length - 1));
    const start = this.starts[lineIndex]!;
    const nextNewline = this.code.text.indexOf('\n', start);
    const end = nextNewline < 0 ? this.code.text.length : nextNewline;
    if (end === start) return this.module.position(this.code.offsets[Math.min(start, this.code.offsets.length - 1)] ?? 0);
    const wanted = start + Math.max(0, column - 1);
    const idx = Math.min(wanted, end - 1);
    const pos = this.module.position(this.code.offsets[idx]!);
    return { ...pos, column: pos.column + (wanted - idx) };
  }

  /** The code position of a file offset, when that character was sent to Monty. */
  toCode(fileOffset: number): CodePosition | undefined {
    const idx = this.code.indexOfOffset(fileOffset);
    if (idx < 0) return undefined;
    let lineIndex = 0;
    while (lineIndex + 1 < this.starts.length && this.starts[lineIndex + 1]! <= idx) lineIndex++;
    return { line: lineIndex + 1, column: idx - this.starts[lineIndex]! + 1 };
  }

  /** Code lines (1-based) that come from the given file line. */
  codeLinesOf(fileLine: number): number[] {
    const lines: number[] = [];
    this.starts.forEach((start, i) => {
      const off = this.code.offsets[start];
      if (off !== undefined && this.module.position(off).line === fileLine) lines.push(i + 1);
    });
    return lines;
  }
}
