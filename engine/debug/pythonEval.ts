/**
 * Python expressions the user types (breakpoint conditions, logpoints, the
 * debug console, `!return <expr>`), evaluated in a separate Monty with the
 * pending call's `args`/`kwargs` and the run's `inputs`/`history` bound.
 * Never in the sandbox itself: evaluating cannot change the run.
 */
import { Monty, MontyRuntimeError, MontySyntaxError } from '@pydantic/monty';
import { tuple } from '../values/python.ts';

const EVAL_LIMITS = { maxDurationSecs: 2, maxMemory: 64 * 1024 * 1024, maxRecursionDepth: 200 };
export const EVAL_NAMES = ['args', 'kwargs', 'inputs', 'history'] as const;

export interface EvalScope {
  args: unknown[];
  kwargs: Record<string, unknown>;
  inputs: Record<string, unknown>;
  /** Built only for an expression that names `history` (it grows with every call). */
  history: () => unknown[];
}

export class EvalError extends Error {
  constructor(readonly type: string, message: string) {
    super(`${type}: ${message}`);
  }
}

const compiled = new Map<string, Monty>();

/** Compile once (errors as EvalError); the same expression text reuses its Monty. */
export function compileExpression(expression: string): Monty {
  let m = compiled.get(expression);
  if (!m) {
    try {
      m = new Monty(expression, { inputs: [...EVAL_NAMES], scriptName: '<expression>' });
    } catch (e) {
      if (e instanceof MontySyntaxError || e instanceof MontyRuntimeError) throw new EvalError(e.exception.typeName, e.exception.message);
      throw e;
    }
    if (compiled.size > 500) compiled.clear();
    compiled.set(expression, m);
  }
  return m;
}

export function evaluate(expression: string, scope: EvalScope): unknown {
  const m = compileExpression(expression);
  try {
    const history = /\bhistory\b/.test(expression) ? scope.history() : [];
    return m.run({ inputs: { args: tuple([...scope.args]), kwargs: scope.kwargs, inputs: scope.inputs, history }, limits: EVAL_LIMITS, printCallback: () => undefined });
  } catch (e) {
    if (e instanceof MontyRuntimeError) throw new EvalError(e.exception.typeName, e.exception.message);
    throw e;
  }
}

/** Python truthiness of a Monty value. */
export function truthy(v: unknown): boolean {
  if (v === null || v === undefined || v === false || v === 0 || v === 0n || v === '') return false;
  if (Array.isArray(v) || typeof v === 'string') return v.length > 0;
  if (v instanceof Map || v instanceof Set) return v.size > 0;
  if (Buffer.isBuffer(v)) return v.length > 0;
  return true;
}
