/**
 * Secrets stay out of cassettes: `redact` paths name argument parts whose
 * recorded value is replaced by {"$redacted": true}. A path is
 * `[function.]args[i]` or `[function.]kwargs.name`, followed by any number
 * of `.key` or `[i]` steps into the value: `kwargs.token`,
 * `fetch.args[0].headers.Authorization`.
 */
import { UsageError } from '../errors.ts';
import type { Wire } from '../values/wire.ts';
import type { CassetteCall } from './format.ts';

export const REDACTED: Wire = { $redacted: true };

interface RedactPath {
  fn?: string;
  root: 'args' | 'kwargs';
  steps: (string | number)[];
}

export function parseRedactPath(text: string): RedactPath {
  const m = /^(?:([A-Za-z_]\w*)\.)?(args|kwargs)((?:\[\d+\]|\.[A-Za-z_][\w-]*|\[(?:"[^"]*"|'[^']*')\])*)$/.exec(text.trim());
  if (!m) throw new UsageError(`redact path '${text}' is not understood: use args[0], kwargs.token or fetch.kwargs.headers.Authorization`, 'redact');
  const steps: (string | number)[] = [];
  for (const s of m[3]!.match(/\[\d+\]|\.[A-Za-z_][\w-]*|\[(?:"[^"]*"|'[^']*')\]/g) ?? []) {
    if (s.startsWith('.')) steps.push(s.slice(1));
    else if (/^\[\d+\]$/.test(s)) steps.push(Number(s.slice(1, -1)));
    else steps.push(s.slice(2, -2));
  }
  return { ...(m[1] ? { fn: m[1] } : {}), root: m[2] as 'args' | 'kwargs', steps };
}

function redactIn(value: Wire, steps: (string | number)[]): Wire {
  if (steps.length === 0) return REDACTED;
  const [step, ...rest] = steps;
  if (Array.isArray(value) && typeof step === 'number' && step < value.length) return value.map((v, i) => (i === step ? redactIn(v, rest) : v));
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    const inner = value as { [k: string]: Wire };
    if ('$tuple' in inner && typeof step === 'number') return { $tuple: redactIn(inner.$tuple!, steps) };
    if (typeof step === 'string' && step in inner) return { ...inner, [step]: redactIn(inner[step]!, rest) };
  }
  return value;
}

export function redactCall(call: CassetteCall, paths: RedactPath[]): CassetteCall {
  let out = call;
  for (const p of paths) {
    if (p.fn && p.fn !== call.function) continue;
    if (p.root === 'args') out = { ...out, args: redactIn(out.args, p.steps) };
    else out = { ...out, kwargs: redactIn(out.kwargs, p.steps) };
  }
  return out;
}

export function isRedacted(w: Wire): boolean {
  return typeof w === 'object' && w !== null && !Array.isArray(w) && (w as { $redacted?: unknown }).$redacted === true;
}
