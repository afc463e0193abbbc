/**
 * Reading DAP frames (`Content-Length: N\r\n\r\n<N bytes of JSON>`) from a
 * client that may get them wrong. The library's reader goes deaf for good
 * on a bad length and drops unparsable bodies silently; this one says what
 * was wrong and resynchronises on the next header:
 *
 * - a header without a usable Content-Length (missing, negative, `abc`, over
 *   the limit) is skipped;
 * - a body that is not UTF-8, not JSON, or not a protocol message object is
 *   reported; when its `seq` and `command` can still be read, the request is
 *   answered with an error, so the client is not left waiting;
 * - a length that is too small shows as a body that does not parse; one that
 *   is too large shows as the next frame's header inside the body (raw line
 *   breaks cannot occur inside JSON strings, so a header there means the
 *   length was wrong) and the frame is cut there;
 * - header lines ending in LF alone are accepted.
 */
import type { DebugProtocol } from '@vscode/debugprotocol';

/** Larger frames are refused (launch arguments are the largest legitimate ones). */
export const MAX_FRAME_BYTES = 256 * 1024 * 1024;

export interface FrameProblem {
  /** What was wrong, for a person. */
  message: string;
  /** A request that can still be answered with an error. */
  request?: { seq: number; command: string };
}

const HEADER_END = /\r?\n\r?\n/;
/** A header starting somewhere in the buffer (at a line start, or right after the previous body). */
const HEADER_START = /Content-Length[ \t]*:[ \t]*[^\r\n]*\r?\n/i;

export class FrameReader {
  /** Bytes not yet consumed (a header, or the start of a body). */
  private buffer: Buffer = Buffer.alloc(0);
  /** Declared length of the body being read, or -1 while reading a header. */
  private length = -1;
  /** Bytes of the current body already searched for a stray header. */
  private scanned = 0;
  /** Chunks of a large body, joined once it is complete (joining on every chunk would be quadratic). */
  private parts: Buffer[] = [];
  private partsSize = 0;
  /** The last body that could not be read, in case the bytes skipped after it complete the request. */
  private lastBad: Buffer | undefined;
  private warnedLf = false;
  private readonly decoder = new TextDecoder('utf-8', { fatal: true });

  constructor(private readonly onMessage: (m: DebugProtocol.ProtocolMessage) => void, private readonly onProblem: (p: FrameProblem) => void) {}

  push(chunk: Buffer): void {
    if (this.length >= 0) {
      this.parts.push(chunk);
      this.partsSize += chunk.length;
    } else {
      this.buffer = this.buffer.length ? Buffer.concat([this.buffer, chunk]) : chunk;
    }
    for (;;) {
      if (this.length < 0) {
        if (!this.readHeader()) return;
      } else if (!this.readBody()) return;
    }
  }

  /** The input ended: anything left is an incomplete frame. */
  end(): void {
    const rest = this.pending();
    if (this.length >= 0) this.onProblem({ message: `the input ended inside a frame: Content-Length ${this.length} announced, ${rest.length} bytes received`, ...salvage(rest) });
    else if (rest.toString('latin1').trim()) this.onProblem({ message: `the input ended with ${rest.length} bytes that are not a complete frame: ${describeBytes(rest)}`, ...salvage(rest) });
    this.buffer = Buffer.alloc(0);
    this.parts = [];
    this.partsSize = 0;
    this.length = -1;
  }

  private pending(): Buffer {
    if (this.parts.length) {
      this.buffer = Buffer.concat(this.parts, this.partsSize);
      this.parts = [];
      this.partsSize = 0;
    }
    return this.buffer;
  }

  private readHeader(): boolean {
    const text = this.buffer.toString('latin1', 0, Math.min(this.buffer.length, 64 * 1024));
    const end = HEADER_END.exec(text);
    if (!end) {
      if (this.buffer.length > 64 * 1024) this.skip(this.buffer.length, 'no frame header in 64 KB');
      return false;
    }
    const headerText = text.slice(0, end.index);
    const start = headerText.search(/Content-Length/i);
    if (start !== 0) {
      // Bytes before the header: often the rest of a frame whose Content-Length was too small.
      const cut = start > 0 ? start : end.index + end[0].length;
      this.skip(cut, start > 0 ? 'they come before a frame header' : 'a header without Content-Length');
      return true;
    }
    if (!this.warnedLf && !end[0].startsWith('\r\n')) {
      this.warnedLf = true;
      this.onProblem({ message: 'frame headers end their lines with LF only; DAP expects CRLF (accepted)' });
    }
    this.buffer = this.buffer.subarray(end.index + end[0].length);
    const lengthLine = headerText.split(/\r?\n/)[0]!;
    const value = lengthLine.slice(lengthLine.indexOf(':') + 1).trim();
    if (!/^\d+$/.test(value)) {
      this.onProblem({ message: `Content-Length ${JSON.stringify(value.slice(0, 40))} is not a byte count; the frame was skipped` });
      return true;
    }
    const n = Number(value);
    if (n > MAX_FRAME_BYTES) {
      this.onProblem({ message: `Content-Length ${value} is over the limit of ${MAX_FRAME_BYTES} bytes; the frame was skipped` });
      return true;
    }
    this.length = n;
    this.scanned = 0;
    if (this.buffer.length) {
      this.parts = [this.buffer];
      this.partsSize = this.buffer.length;
      this.buffer = Buffer.alloc(0);
    }
    return true;
  }

