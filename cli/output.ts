/**
 * The CLI's output in large pieces of bytes. A line per call written at once
 * would be a system call per call (slower than the call itself), and a long
 * run's `--json` document is hundreds of megabytes, which must never be one
 * string (flattening such a string costs more than writing it): text is
 * copied into buffers as it comes.
 */
const SIZE = 1 << 18;

/** Text in, buffers of up to 256 KiB out to `full`. */
class Bytes {
  private buf = Buffer.allocUnsafe(SIZE);
  private used = 0;

  constructor(private readonly full: (chunk: Buffer) => void) {}

  get empty(): boolean {
    return this.used === 0;
  }

  write(text: string): void {
    // a UTF-16 code unit takes at most 3 bytes in UTF-8
    if (this.used + text.length * 3 > SIZE) {
      this.flush();
      if (text.length * 3 > SIZE) {
        this.full(Buffer.from(text));
        return;
      }
    }
    this.used += this.buf.write(text, this.used);
  }

  flush(): void {
    if (!this.used) return;
    // a fresh buffer each time: the old one is kept (a spool) or written asynchronously
    const full = this.buf.subarray(0, this.used);
    this.buf = Buffer.allocUnsafe(SIZE);
    this.used = 0;
    this.full(full);
  }
}

/**
 * stdout: written when a buffer is full or on the next turn of the event
 * loop, and always before anything goes to stderr, so the two streams keep
 * their order on a terminal.
 */
export class Stdout {
  private readonly bytes: Bytes;
  private scheduled = false;

  constructor(private readonly fd: { write(chunk: Uint8Array): unknown } = process.stdout) {
    this.bytes = new Bytes(chunk => this.fd.write(chunk));
  }

  write(text: string): void {
    this.bytes.write(text);
    if (!this.scheduled && !this.bytes.empty) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
  }

  line(text: string): void {
    this.write(text);
    this.write('\n');
  }

  /** A line written at once, after what is held (for output that mixes with direct writes: the terminal debugger's). */
  lineNow(text: string): void {
    this.flush();
    this.fd.write(Buffer.from(text + '\n'));
  }

  /** Bytes written after the text before them. */
  writeBytes(chunk: Uint8Array): void {
    this.bytes.flush();
    this.fd.write(chunk);
  }

  flush(): void {
    this.scheduled = false;
    this.bytes.flush();
  }

  /** stderr, after what stdout holds. */
  error(text: string): void {
    this.flush();
    process.stderr.write(text);
  }
}

/** Text kept as UTF-8 buffers, to be written later (a few large objects for the garbage collector, not one per piece). */
export class Spool {
  private readonly done: Buffer[] = [];
  private readonly bytes = new Bytes(chunk => this.done.push(chunk));

  write(text: string): void {
    this.bytes.write(text);
  }

  /** Another spool's bytes, after these. */
  append(other: Spool): void {
    this.bytes.flush();
    this.done.push(...other.chunks());
  }

  chunks(): readonly Buffer[] {
    this.bytes.flush();
    return this.done;
  }
}

export const stdout = new Stdout();
