/** Short labels for values in the code: `15.5`, `File(s3://…/a.csv)`, `[1, 4, 9, …] (10 items)`. */
import { ioView } from '../engine/marshal.ts';
import { isTuple, pyRepr } from '../engine/values/python.ts';

const MAX = 40;

function shorten(s: string, max = MAX): string {
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
}

/** `s3://bucket/deep/path/a.csv` → `s3://…/a.csv`: the scheme and the file name say the most. */
export function shortPath(path: string): string {
  if (path.length <= 24) return path;
  const m = /^([a-z][\w+.-]*:\/\/)?(.*)\/([^/]+)$/.exec(path);
  return m ? `${m[1] ?? ''}…/${m[3]}` : shorten(path, 24);
}

function inner(value: unknown, budget: number): string {
  const io = ioView(value);
  if (io?.known) {
    const where = io.fields.path ?? io.fields.uri;
    return `${io.kind}(${typeof where === 'string' ? shortPath(where) : ''})`;
  }
  if (Array.isArray(value)) {
    const [open, close] = isTuple(value) ? ['(', ')'] : ['[', ']'];
    const parts: string[] = [];
    let used = 2;
    for (const item of value) {
      const s = inner(item, budget - used);
      if (used + s.length + 2 > budget && parts.length) {
        parts.push('…');
        break;
      }
      parts.push(s);
      used += s.length + 2;
    }
    return `${open}${parts.join(', ')}${isTuple(value) && value.length === 1 ? ',' : ''}${close}`;
  }
  return shorten(pyRepr(value), Math.max(8, budget));
}

export function valueLabel(value: unknown): string {
  const s = inner(value, MAX);
  return Array.isArray(value) && s.includes('…') ? `${s} (${value.length} items)` : s;
}

export function reprLabel(repr: string): string {
  return shorten(repr);
}
