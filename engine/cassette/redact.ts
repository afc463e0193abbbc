/**
 * Secrets stay out of cassettes: `redact` paths name parts of a run whose
 * recorded value is replaced by {"$redacted": true}. A path starts at
 *
 *   inputs.NAME            a task input
 *   output                 the task's return value
 *   [function.]args[i]     a positional argument of every call (or of calls to `function`)
 *   [function.]kwargs.NAME a keyword argument
 *   [function.]result      what the call returned
 *
 * and goes on with any number of `.key`, `["key"]` or `[i]` steps into the
 * value: `inputs.token`, `kwargs.token`, `fetch.args[0].headers.Authorization`,
 * `login.result.session`. On replay a redacted argument matches anything; a
 * redacted result (or input) cannot be replayed and has to be given again.
 */
import { UsageError } from '../errors.ts';
import type { Wire } from '../values/wire.ts';
import type { CassetteCall } from './format.ts';

export const REDACTED: Wire = { $redacted: true };

type Root = 'args' | 'kwargs' | 'result' | 'inputs' | 'output';

interface RedactPath {
  fn?: string;
  root: Root;
  steps: (string | number)[];
}

const STEP = /\[\d+\]|\.[A-Za-z_][\w-]*|\[(?:"[^"]*"|'[^']*')\]/g;
const STEPS = `(?:\\[\\d+\\]|\\.[A-Za-z_][\\w-]*|\\[(?:"[^"]*"|'[^']*')\\])`;
const TASK_PATH = new RegExp(`^(inputs|output)(${STEPS}*)$`);
const CALL_PATH = new RegExp(`^(?:([A-Za-z_]\\w*)\\.)?(args|kwargs|result)(${STEPS}*)$`);

function stepsOf(text: string): (string | number)[] {
  const steps: (string | number)[] = [];
  for (const s of text.match(STEP) ?? []) {
    if (s.startsWith('.')) steps.push(s.slice(1));
    else if (/^\[\d+\]$/.test(s)) steps.push(Number(s.slice(1, -1)));
    else steps.push(s.slice(2, -2));
  }
  return steps;
}

export function parseRedactPath(text: string): RedactPath {
  const trimmed = text.trim();
  const task = TASK_PATH.exec(trimmed);
  if (task) {
    const steps = stepsOf(task[2]!);
    if (task[1] === 'inputs' && !steps.length) throw new UsageError(`redact path '${text}' needs the input's name, e.g. inputs.token`, 'redact');
    return { root: task[1] as Root, steps };
  }
  const call = CALL_PATH.exec(trimmed);
  if (!call) throw new UsageError(`redact path '${text}' is not understood: use args[0], kwargs.token, fetch.kwargs.headers.Authorization, login.result, inputs.token or output`, 'redact');
  return { ...(call[1] ? { fn: call[1] } : {}), root: call[2] as Root, steps: stepsOf(call[3]!) };
}

function redactIn(value: Wire, steps: (string | number)[]): Wire {
  if (steps.length === 0) return REDACTED;
  const [step, ...rest] = steps;
  if (Array.isArray(value) && typeof step === 'number' && step < value.length) return value.map((v, i) => (i === step ? redactIn(v, rest) : v));
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    const inner = value as { [k: string]: Wire };
    if ('$tuple' in inner && typeof step === 'number') return { $tuple: redactIn(inner.$tuple!, steps) };
    // A dict with non-string keys is {"$dict": [[key, value], ...]} on the wire.
    if ('$dict' in inner && Array.isArray(inner.$dict)) return { $dict: (inner.$dict as [Wire, Wire][]).map(([k, v]) => (k === step ? [k, redactIn(v, rest)] : [k, v])) };
    if (typeof step === 'string' && step in inner) return { ...inner, [step]: redactIn(inner[step]!, rest) };
  }
  return value;
}

export function redactCall(call: CassetteCall, paths: RedactPath[]): CassetteCall {
  let out = call;
  for (const p of paths) {
    if (p.root === 'inputs' || p.root === 'output' || (p.fn && p.fn !== call.function)) continue;
    if (p.root === 'args') out = { ...out, args: redactIn(out.args, p.steps) };
    else if (p.root === 'kwargs') out = { ...out, kwargs: redactIn(out.kwargs, p.steps) };
    else if ('result' in out && out.result !== undefined) out = { ...out, result: redactIn(out.result, p.steps) };
  }
  return out;
}

/** The task's inputs (a dict on the wire) with the `inputs.` paths redacted. */
export function redactInputs(inputs: Wire, paths: RedactPath[]): Wire {
  let out = inputs;
  for (const p of paths) if (p.root === 'inputs') out = redactIn(out, p.steps);
  return out;
}

/** The task's output with the `output` paths redacted. */
export function redactOutput(output: Wire, paths: RedactPath[]): Wire {
  let out = output;
  for (const p of paths) if (p.root === 'output') out = redactIn(out, p.steps);
  return out;
}

export function isRedacted(w: Wire): boolean {
  return typeof w === 'object' && w !== null && !Array.isArray(w) && (w as { $redacted?: unknown }).$redacted === true;
}

/** Paths (`token`, `[0].key`) of the redacted parts of `w`. */
export function redactedParts(w: Wire | undefined, at = ''): string[] {
  if (w === undefined || w === null || typeof w !== 'object') return [];
  if (isRedacted(w)) return [at || '(the whole value)'];
  if (Array.isArray(w)) return w.flatMap((v, i) => redactedParts(v, `${at}[${i}]`));
  return Object.entries(w as Record<string, Wire>).flatMap(([k, v]) => redactedParts(v, k.startsWith('$') ? at : at ? `${at}.${k}` : k));
}
