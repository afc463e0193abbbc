/**
 * Resource limits. Flyte applies none to the sandbox (its SandboxedConfig is
 * stored, never passed to Monty), so every limit here is the debugger's own,
 * stricter than production, there so a runaway sandbox can never hang the
 * host: the clock counts the sandbox's own running time (time paused at an
 * external call is taken off by restarting Monty's clock, see `SandboxClock`).
 */
import { UsageError } from '../errors.ts';
import { dictEntries, isDict } from '../values/python.ts';

export interface Limits {
  /** Continuous running time of the sandbox between pauses, in seconds. */
  maxDurationSecs: number;
  /** Monty heap, in bytes. */
  maxMemory: number;
  maxRecursionDepth: number;
  /** Heap allocations (off unless set). */
  maxAllocations?: number;
}

export const DEFAULT_LIMITS: Readonly<Limits> = {
  maxDurationSecs: 60,
  maxMemory: 512 * 1024 * 1024,
  maxRecursionDepth: 1000,
};

/** `max`: the largest value Monty (and the host's timers) can represent. */
const KEYS: Record<keyof Limits, { integer: boolean; max: number; maxText: string }> = {
  maxDurationSecs: { integer: false, max: 1e9, maxText: '1000000000 (about 31 years)' },
  maxMemory: { integer: true, max: Number.MAX_SAFE_INTEGER, maxText: String(Number.MAX_SAFE_INTEGER) },
  maxRecursionDepth: { integer: true, max: 2 ** 31 - 1, maxText: String(2 ** 31 - 1) },
  maxAllocations: { integer: true, max: Number.MAX_SAFE_INTEGER, maxText: String(Number.MAX_SAFE_INTEGER) },
};

/** Validate user-supplied limits (from JSON) and merge them over the defaults. */
export function resolveLimits(given: unknown, where = 'limits'): Limits {
  if (given === undefined || given === null) return { ...DEFAULT_LIMITS };
  if (!isDict(given)) throw new UsageError(`expected an object like {"maxDurationSecs": 10}, got ${JSON.stringify(given)}`, where);
  const out: Limits = { ...DEFAULT_LIMITS };
  for (const [k, v] of dictEntries(given)) {
    const key = String(k) as keyof Limits;
    const spec = KEYS[key];
    if (!spec) throw new UsageError(`unknown limit '${String(k)}' (known: ${Object.keys(KEYS).join(', ')})`, where);
    const n = typeof v === 'bigint' ? Number(v) : v;
    if (typeof n !== 'number' || !Number.isFinite(n) || n <= 0 || (spec.integer && !Number.isInteger(n))) {
      throw new UsageError(`'${key}' must be a positive ${spec.integer ? 'integer' : 'number'}, got ${typeof v === 'number' ? String(v) : JSON.stringify(typeof v === 'bigint' ? v.toString() : v)}`, where);
    }
    if (n > spec.max) throw new UsageError(`'${key}' must be at most ${spec.maxText}, got ${typeof v === 'bigint' ? v.toString() : String(v)}`, where);
    out[key] = n;
  }
  return out;
}

export function montyLimits(l: Limits): { maxDurationSecs: number; maxMemory: number; maxRecursionDepth: number; maxAllocations?: number } {
  return {
    maxDurationSecs: l.maxDurationSecs,
    maxMemory: l.maxMemory,
    maxRecursionDepth: l.maxRecursionDepth,
    ...(l.maxAllocations ? { maxAllocations: l.maxAllocations } : {}),
  };
}

/** Explain a limit error Monty raised, naming the limit and how to change it. */
export function limitHint(type: string, message: string, limits: Limits): string | undefined {
  if (type === 'TimeoutError' && message.startsWith('time limit exceeded')) return `the sandbox ran for more than ${limits.maxDurationSecs} s without pausing at an external call (the debugger's limits.maxDurationSecs; Flyte itself sets no limit)`;
  if (type === 'MemoryError' && message.startsWith('memory limit exceeded')) return `the sandbox heap went over ${limits.maxMemory} bytes (the debugger's limits.maxMemory; Flyte itself sets no limit)`;
  if (type === 'RecursionError' && message.startsWith('maximum recursion depth')) return `the call stack went deeper than ${limits.maxRecursionDepth} frames (limits.maxRecursionDepth; Monty's own default is 1000)`;
  return undefined;
}
