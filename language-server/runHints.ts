/**
 * "Last run, in the code": each external call site with what it returned
 * the last time (an inlay hint after the call), and the recorded calls of a
 * line (for hover). A run recorded from other code (its code hash differs)
 * is shown as stale.
 */
import { basename } from 'node:path';
import { codeHash } from '../engine/cassette/format.ts';
import { locateCalls, type RecordedCall } from '../engine/check/locate.ts';
import type { CallSite } from '../engine/extract/tasks.ts';
import type { FilePosition } from '../engine/python/module.ts';
import { fromWire } from '../engine/values/wire.ts';
import type { KnownRun } from './lastRun.ts';
import type { RunCall } from './protocol.ts';
import type { TaskContext } from './taskContext.ts';
import { reprLabel, valueLabel } from './valueLabel.ts';

export interface SiteRun {
  site: CallSite;
  /** Where the hint goes: just after the call's closing parenthesis. */
  end: FilePosition;
  start: FilePosition;
  calls: RunCall[];
  /** Map items made by this call (for a flyte_map site). */
  items: RunCall[];
}

export interface TaskRun {
  run: KnownRun;
  stale: boolean;
  sites: SiteRun[];
}

function codeIndex(code: string, line: number, column: number): number {
  let i = 0;
  for (let l = 1; l < line; l++) {
    const nl = code.indexOf('\n', i);
    if (nl < 0) return code.length;
    i = nl + 1;
  }
  return i + column - 1;
}

const cache = new WeakMap<KnownRun, Map<string, TaskRun>>();

/** Where the run's calls were made in the task's current code. */
export function taskRun(ctx: TaskContext, run: KnownRun): TaskRun {
  const { task } = ctx;
  const hash = codeHash(task.code);
  let perRun = cache.get(run);
  if (!perRun) cache.set(run, (perRun = new Map()));
  const hit = perRun.get(`${hash}\0${task.name}`);
  if (hit) return hit;
  const stale = run.codeHash !== hash;
  const recorded: RecordedCall[] = run.calls.map(c => ({
    seq: c.seq,
    function: c.function,
    ...(c.mapParent !== undefined ? { mapParent: c.mapParent } : {}),
    ...(c.status === 'returned' && c.value !== undefined ? { result: { value: fromWire(c.value) } } : c.status === 'raised' && c.error ? { result: { error: c.error } } : {}),
  }));
  const inputs = run.inputs && typeof run.inputs === 'object' && !Array.isArray(run.inputs) ? (fromWire(run.inputs) as Map<string, unknown>) : undefined;
  const where = locateCalls(task, recorded, { replay: !stale, ...(inputs instanceof Map ? { inputs: Object.fromEntries(inputs) } : {}) });
  const bySite = new Map<CallSite, SiteRun>();
  for (const c of [...run.calls].sort((a, b) => a.seq - b.seq)) {
    const site = where.get(c.seq);
    if (!site) continue;
    let s = bySite.get(site);
    if (!s) {
      const start = codeIndex(task.code, site.line, site.column);
      const end = codeIndex(task.code, site.endLine, site.endColumn);
      const range = task.sourceMap.rangeToFile(start, end);
      s = { site, start: range.start, end: range.end, calls: [], items: [] };
      bySite.set(site, s);
    }
    (c.mapParent === undefined ? s.calls : s.items).push(c);
  }
  const result: TaskRun = { run, stale, sites: [...bySite.values()].filter(s => s.calls.length) };
  perRun.set(`${hash}\0${task.name}`, result);
  return result;
}

export function outcomeLabel(c: RunCall): string {
  if (c.status === 'raised') return `raised ${c.error?.type ?? 'an exception'}`;
  if (c.status === 'returned') return `→ ${c.value !== undefined ? valueLabel(fromWire(c.value)) : reprLabel(c.result ?? '?')}`;
  return c.status === 'pending' ? '… no result yet' : 'cancelled';
}

/** The hint after a call site: its last call's outcome, how many calls there were, and staleness. */
export function hintLabel(s: SiteRun, stale: boolean): string {
  const last = s.calls.at(-1)!;
  const count = s.calls.length > 1 ? ` (last of ${s.calls.length})` : '';
  const failedItems = s.items.filter(i => i.status === 'raised').length;
  const items = s.items.length ? ` · ${s.items.length} item${s.items.length > 1 ? 's' : ''}${failedItems ? `, ${failedItems} raised` : ''}` : '';
  return `${outcomeLabel(last)}${count}${items}${stale ? ' · stale' : ''}`;
}

export function runOrigin(run: KnownRun, stale: boolean, currentHash: string): string {
  const from = run.origin === 'the debug session' ? 'the last debug session' : `the cassette ${basename(run.origin)}`;
  const when = Number.isNaN(Date.parse(run.at)) ? '' : ` (${run.at})`;
  const omitted = run.omitted ? ` Only its first ${run.calls.length} calls are shown (${run.omitted} more were not sent).` : '';
  return `Last run: ${from}${when}, ${run.status}.${omitted}${stale ? ` Stale: the task's code changed since it was recorded (code hash ${run.codeHash}, now ${currentHash}); calls are placed by function name where the task calls it from one place only.` : ''}`;
}

/** One line per recorded call, for hover. */
export function callLine(c: RunCall): string {
  const args = c.args ? `(${c.args.join(', ')})` : '(…)';
  const outcome = c.status === 'raised' ? `raised ${c.error?.type}: ${c.error?.message ?? ''}` : outcomeLabel(c);
  return `#${c.seq} ${c.function}${args} ${outcome}`;
}
