/**
 * Text that remembers, for every character, where it came from in the user's
 * file. Flyte's source preparation (dedent, strip, decorator dropping, the
 * trailing call) is done on this, so any position Monty reports in the code
 * it was given maps back to the exact file position.
 */
export class TrackedText {
  constructor(readonly text: string, readonly offsets: readonly number[]) {
    if (text.length !== offsets.length) throw new Error('TrackedText: length mismatch');
  }

  static fromFile(fileText: string, start: number, end: number): TrackedText {
    const offsets: number[] = [];
    for (let i = start; i < end; i++) offsets.push(i);
    return new TrackedText(fileText.slice(start, end), offsets);
  }

  /** Characters with no file position (synthesised code) map to `origin`. */
  static synthetic(text: string, origin: number): TrackedText {
    return new TrackedText(text, Array.from({ length: text.length }, () => origin));
  }

  concat(other: TrackedText): TrackedText {
    return new TrackedText(this.text + other.text, [...this.offsets, ...other.offsets]);
  }

  slice(start: number, end = this.text.length): TrackedText {
    return new TrackedText(this.text.slice(start, end), this.offsets.slice(start, end));
  }

  private filter(keep: (i: number) => boolean): TrackedText {
    let text = '';
    const offsets: number[] = [];
    for (let i = 0; i < this.text.length; i++) {
      if (keep(i)) {
        text += this.text[i];
        offsets.push(this.offsets[i]!);
      }
    }
    return new TrackedText(text, offsets);
  }

  /** Start offsets of each line (keepends semantics: a final line without "\n" counts). */
  lineStarts(): number[] {
    const starts = [0];
    for (let i = 0; i < this.text.length; i++) if (this.text[i] === '\n' && i + 1 < this.text.length) starts.push(i + 1);
    return starts;
  }

  /** Python's `textwrap.dedent`. */
  dedent(): TrackedText {
    const drop = new Set<number>();
    const lines = this.lineRanges();
    // whitespace-only lines lose their whitespace
    for (const [s, e] of lines) {
      const body = this.text.slice(s, e);
      if (/^[ \t]+$/.test(body)) for (let i = s; i < e; i++) drop.add(i);
    }
    let margin: string | undefined;
    for (const [s, e] of lines) {
      const body = this.text.slice(s, e);
      const m = /^([ \t]*)[^ \t\n]/.exec(body);
      if (!m) continue;
      const indent = m[1]!;
      if (margin === undefined || margin.startsWith(indent)) margin = indent;
      else if (!indent.startsWith(margin)) {
        let k = 0;
        while (k < margin.length && k < indent.length && margin[k] === indent[k]) k++;
        margin = margin.slice(0, k);
      }
    }
    if (margin) {
      for (const [s, e] of lines) {
        if (this.text.slice(s, e).startsWith(margin)) for (let i = s; i < s + margin.length; i++) drop.add(i);
      }
    }
    return this.filter(i => !drop.has(i));
  }

  /** Python's `str.strip()`. */
  strip(): TrackedText {
    let s = 0;
    let e = this.text.length;
    while (s < e && /\s/.test(this.text[s]!)) s++;
    while (e > s && /\s/.test(this.text[e - 1]!)) e--;
    return this.slice(s, e);
  }

  /** Python's `str.rstrip()`. */
  rstrip(): TrackedText {
    let e = this.text.length;
    while (e > 0 && /\s/.test(this.text[e - 1]!)) e--;
    return this.slice(0, e);
  }

  /** [start, end) of every line's content, without its newline. */
  lineRanges(): [number, number][] {
    const ranges: [number, number][] = [];
    let s = 0;
    for (let i = 0; i <= this.text.length; i++) {
      if (i === this.text.length || this.text[i] === '\n') {
        if (i > s || i < this.text.length) ranges.push([s, i]);
        s = i + 1;
      }
    }
    return ranges;
  }

  /** Replace characters in [start, end) by spaces, keeping every position. */
  blank(start: number, end: number): TrackedText {
    return new TrackedText(this.text.slice(0, start) + ' '.repeat(end - start) + this.text.slice(end), this.offsets);
  }

  indexOfOffset(fileOffset: number): number {
    return this.offsets.indexOf(fileOffset);
  }
}
