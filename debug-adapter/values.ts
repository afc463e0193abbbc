/**
 * Monty values as DAP variables: containers expand lazily (paged by the
 * client through indexedVariables/namedVariables), IO handles show their
 * Flyte fields with the raw tagged dict beside them.
 */
import type { DebugProtocol } from '@vscode/debugprotocol';
import { ioView } from '../engine/marshal.ts';
import { dictEntries, isDict, isExceptionValue, isOpaqueType, isTuple, pyRepr, pyReprBounded, pyTypeName, typedRepr } from '../engine/values/python.ts';

const MAX_VALUE = 240;

export type Children = (start?: number, count?: number) => DebugProtocol.Variable[];

/** Hands out variablesReference numbers for expandable things; cleared whenever the debuggee runs. */
export class VariableStore {
  private next = 1;
  private readonly providers = new Map<number, Children>();

  add(children: Children): number {
    const ref = this.next++;
    this.providers.set(ref, children);
    return ref;
  }

  get(ref: number): Children | undefined {
    return this.providers.get(ref);
  }

  clear(): void {
    this.providers.clear();
  }

  /** A local, with the Python type name the sandbox reported for it. */
  typedVariable(name: string, value: unknown, typeName: string | undefined, evaluateName?: string): DebugProtocol.Variable {
    if ((typeName === 'float' && typeof value === 'number') || (isOpaqueType(typeName) && typeof value === 'string')) return { name, value: typedRepr(value, typeName), type: typeName!, variablesReference: 0, ...(evaluateName ? { evaluateName } : {}) };
    return this.variable(name, value, evaluateName);
  }

  /** One value as a variable named `name`. */
  variable(name: string, value: unknown, evaluateName?: string): DebugProtocol.Variable {
    return { name, ...this.describe(value), ...(evaluateName ? { evaluateName } : {}) };
  }

  /** `raw`: show a tagged dict as the plain dict Monty holds, not as its IO handle. */
  describe(value: unknown, raw = false): { value: string; type: string; variablesReference: number; indexedVariables?: number; namedVariables?: number } {
    const io = raw ? undefined : ioView(value);
    if (io) {
      const text = `${io.kind}(${Object.entries(io.fields).map(([k, v]) => `${k}=${pyRepr(v)}`).join(', ')})${io.problems.length ? '  ⚠ ' + io.problems[0] : ''}`;
      const ref = this.add(() => [
        ...Object.entries(io.fields).map(([k, v]) => this.variable(k, v)),
        ...(io.problems.length ? [{ name: '⚠ problems', value: io.problems.join('; '), variablesReference: 0 }] : []),
        { name: 'raw (tagged dict)', ...this.describe(value, true) },
      ]);
      return { value: truncate(text), type: io.known ? `flyte.io.${io.kind}` : 'dict', variablesReference: ref };
    }
    const type = pyTypeName(value);
    const text = pyReprBounded(value, MAX_VALUE);
    if (Array.isArray(value) || value instanceof Set) {
      const items = [...value];
      if (!items.length) return { value: text, type, variablesReference: 0 };
      const ref = this.add((start = 0, count = items.length) => items.slice(start, start + count).map((v, i) => this.variable(`[${start + i}]`, v)));
      return { value: text, type, variablesReference: ref, indexedVariables: items.length };
    }
    if (isDict(value) && !isExceptionValue(value)) {
      const entries = dictEntries(value);
      if (!entries.length) return { value: text, type, variablesReference: 0 };
      const ref = this.add(() => entries.map(([k, v]) => this.variable(typeof k === 'string' ? k : pyRepr(k), v)));
      return { value: text, type, variablesReference: ref, namedVariables: entries.length };
    }
    return { value: text, type: isTuple(value) ? 'tuple' : type, variablesReference: 0 };
  }
}

export function truncate(s: string, n = MAX_VALUE): string {
  return s.length > n ? s.slice(0, n - 1) + '…' : s;
}
