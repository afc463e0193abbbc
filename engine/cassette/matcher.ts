/**
 * Does a live call match a recorded one? Function, then each argument and
 * keyword argument, compared in the wire encoding (so tuples, bytes and big
 * ints compare exactly); a redacted recorded value matches anything. A
 * mismatch is described part by part, against the closest recorded call.
 */
import { fromWire, type Wire } from '../values/wire.ts';
import { pyRepr } from '../values/python.ts';
import type { CassetteCall } from './format.ts';
import { isRedacted } from './redact.ts';

export interface LiveCall {
  function: string;
  args: Wire;
  kwargs: Wire;
}

/** Equal in the wire encoding, a redacted recorded part matching anything. */
export function same(recorded: Wire, live: Wire): boolean {
  if (isRedacted(recorded)) return true;
  if (recorded === null || live === null || typeof recorded !== 'object' || typeof live !== 'object') return recorded === live;
  if (Array.isArray(recorded) || Array.isArray(live)) {
    return Array.isArray(recorded) && Array.isArray(live) && recorded.length === live.length && recorded.every((r, i) => same(r, live[i]!));
  }
  const rk = Object.keys(recorded);
  const lk = Object.keys(live);
  return rk.length === lk.length && rk.every(k => k in live && same(recorded[k]!, live[k]!));
}

const show = (w: Wire | undefined) => (w === undefined ? '(missing)' : isRedacted(w) ? '<redacted>' : pyRepr(fromWire(w)));

/** Positional arguments: a list, or a tuple (flyte_map items) in the wire encoding. */
function list(w: Wire): Wire[] {
  if (Array.isArray(w)) return w;
  const tupled = w && typeof w === 'object' ? (w as { $tuple?: Wire }).$tuple : undefined;
  return Array.isArray(tupled) ? tupled : [];
}

function entries(w: Wire): Record<string, Wire> {
  return w && typeof w === 'object' && !Array.isArray(w) ? (w as Record<string, Wire>) : {};
}

/** The parts that differ, in words ("argument 0: recorded 3, now 4"); empty when the call matches. */
export function differences(live: LiveCall, recorded: CassetteCall): string[] {
  if (live.function !== recorded.function) return [`function: recorded ${recorded.function}(), now ${live.function}()`];
  const out: string[] = [];
  const ra = list(recorded.args);
  const la = list(live.args);
  if (ra.length !== la.length) out.push(`number of arguments: recorded ${ra.length}, now ${la.length}`);
  for (let i = 0; i < Math.min(ra.length, la.length); i++) if (!same(ra[i]!, la[i]!)) out.push(`argument ${i}: recorded ${show(ra[i])}, now ${show(la[i])}`);
  const rk = entries(recorded.kwargs);
  const lk = entries(live.kwargs);
  for (const k of new Set([...Object.keys(rk), ...Object.keys(lk)])) {
    if (!(k in rk) || !(k in lk) || !same(rk[k]!, lk[k]!)) out.push(`keyword argument ${k}: recorded ${show(rk[k])}, now ${show(lk[k])}`);
  }
  return out;
}

export function signatureOf(c: LiveCall | CassetteCall): string {
  const args = list(c.args).map(show);
  const kwargs = Object.entries(entries(c.kwargs)).map(([k, v]) => `${k}=${show(v)}`);
  const text = [...args, ...kwargs].join(', ');
  return `${c.function}(${text.length > 120 ? text.slice(0, 119) + '…' : text})`;
}

/** Among `candidates`, the recorded call nearest to `live`: same function first, then fewest differences. */
export function closest(live: LiveCall, candidates: CassetteCall[]): CassetteCall | undefined {
  let best: CassetteCall | undefined;
  let bestScore = Infinity;
  for (const c of candidates) {
    const score = (c.function === live.function ? 0 : 1000) + differences(live, c).length;
    if (score < bestScore) {
      best = c;
      bestScore = score;
    }
  }
  return best;
}
