/**
 * Does a live call match a recorded one? Function, then each argument and
 * keyword argument, compared in the wire encoding (so tuples, bytes and big
 * ints compare exactly); a redacted recorded value matches anything. A
 * mismatch is described part by part, against the closest recorded call.
 *
 * A `bound` recorded call (imported from production, which keeps inputs by
 * name with defaults filled in) is compared input by input, after binding
 * the live call to the function's signature (`signatures.ts`).
 */
import { fromWire, type Wire } from '../values/wire.ts';
import { pyRepr } from '../values/python.ts';
import type { CassetteCall } from './format.ts';
import { isRedacted } from './redact.ts';
import { bindCall, type Signature } from './signatures.ts';

/** The signature a function's calls bind to (undefined: none known, e.g. a remote task handle). */
export type SignatureLookup = (fn: string) => Signature | undefined;

export interface LiveCall {
  function: string;
  args: Wire;
  kwargs: Wire;
}

function same(recorded: Wire, live: Wire): boolean {
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
export function differences(live: LiveCall, recorded: CassetteCall, signatures?: SignatureLookup): string[] {
  if (live.function !== recorded.function) return [`function: recorded ${recorded.function}(), now ${live.function}()`];
  if (recorded.bound) return boundDifferences(live, recorded, signatures?.(live.function));
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

/** Production's inputs by name against the live call bound to the signature. */
function boundDifferences(live: LiveCall, recorded: CassetteCall, sig: Signature | undefined): string[] {
  const rk = entries(recorded.kwargs);
  const args = list(live.args);
  const kwargs = entries(live.kwargs);
  const out: string[] = [];
  if (!sig) {
    // A remote task handle (or anything without a def here): the names given are compared; recorded
    // inputs the call leaves out are the deployed task's defaults, which the debugger does not know.
    if (args.length) out.push(`${live.function}() takes keyword arguments only here (production records inputs by name, and Flyte raises RemoteTaskUsageError for positional arguments to a remote task); now ${args.length} positional`);
    for (const [k, v] of Object.entries(kwargs)) if (!(k in rk) || !same(rk[k]!, v)) out.push(`input ${k}: recorded ${show(rk[k])}, now ${show(v)}`);
    return out;
  }
  const b = bindCall(live.function, sig, args, kwargs);
  if ('problem' in b) return [`the call does not bind to ${live.function}${sig.text}: ${b.problem}`];
  for (const k of new Set([...Object.keys(rk), ...b.inputs.keys()])) {
    const now = b.inputs.get(k);
    if (!(k in rk)) out.push(`input ${k}: not recorded, now ${show(now)}`);
    else if (now === undefined) {
      if (!b.unknownDefaults.includes(k)) out.push(`input ${k}: recorded ${show(rk[k])}, now not passed (and it has no default)`);
    } else if (!same(rk[k]!, now)) out.push(`input ${k}: recorded ${show(rk[k])}, now ${show(now)}`);
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
export function closest(live: LiveCall, candidates: CassetteCall[], signatures?: SignatureLookup): CassetteCall | undefined {
  let best: CassetteCall | undefined;
  let bestScore = Infinity;
  for (const c of candidates) {
    const score = (c.function === live.function ? 0 : 1000) + differences(live, c, signatures).length;
    if (score < bestScore) {
      best = c;
      bestScore = score;
    }
  }
  return best;
}
