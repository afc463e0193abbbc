/**
 * Resource limits. Flyte applies none to the sandbox (its SandboxedConfig is
 * stored, never passed to Monty), so every limit here is the debugger's own,
 * stricter than production, there so a runaway sandbox can never hang the
 * host: the clock counts the sandbox's own running time (time paused at an
 * external call is taken off by restarting Monty's clock, see `SandboxClock`).
 * Each limit can be switched off (`null`), and `--no-limits` switches them
 * all off: production's behaviour (Monty's own recursion depth of 1000 stays,
 * as it does in production).
 */
import { UsageError } from '../errors.ts';
import { dictEntries, isDict } from '../values/python.ts';

export interface Limits {
  /** Continuous running time of the sandbox between pauses, in seconds; null: none. */
  maxDurationSecs: number | null;
  /** Monty heap, in bytes; null: none. */
  maxMemory: number | null;
  /** null: Monty's own default (1000), as in production. */
  maxRecursionDepth: number | null;
  /** Heap allocations (off unless set). */
  maxAllocations?: number | null;
}

export const DEFAULT_LIMITS: Readonly<Limits> = {
  maxDurationSecs: 60,
  maxMemory: 512 * 1024 * 1024,
  maxRecursionDepth: 1000,
};

/** Production's limits: none. */
export const NO_LIMITS: Readonly<Limits> = {
  maxDurationSecs: null,
  maxMemory: null,
  maxRecursionDepth: null,
};

const KEYS: Record<keyof Limits, { integer: boolean }> = {
  maxDurationSecs: { integer: false },
  maxMemory: { integer: true },
  maxRecursionDepth: { integer: true },
  maxAllocations: { integer: true },
};

/** Validate user-supplied limits (from JSON) and merge them over the defaults (or over `base`); `null` switches one off. */
export function resolveLimits(given: unknown, where = 'limits', base: Readonly<Limits> = DEFAULT_LIMITS): Limits {
  if (given === undefined || given === null) return { ...base };
  if (!isDict(given)) throw new UsageError(`expected an object like {"maxDurationSecs": 10} (null switches a limit off), got ${JSON.stringify(given)}`, where);
  const out: Limits = { ...base };
  for (const [k, v] of dictEntries(given)) {
    const key = String(k) as keyof Limits;
    const spec = KEYS[key];
    if (!spec) throw new UsageError(`unknown limit '${String(k)}' (known: ${Object.keys(KEYS).join(', ')})`, where);
    if (v === null) {
      out[key] = null;
      continue;
    }
    const n = typeof v === 'bigint' ? Number(v) : v;
    if (typeof n !== 'number' || !Number.isFinite(n) || n <= 0 || (spec.integer && !Number.isInteger(n))) {
      throw new UsageError(`'${key}' must be a positive ${spec.integer ? 'integer' : 'number'} or null (no limit, as in production), got ${JSON.stringify(typeof v === 'bigint' ? v.toString() : v)}`, where);
    }
    out[key] = n;
  }
  return out;
}

/** What Monty is given: the limits that are on. */
export function montyLimits(l: Limits): { maxDurationSecs?: number; maxMemory?: number; maxRecursionDepth?: number; maxAllocations?: number } {
  return {
    ...(l.maxDurationSecs != null ? { maxDurationSecs: l.maxDurationSecs } : {}),
    ...(l.maxMemory != null ? { maxMemory: l.maxMemory } : {}),
    ...(l.maxRecursionDepth != null ? { maxRecursionDepth: l.maxRecursionDepth } : {}),
    ...(l.maxAllocations ? { maxAllocations: l.maxAllocations } : {}),
  };
}

/** How long a watchdog tolerates a silent sandbox process: the duration limit plus `graceMs`, or forever without one. */
export function watchdogMs(l: Limits, graceMs: number): number {
  return l.maxDurationSecs == null ? Infinity : l.maxDurationSecs * 1000 + graceMs;
}

export function limitsOff(l: Limits): string[] {
  return (Object.keys(KEYS) as (keyof Limits)[]).filter(k => k !== 'maxAllocations' && l[k] === null);
}

/** Explain a limit error Monty raised, naming the limit and how to change it. */
export function limitHint(type: string, message: string, limits: Limits): string | undefined {
  if (type === 'TimeoutError' && message.startsWith('time limit exceeded')) return `the sandbox ran for more than ${limits.maxDurationSecs} s without pausing at an external call (the debugger's limits.maxDurationSecs; Flyte itself sets no limit: set it to null or pass --no-limits to run as production does)`;
  if (type === 'MemoryError' && message.startsWith('memory limit exceeded')) return `the sandbox heap went over ${limits.maxMemory} bytes (the debugger's limits.maxMemory; Flyte itself sets no limit: set it to null or pass --no-limits to run as production does)`;
  if (type === 'RecursionError' && message.startsWith('maximum recursion depth')) return `the call stack went deeper than ${limits.maxRecursionDepth ?? 1000} frames (${limits.maxRecursionDepth == null ? "Monty's own default, which production has too" : "limits.maxRecursionDepth; Monty's own default is 1000"})`;
  return undefined;
}
