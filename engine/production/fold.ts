/**
 * Which of a run's children were one flyte_map call. The bridge runs a
 * direct call to the end before the next one starts, so direct calls never
 * overlap; a flyte_map's items run concurrently and are never in index order.
 *
 * - Children with a `group` come from a flyte_map over a TaskTemplate
 *   (`"<task.name>_<group_name or 'map'>"`): consecutive children of one
 *   group are one map, split where a child starts after every earlier one
 *   in the window has ended, once the window has run items side by side
 *   (two maps over the same task back to back; a sequential map, with
 *   concurrency 1, stays one).
 * - A flyte_map over a remote handle or plain callable leaves no group: a
 *   run of same-function children whose intervals overlap is such a map. A
 *   sequential one cannot be told from direct calls, and it does not need
 *   to be: items are matched one by one either way.
 */
import type { DumpChild } from './dump.ts';

export type Folded = { kind: 'call'; child: DumpChild } | { kind: 'map'; items: DumpChild[]; grouped: boolean };

const time = (iso: string | null | undefined, fallback: number) => (iso ? Date.parse(iso) : fallback);

interface Window {
  items: DumpChild[];
  key: string;
  grouped: boolean;
  maxEnd: number;
  overlapped: boolean;
}

export function foldMaps(children: DumpChild[], functionOf: (c: DumpChild) => string): Folded[] {
  const out: Folded[] = [];
  let w: Window | undefined;
  const flush = () => {
    if (!w) return;
    if (w.grouped || w.items.length > 1) out.push({ kind: 'map', items: w.items, grouped: w.grouped });
    else out.push({ kind: 'call', child: w.items[0]! });
    w = undefined;
  };
  for (const c of children) {
    const start = time(c.startedAt, Infinity);
    const end = time(c.endedAt, Infinity);
    const grouped = !!c.group;
    const key = grouped ? `group:${c.group}` : `fn:${functionOf(c)}`;
    if (w && w.key === key) {
      const overlaps = start < w.maxEnd;
      const continues = grouped ? overlaps || !w.overlapped : overlaps;
      if (continues) {
        w.items.push(c);
        w.overlapped ||= overlaps;
        w.maxEnd = Math.max(w.maxEnd, end);
        continue;
      }
    }
    flush();
    w = { items: [c], key, grouped, maxEnd: end, overlapped: false };
  }
  flush();
  return out;
}
