/** Python string literals decoded to their value, each character tracked to its place in the file. */
import { TrackedText } from './trackedText.ts';
import { namedChildren, type SyntaxNode } from './parser.ts';

const SIMPLE_ESCAPES: Record<string, string> = { '\\': '\\', "'": "'", '"': '"', n: '\n', t: '\t', r: '\r', a: '\x07', b: '\b', f: '\f', v: '\v' };

function decodeOne(node: SyntaxNode): TrackedText | undefined {
  const parts = namedChildren(node);
  const start = parts.find(c => c.type === 'string_start');
  if (!start || parts.some(c => c.type === 'interpolation')) return undefined;
  const prefix = start.text.replace(/['"]+$/, '').toLowerCase();
  if (prefix.includes('f') || prefix.includes('b') || prefix.includes('t')) return undefined;
  const raw = prefix.includes('r');
  let text = '';
  const offsets: number[] = [];
  for (const part of parts) {
    if (part.type !== 'string_content') continue;
    const src = part.text;
    const base = part.startIndex;
    for (let i = 0; i < src.length; i++) {
      const ch = src[i]!;
      if (ch !== '\\' || raw) {
        text += ch;
        offsets.push(base + i);
        continue;
      }
      const next = src[i + 1];
      if (next === undefined) return undefined;
      if (next === '\n') { i++; continue; }
      if (SIMPLE_ESCAPES[next] !== undefined) {
        text += SIMPLE_ESCAPES[next];
        offsets.push(base + i);
        i++;
        continue;
      }
      const hex = next === 'x' ? 2 : next === 'u' ? 4 : next === 'U' ? 8 : 0;
      if (hex) {
        const digits = src.slice(i + 2, i + 2 + hex);
        if (!/^[0-9a-fA-F]+$/.test(digits) || digits.length !== hex) return undefined;
        text += String.fromCodePoint(parseInt(digits, 16));
        offsets.push(base + i);
        i += 1 + hex;
        continue;
      }
      const octal = /^[0-7]{1,3}/.exec(src.slice(i + 1));
      if (octal) {
        text += String.fromCharCode(parseInt(octal[0], 8));
        offsets.push(base + i);
        i += octal[0].length;
        continue;
      }
      if (next === 'N') return undefined;
      text += '\\';
      offsets.push(base + i);
    }
  }
  return new TrackedText(text, offsets);
}

/** The literal's value with positions, or undefined for f-strings, bytes and anything not a literal. */
export function decodeStringLiteral(node: SyntaxNode | null | undefined): TrackedText | undefined {
  if (!node) return undefined;
  if (node.type === 'concatenated_string') {
    let out: TrackedText | undefined = new TrackedText('', []);
    for (const part of namedChildren(node)) {
      const decoded = decodeOne(part);
      out = decoded && out ? out.concat(decoded) : undefined;
    }
    return out;
  }
  if (node.type === 'parenthesized_expression') return decodeStringLiteral(namedChildren(node)[0]);
  return node.type === 'string' ? decodeOne(node) : undefined;
}

export function stringLiteral(node: SyntaxNode | null | undefined): string | undefined {
  return decodeStringLiteral(node)?.text;
}
