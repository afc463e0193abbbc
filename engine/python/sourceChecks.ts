/**
 * Two things about a source file that Python would refuse and our own code
 * must not trip over: bytes that are not UTF-8 (CPython reads a file as
 * UTF-8 unless a PEP 263 `coding:` line says otherwise, and refuses it with a
 * SyntaxError) and nesting so deep that a recursive walk of the syntax tree
 * would exhaust the stack.
 */
import type { SyntaxNode, Tree } from './parser.ts';

export interface EncodingProblem {
  line: number;
  column: number;
  byte: number;
  /** The declared encoding, when a `coding:` line names one we cannot check. */
  declared?: string;
}

const CODING = /^[ \t\f]*#.*?coding[:=][ \t]*([-\w.]+)/;

/** Where `bytes` stop being what CPython would decode them as, or undefined when CPython reads the file. */
export function encodingProblem(bytes: Uint8Array): EncodingProblem | undefined {
  const head = Buffer.from(bytes.subarray(0, 400)).toString('latin1').split('\n').slice(0, 2);
  const declared = head.map(l => CODING.exec(l)?.[1]).find(Boolean)?.toLowerCase().replace(/_/g, '-');
  if (declared && !/^utf-?8(-sig)?$/.test(declared)) {
    // Python's names (latin-1, iso8859_15) and the Encoding Standard's labels (latin1, iso-8859-15) differ in hyphens.
    for (const label of [declared, declared.replace(/-/g, ''), declared.replace(/^iso(\d)/, 'iso-$1')]) {
      try {
        new TextDecoder(label, { fatal: true }).decode(bytes);
        return undefined;
      } catch {
        // not a label TextDecoder knows, or bytes that are not in it
      }
    }
  }
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    return undefined;
  } catch {
    // find the first bad byte
  }
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < bytes.length;) {
    const b = bytes[i]!;
    const need = b < 0x80 ? 0 : b >= 0xc2 && b <= 0xdf ? 1 : b >= 0xe0 && b <= 0xef ? 2 : b >= 0xf0 && b <= 0xf4 ? 3 : -1;
    let ok = need >= 0 && i + need < bytes.length;
    for (let k = 1; ok && k <= need; k++) ok = (bytes[i + k]! & 0xc0) === 0x80;
    if (!ok) return { line, column: i - lineStart + 1, byte: b, ...(declared ? { declared } : {}) };
    if (b === 10) {
      line++;
      lineStart = i + 1;
    }
    i += need + 1;
  }
  return undefined;
}

/** The most deeply nested node of `tree` and its depth, found without recursion. */
export function deepestNode(tree: Tree): { node: SyntaxNode; depth: number } {
  const cursor = tree.walk();
  let depth = 0;
  let best = { node: cursor.currentNode, depth: 0 };
  for (;;) {
    if (cursor.gotoFirstChild()) {
      depth++;
      if (depth > best.depth) best = { node: cursor.currentNode, depth };
      continue;
    }
    while (!cursor.gotoNextSibling()) {
      if (!cursor.gotoParent()) return best;
      depth--;
    }
  }
}
