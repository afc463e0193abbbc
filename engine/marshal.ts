/**
 * The one marshaling module: Flyte's `_to_monty` / `_from_monty` for File,
 * Dir and DataFrame handles carried across the sandbox boundary as dicts
 * tagged `"__flyte_io_type__"`, plus typed views of them for display.
 *
 * Semantics reproduced from flyte-sdk's bridge:
 * - from the sandbox: a dict whose tag names a known type is validated like
 *   `File.model_validate(...)` (failure ends the run); an unknown tag passes
 *   through as a plain dict (we report it, Flyte does not).
 * - to the sandbox: a handle becomes `{tag, **model_dump()}` with the tag first
 *   and defaults filled (`name` from the path, `format` "", `hash` None).
 * Lists, tuples and dict values are recursed; sets and keys are not.
 */
import { dictEntries, isDict, isTuple, pyRepr, tuple, type MontyValue } from './values/python.ts';

export const IO_TYPE_KEY = '__flyte_io_type__';
export type IoKind = 'File' | 'Dir' | 'DataFrame';

interface FieldSpec {
  name: string;
  required?: boolean;
  optional?: boolean;
  default?: unknown;
}

const FIELDS: Record<IoKind, FieldSpec[]> = {
  File: [{ name: 'path', required: true }, { name: 'name', optional: true, default: null }, { name: 'format', default: '' }, { name: 'hash', optional: true, default: null }],
  Dir: [{ name: 'path', required: true }, { name: 'name', optional: true, default: null }, { name: 'format', default: '' }, { name: 'hash', optional: true, default: null }],
  DataFrame: [{ name: 'uri', optional: true, default: null }, { name: 'format', optional: true, default: '' }],
};

export function isIoKind(tag: unknown): tag is IoKind {
  return tag === 'File' || tag === 'Dir' || tag === 'DataFrame';
}

/** A File/Dir/DataFrame as Flyte sees it after `model_validate`. */
export class IoHandle {
  constructor(readonly kind: IoKind, readonly fields: Readonly<Record<string, string | null>>) {}

  /** The tagged dict Monty holds for this handle (`_to_monty`). */
  toMonty(): Map<string, unknown> {
    const out = new Map<string, unknown>([[IO_TYPE_KEY, this.kind]]);
    for (const spec of FIELDS[this.kind]) out.set(spec.name, this.fields[spec.name] ?? null);
    return out;
  }
}

/** Pydantic's validation failure, as Flyte's `model_validate` raises it while unmarshaling. */
export class IoValidationError extends Error {
  readonly typeName = 'ValidationError';
  constructor(readonly kind: IoKind, readonly field: string, readonly problem: string, readonly path: string, input: Map<unknown, unknown> | Record<string, unknown>) {
    super(`1 validation error for ${kind}\n${field}\n  ${problem} [input_value=${pyRepr(withoutTag(input))}]`);
  }
}

function withoutTag(d: Map<unknown, unknown> | Record<string, unknown>): Map<unknown, unknown> {
  return new Map(dictEntries(d).filter(([k]) => k !== IO_TYPE_KEY));
}

/** `Path(path).name`, as File/Dir's validator fills `name`. */
function baseName(path: string): string {
  const trimmed = path.replace(/\/+$/, '');
  return trimmed.slice(trimmed.lastIndexOf('/') + 1);
}

function validateHandle(kind: IoKind, dict: Map<unknown, unknown> | Record<string, unknown>, where: string): IoHandle {
  const given = new Map(dictEntries(dict));
  const fields: Record<string, string | null> = {};
  for (const spec of FIELDS[kind]) {
    if (!given.has(spec.name) || (given.get(spec.name) === null && spec.required)) {
      if (spec.required) throw new IoValidationError(kind, spec.name, 'Field required', where, dict);
      fields[spec.name] = spec.default as string | null;
      continue;
    }
    const v = given.get(spec.name);
    if (v === null && spec.optional) fields[spec.name] = null;
    else if (typeof v === 'string') fields[spec.name] = v;
    else throw new IoValidationError(kind, spec.name, 'Input should be a valid string', where, dict);
  }
  if (kind !== 'DataFrame' && fields.name === null) fields.name = baseName(fields.path ?? '');
  return new IoHandle(kind, fields);
}

function ioTag(value: unknown): unknown {
  if (value instanceof Map) return value.get(IO_TYPE_KEY);
  if (isDict(value)) return (value as Record<string, unknown>)[IO_TYPE_KEY];
  return undefined;
}