  private readBody(): boolean {
    // A header inside the body: the declared length ran past the end of this message.
    const limit = Math.min(this.partsSize, this.length + 64);
    if (limit > this.scanned) {
      const from = Math.max(0, this.scanned - 64);
      const window = this.window(from, limit);
      const next = HEADER_START.exec(window);
      this.scanned = limit;
      if (next && from + next.index < this.length) {
        const all = this.pending();
        const cut = from + next.index;
        const body = all.subarray(0, cut);
        this.buffer = all.subarray(cut);
        const announced = this.length;
        this.length = -1;
        this.onProblem({ message: `Content-Length ${announced} is larger than the message (the next frame header starts after ${body.length} bytes); the frame was cut there and not handled`, ...salvage(body) });
        return true;
      }
    }
    if (this.partsSize < this.length) return false;
    const all = this.pending();
    const body = all.subarray(0, this.length);
    this.buffer = all.subarray(this.length);
    this.length = -1;
    this.handleBody(body);
    return true;
  }

  /** Bytes [from, to) of the body read so far, as latin1 text; walked from the end, where new bytes are. */
  private window(from: number, to: number): string {
    let text = '';
    let end = this.partsSize;
    for (let i = this.parts.length - 1; i >= 0 && end > from; i--) {
      const p = this.parts[i]!;
      const start = end - p.length;
      const a = Math.max(from, start);
      const b = Math.min(to, end);
      if (a < b) text = p.toString('latin1', a - start, b - start) + text;
      end = start;
    }
    return text;
  }

  private handleBody(body: Buffer): void {
    const bad = (message: string, withRequest = true) => {
      const s = withRequest ? salvage(body) : {};
      this.lastBad = s.request ? undefined : body;
      this.onProblem({ message, ...s });
    };
    let text: string;
    try {
      text = this.decoder.decode(body);
    } catch {
      bad(`a frame's body is not valid UTF-8 (${body.length} bytes); it was skipped`);
      return;
    }
    let m: unknown;
    try {
      m = JSON.parse(text);
    } catch (e) {
      bad(`a frame's body of ${body.length} bytes is not JSON (${(e as Error).message.replace(/,? ".*$/s, '').replace(/ in JSON at position \d+.*$/s, '')}); it was skipped (is the Content-Length right?)`);
      return;
    }
    if (m === null || typeof m !== 'object' || Array.isArray(m)) {
      bad(`a frame's body is ${m === null ? 'null' : Array.isArray(m) ? 'a list' : `a ${typeof m}`}, not a protocol message object; it was skipped`, false);
      return;
    }
    const msg = m as Partial<DebugProtocol.Request>;
    if (msg.type === 'request' && (typeof msg.command !== 'string' || typeof msg.seq !== 'number')) {
      bad(`a request without ${typeof msg.command !== 'string' ? 'a "command" string' : 'a numeric "seq"'} was skipped`);
      return;
    }
    if (msg.type !== 'request' && msg.type !== 'response') {
      bad(`a message of type ${JSON.stringify(msg.type)} was skipped (a client sends requests and responses)`);
      return;
    }
    this.lastBad = undefined;
    this.onMessage(msg as DebugProtocol.ProtocolMessage);
  }

  private skip(cut: number, why: string): void {
    const skipped = this.buffer.subarray(0, cut);
    this.buffer = this.buffer.subarray(cut);
    const before = this.lastBad;
    this.lastBad = undefined;
    this.onProblem({ message: `skipped ${cut} bytes that are not a frame (${why}): ${describeBytes(skipped)}`, ...salvage(before ? Buffer.concat([before, skipped]) : skipped) });
  }
}

/** The seq and command of a request whose frame was bad, when they can still be read from its bytes. */
function salvage(body: Buffer): Pick<FrameProblem, 'request'> {
  const text = body.toString('latin1');
  if (!/"type"\s*:\s*"request"/.test(text)) return {};
  const seq = /"seq"\s*:\s*(\d+)/.exec(text);
  const command = /"command"\s*:\s*"([A-Za-z0-9_/.-]{1,100})"/.exec(text);
  return seq && command ? { request: { seq: Number(seq[1]), command: command[1]! } } : {};
}

/** A short description of bytes that are not a frame, without echoing much of them. */
function describeBytes(b: Buffer): string {
  const printable = b.toString('latin1').replace(/[^\x20-\x7e]/g, '.');
  return JSON.stringify(printable.length > 40 ? `${printable.slice(0, 40)}…` : printable);
}
