/**
 * Stubs: canned results for external calls, from a JSON file or an inline
 * object. `{"fib": {"value": 55}}`, `{"add": {"python": "args[0] + args[1]"}}`
 * (evaluated in a separate Monty with `args` (a tuple) and `kwargs` bound),
 * `{"boom": {"raise": "ValueError: bad input"}}`.
 */
import { readFile } from 'node:fs/promises';
import { Monty, MontyRuntimeError, MontySyntaxError } from '@pydantic/monty';
import { UsageError } from '../errors.ts';
import { JsonSyntaxError, parseJson } from '../values/json.ts';
import { dictEntries, isDict, pyRepr, tuple } from '../values/python.ts';
import type { CallOutcome, ExternalCall } from '../run/outcome.ts';
import type { Resolver } from '../run/resolvers.ts';

export type StubSpec =
  | { kind: 'value'; value: unknown }
  | { kind: 'python'; expression: string; compiled: Monty }
  | { kind: 'raise'; type: string; message: string };

const STUB_LIMITS = { maxDurationSecs: 5, maxMemory: 64 * 1024 * 1024, maxRecursionDepth: 200 };

/** "ValueError: bad input" -> type and message; a bare "ValueError" has an empty message. */
export function parseExceptionSpec(text: string): { type: string; message: string } {
  const m = /^\s*([A-Za-z_][A-Za-z0-9_.]*)\s*(?::\s*([\s\S]*))?$/.exec(text);
  if (!m) return { type: 'Exception', message: text };
  return { type: m[1]!.split('.').at(-1)!, message: m[2] ?? '' };
}

export function compileStubExpression(expression: string, where: string): Monty {
  try {
    return new Monty(expression, { inputs: ['args', 'kwargs'], scriptName: where });
  } catch (e) {
    if (e instanceof MontySyntaxError || e instanceof MontyRuntimeError) throw new UsageError(`the python expression ${JSON.stringify(expression)} does not compile: ${e.message}`, where);
    throw e;
  }
}

export function parseStubs(value: unknown, origin: string): Map<string, StubSpec> {
  if (!isDict(value)) throw new UsageError('stubs must be a JSON object mapping function names to {"value": ...} | {"python": "..."} | {"raise": "Type: message"}', origin);
  const out = new Map<string, StubSpec>();
  for (const [rawName, spec] of dictEntries(value)) {
    const name = String(rawName);
    const where = `${origin}: stub '${name}'`;
    if (!isDict(spec)) throw new UsageError(`expected {"value": ...}, {"python": "..."} or {"raise": "Type: message"}, got ${pyRepr(spec)}`, where);
    const keys = dictEntries(spec).map(([k]) => String(k));
    const known = keys.filter(k => k === 'value' || k === 'python' || k === 'raise');
    const unknown = keys.filter(k => k !== 'value' && k !== 'python' && k !== 'raise');
    if (unknown.length) throw new UsageError(`unknown key${unknown.length > 1 ? 's' : ''} ${unknown.map(k => `'${k}'`).join(', ')} (a stub has exactly one of value, python, raise)`, where);
    if (known.length !== 1) throw new UsageError(`a stub has exactly one of value, python, raise; got ${known.length ? known.join(' and ') : 'none'}`, where);
    const entries = new Map(dictEntries(spec).map(([k, v]) => [String(k), v]));
    if (known[0] === 'value') out.set(name, { kind: 'value', value: entries.get('value') });
    else if (known[0] === 'python') {
      const expression = entries.get('python');
      if (typeof expression !== 'string') throw new UsageError('"python" must be a string holding a Python expression', where);
      out.set(name, { kind: 'python', expression, compiled: compileStubExpression(expression, `stub:${name}`) });
    } else {
      const text = entries.get('raise');
      if (typeof text !== 'string') throw new UsageError('"raise" must be a string like "ValueError: bad input"', where);
      out.set(name, { kind: 'raise', ...parseExceptionSpec(text) });
    }
  }
  return out;
}

/** Load stubs from a file path or take them inline. */
export async function loadStubs(source: string | unknown): Promise<Map<string, StubSpec>> {
  if (typeof source !== 'string') return parseStubs(source, 'stubs');
  let text: string;
  try {
    text = await readFile(source, 'utf8');
  } catch (e) {
    throw new UsageError(`cannot read the stubs file: ${(e as Error).message}`, source);
  }
  try {
    return parseStubs(parseJson(text), source);
  } catch (e) {
    if (e instanceof JsonSyntaxError) throw new UsageError(`malformed JSON: ${e.message}`, `${source}:${e.line}:${e.column}`);
    throw e;
  }
}

export function evaluateStub(spec: StubSpec, call: Pick<ExternalCall, 'args' | 'kwargs'>): CallOutcome {
  switch (spec.kind) {
    case 'value':
      return { kind: 'return', value: spec.value, source: 'stub' };
    case 'raise':
      return { kind: 'raise', type: spec.type, message: spec.message, source: 'stub' };
    case 'python':
      try {
        const value = spec.compiled.run({ inputs: { args: tuple([...call.args]), kwargs: call.kwargs }, limits: STUB_LIMITS });
        return { kind: 'return', value, source: 'stub' };
      } catch (e) {
        if (e instanceof MontyRuntimeError) return { kind: 'raise', type: e.exception.typeName, message: e.exception.message, traceback: `stub expression ${JSON.stringify(spec.expression)}\n${e.display('traceback')}`, source: 'stub' };
        throw e;
      }
  }
}

export class StubResolver implements Resolver {
  readonly source = 'stub' as const;

  constructor(readonly stubs: Map<string, StubSpec>) {}

  resolve(call: ExternalCall): CallOutcome | undefined {
    const spec = this.stubs.get(call.function);
    return spec ? evaluateStub(spec, call) : undefined;
  }
}