/**
 * `_from_monty`: tagged dicts with a known tag become IoHandles. Returns the
 * input itself when nothing inside it changes, so plain values cost a walk only.
 */
export function fromMonty(value: MontyValue, where = 'value'): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) {
    let out: unknown[] | undefined;
    for (let i = 0; i < value.length; i++) {
      const v = value[i] as unknown;
      const m = fromMonty(v, `${where}[${i}]`);
      if (m !== v && !out) out = value.slice(0, i);
      if (out) out.push(m);
    }
    if (!out) return value;
    return isTuple(value) ? tuple(out) : out;
  }
  if (isDict(value)) {
    const tag = ioTag(value);
    if (isIoKind(tag)) return validateHandle(tag, value, where);
    let changed = false;
    const entries = dictEntries(value).map(([k, v]) => {
      const m = fromMonty(v, `${where}[${pyRepr(k)}]`);
      if (m !== v) changed = true;
      return [k, m] as [unknown, unknown];
    });
    return changed ? new Map(entries) : value;
  }
  return value;
}

/** `_to_monty`: IoHandles become tagged dicts; containers are recursed. */
export function toMonty(value: unknown): MontyValue {
  if (value === null || typeof value !== 'object') return value;
  if (value instanceof IoHandle) return value.toMonty();
  if (Array.isArray(value)) {
    let out: unknown[] | undefined;
    for (let i = 0; i < value.length; i++) {
      const v = value[i] as unknown;
      const m = toMonty(v);
      if (m !== v && !out) out = value.slice(0, i);
      if (out) out.push(m);
    }
    if (!out) return value;
    return isTuple(value) ? tuple(out) : out;
  }
  if (isDict(value)) {
    let changed = false;
    const entries = dictEntries(value).map(([k, v]) => {
      const m = toMonty(v);
      if (m !== v) changed = true;
      return [k, m] as [unknown, unknown];
    });
    return changed ? new Map(entries) : value;
  }
  return value;
}

/**
 * A value produced on the host (stub, cassette, forward) on its way into the
 * sandbox: a tagged dict stands for the handle a real task would return, so it
 * is validated and dumped the way `model_dump` would (defaults filled).
 */
export function hostResultToMonty(value: unknown, where = 'result'): MontyValue {
  return toMonty(fromMonty(value, where));
}

/** What the UI shows for one tagged dict: its Flyte fields and what is wrong with it. */
export interface IoView {
  kind: string;
  known: boolean;
  fields: Record<string, unknown>;
  problems: string[];
}

export function ioView(value: unknown): IoView | undefined {
  const tag = ioTag(value);
  if (tag === undefined || !isDict(value)) return undefined;
  const raw = Object.fromEntries(dictEntries(value).filter(([k]) => k !== IO_TYPE_KEY).map(([k, v]) => [String(k), v]));
  if (!isIoKind(tag)) {
    return { kind: String(tag), known: false, fields: raw, problems: [`unknown ${IO_TYPE_KEY} ${pyRepr(tag)}: Flyte passes it through as a plain dict (known: File, Dir, DataFrame)`] };
  }
  const problems: string[] = [];
  const known = new Set(FIELDS[tag].map(f => f.name));
  for (const k of Object.keys(raw)) if (!known.has(k)) problems.push(`field '${k}' is not a ${tag} field and is dropped by model_validate`);
  try {
    return { kind: tag, known: true, fields: { ...validateHandle(tag, value, 'value').fields }, problems };
  } catch (e) {
    if (!(e instanceof IoValidationError)) throw e;
    problems.unshift(`${e.field}: ${e.problem}`);
    return { kind: tag, known: true, fields: raw, problems };
  }
}

/** Every tagged dict inside a value with a problem, by path (`args[0]['file']`). */
export function ioProblems(value: unknown, where = 'value'): { path: string; problems: string[] }[] {
  const found: { path: string; problems: string[] }[] = [];
  const walk = (v: unknown, path: string) => {
    if (v === null || typeof v !== 'object') return;
    if (Array.isArray(v)) { v.forEach((x, i) => walk(x, `${path}[${i}]`)); return; }
    if (!isDict(v)) return;
    const view = ioView(v);
    if (view) {
      if (view.problems.length) found.push({ path, problems: view.problems });
      return;
    }
    for (const [k, x] of dictEntries(v)) walk(x, `${path}[${pyRepr(k)}]`);
  };
  walk(value, where);
  return found;
}
