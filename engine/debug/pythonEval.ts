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
  /** A frame's locals (and, for a code-string task, its globals): they shadow the names above. */
  locals?: ReadonlyMap<string, unknown>;
  /** Their Python type names: a float holding a whole number is made a float again. */
  localTypes?: ReadonlyMap<string, string>;
}

export class EvalError extends Error {
  constructor(readonly type: string, message: string) {
    super(`${type}: ${message}`);
  }
}

const compiled = new Map<string, Monty>();

/** Compile once (errors as EvalError); the same expression text and names reuse their Monty. */
export function compileExpression(expression: string, localNames: readonly string[] = []): Monty {
  const names = localNames.length ? [...new Set([...EVAL_NAMES, ...localNames])] : EVAL_NAMES;
  const key = localNames.length ? `${names.join(',')}\n${expression}` : expression;
  let m = compiled.get(key);
  if (!m) {
    try {
      m = new Monty(expression, { inputs: [...names], scriptName: '<expression>' });
    } catch (e) {
      if (e instanceof MontySyntaxError || e instanceof MontyRuntimeError) throw new EvalError(e.exception.typeName, e.exception.message);
      throw e;
    }
    if (compiled.size > 500) compiled.clear();
    compiled.set(key, m);
  }
  return m;
}

/** `x = float(x)` for the locals that are floats, so `x * 2` computes as the sandbox would. */
function floatPrelude(scope: EvalScope): string {
  if (!scope.locals || !scope.localTypes) return '';
  let out = '';
  for (const [name, type] of scope.localTypes) if (type === 'float' && typeof scope.locals.get(name) === 'number' && /^[A-Za-z_]\w*$/.test(name)) out += `${name} = float(${name})\n`;
  return out;
}

export function evaluate(expression: string, scope: EvalScope): unknown {
  const localNames = scope.locals ? [...scope.locals.keys()] : [];
  const m = compileExpression(floatPrelude(scope) + expression, localNames);
  try {
    const history = /\bhistory\b/.test(expression) && !scope.locals?.has('history') ? scope.history() : [];
    const inputs: Record<string, unknown> = { args: tuple([...scope.args]), kwargs: scope.kwargs, inputs: scope.inputs, history };
    if (scope.locals) for (const [k, v] of scope.locals) inputs[k] = v;
    return m.run({ inputs, limits: EVAL_LIMITS, printCallback: () => undefined });
  } catch (e) {
    if (e instanceof MontyRuntimeError) throw new EvalError(e.exception.typeName, e.exception.message);
    throw e;
  }
}

/**
 * Evaluate and also get the value's Python type name (JS cannot tell 3.0
 * from 3, nor a function from its repr text): what the debugger shows.
 */
export function evaluateTyped(expression: string, scope: EvalScope): { value: unknown; type: string } {
  const wrapped = `(lambda __flyte_dbg_x: (__flyte_dbg_x, type(__flyte_dbg_x).__name__))((${expression}\n))`;
  try {
    compileExpression(floatPrelude(scope) + wrapped, scope.locals ? [...scope.locals.keys()] : []);
  } catch {
    return { value: evaluate(expression, scope), type: '' };
  }
  const [value, type] = evaluate(wrapped, scope) as [unknown, string];
  return { value, type };
}

/** Python truthiness of a Monty value. */
export function truthy(v: unknown): boolean {
  if (v === null || v === undefined || v === false || v === 0 || v === 0n || v === '') return false;
  if (Array.isArray(v) || typeof v === 'string') return v.length > 0;
  if (v instanceof Map || v instanceof Set) return v.size > 0;
  if (Buffer.isBuffer(v)) return v.length > 0;
  return true;
}
