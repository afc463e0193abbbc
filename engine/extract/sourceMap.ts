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

  /** `column` counts code points, as Monty does; the file position counts UTF-16 units, as editors do. */
  toFile(line: number, column: number): FilePosition {
    const lineIndex = Math.max(0, Math.min(line - 1, this.starts.length - 1));
    const start = this.starts[lineIndex]!;
    const nextNewline = this.code.text.indexOf('\n', start);
    const end = nextNewline < 0 ? this.code.text.length : nextNewline;
    if (end === start) return this.module.position(this.code.offsets[Math.min(start, this.code.offsets.length - 1)] ?? 0);
    let wanted = start;
    for (let cp = 1; cp < column && wanted < end; cp++) wanted += (this.code.text.codePointAt(wanted) ?? 0) > 0xffff ? 2 : 1;
    if (column - 1 > 0 && wanted >= end) wanted = end + (column - 1 - [...this.code.text.slice(start, end)].length);
    const idx = Math.min(wanted, end - 1);
    const pos = this.module.position(this.code.offsets[idx]!);
    return { ...pos, column: pos.column + (wanted - idx) };
  }

  /** The file offset of the character at `index` in the code Monty runs. */
  fileOffsetAt(index: number): number {
    return this.code.offsets[Math.max(0, Math.min(index, this.code.offsets.length - 1))] ?? 0;
  }

  /** The code position of a file offset, when that character was sent to Monty. */
  toCode(fileOffset: number): CodePosition | undefined {
    const idx = this.code.indexOfOffset(fileOffset);
    if (idx < 0) return undefined;
    let lineIndex = 0;
    while (lineIndex + 1 < this.starts.length && this.starts[lineIndex + 1]! <= idx) lineIndex++;
    return { line: lineIndex + 1, column: idx - this.starts[lineIndex]! + 1 };
  }

  /** The file position of the code character at UTF-16 index `index` (a parsed node's `startIndex`). */
  indexToFile(index: number): FilePosition {
    const i = Math.max(0, Math.min(index, this.code.offsets.length - 1));
    return this.module.position(this.code.offsets[i] ?? 0);
  }

  /** The file range of code characters [start, end): the end is just after the last character's place in the file. */
  rangeToFile(start: number, end: number): { start: FilePosition; end: FilePosition } {
    const from = this.indexToFile(start);
    if (end <= start) return { start: from, end: from };
    const last = this.indexToFile(end - 1);
    return { start: from, end: { ...last, column: last.column + 1 } };
  }

  /** Whether the code character at `index` is the file's own text (not synthesised, decoded from an escape or blanked). */
  isVerbatim(index: number): boolean {
    const offsets = this.code.offsets;
    const off = offsets[index];
    // Synthesised text maps every character to one place: a neighbour with the same offset gives it away.
    return off !== undefined && this.module.text[off] === this.code.text[index] && offsets[index - 1] !== off && offsets[index + 1] !== off;
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
