/** How large a value is as JSON, roughly, found without writing it: the walk stops once past the budget. */
import { dictEntries, isDict } from './python.ts';

/** Whether `value` takes more than `budget` bytes as JSON, roughly (each value with the comma or colon after it). */
export function largerThan(value: unknown, budget: number): boolean {
  return jsonBytes(value, budget) > budget;
}

/** About how many bytes `value` takes as JSON (the walk stops once past `budget`). */
export function jsonBytes(value: unknown, budget = Infinity): number {
  const stack: unknown[] = [value];
  let size = 0;
  while (stack.length) {
    const v = stack.pop();
    if (typeof v === 'string') size += v.length + 3;
    else if (v instanceof Uint8Array) size += Math.ceil(v.length / 3) * 4 + 13;
    else if (Array.isArray(v) || v instanceof Set) {
      size += 3;
      for (const x of v) stack.push(x);
    } else if (v !== null && typeof v === 'object' && isDict(v)) {
      size += 3;
      for (const [k, x] of dictEntries(v)) stack.push(k, x);
    } else size += 8;
    if (size > budget) return size;
  }
  return size;
}
