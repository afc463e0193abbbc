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
import { dictEntries, isDict, isTuple, pyRepr, pyTypeName, tuple, type MontyValue } from './values/python.ts';

export const IO_TYPE_KEY = '__flyte_io_type__';
export type IoKind = 'File' | 'Dir' | 'DataFrame';

interface FieldSpec {
  name: string;
  /** `path: str` (no default). */
  required?: boolean;
  /** `Optional[str]`: None is valid. */
  optional?: boolean;
  default?: unknown;
  /** Validated but not part of `model_dump()` (DataFrame's `hash`). */
  notDumped?: boolean;
}

const FIELDS: Record<IoKind, FieldSpec[]> = {
  File: [{ name: 'path', required: true }, { name: 'name', optional: true, default: null }, { name: 'format', default: '' }, { name: 'hash', optional: true, default: null }],
  Dir: [{ name: 'path', required: true }, { name: 'name', optional: true, default: null }, { name: 'format', default: '' }, { name: 'hash', optional: true, default: null }],
  DataFrame: [{ name: 'uri', optional: true, default: null }, { name: 'format', optional: true, default: '' }, { name: 'hash', optional: true, default: null, notDumped: true }],
};

/**
 * The pydantic release whose documentation URL ends a ValidationError
 * message. flyte-sdk requires pydantic>=2.10.6 without pinning it; 2.13 is
 * the release current with flyte-sdk 2.6.x.
 */
export const PYDANTIC_DOCS_VERSION = '2.13';

export function isIoKind(tag: unknown): tag is IoKind {
  return tag === 'File' || tag === 'Dir' || tag === 'DataFrame';
}

/** A File/Dir/DataFrame as Flyte sees it after `model_validate`. */
export class IoHandle {
  constructor(readonly kind: IoKind, readonly fields: Readonly<Record<string, string | null>>) {}

  /** The tagged dict Monty holds for this handle (`_to_monty`). */
  toMonty(): Map<string, unknown> {
    const out = new Map<string, unknown>([[IO_TYPE_KEY, this.kind]]);
    for (const spec of FIELDS[this.kind]) if (!spec.notDumped) out.set(spec.name, this.fields[spec.name] ?? null);
    return out;
  }
}

/**
 * What Flyte's `File/Dir/DataFrame.model_validate(payload)` raises while
 * unmarshaling, with production's exact type and message: the `name`
 * validator reads `data["path"]` (KeyError) and builds `Path(path)`
 * (TypeError, worded by the Python version), then pydantic checks every
 * field (ValidationError listing each problem).
 */
export class IoValidationError extends Error {
  constructor(readonly typeName: 'KeyError' | 'TypeError' | 'ValidationError', message: string, readonly kind: IoKind, readonly field: string, readonly problem: string, readonly path: string) {
    super(message);
  }
}

/** pydantic-core's repr of an input value: Python's repr, cut to 25 + "..." + 24 characters past 50. */
function pydanticRepr(value: unknown): string {
  const r = pyRepr(value);
  return r.length > 50 ? `${r.slice(0, 25)}...${r.slice(-24)}` : r;
}

/** `Path(value)` refusing a non-string, as CPython words it. */
export function pathTypeError(value: unknown, pythonVersion: string = '3.12'): string {
  const type = pyTypeName(value);
  const [, minor] = pythonVersion.split('.').map(Number) as [number, number];
  if (minor >= 12) return `argument should be a str or an os.PathLike object where __fspath__ returns a str, not '${type}'`;
  if (type === 'bytes') return "argument should be a str object or an os.PathLike object returning str, not <class 'bytes'>";
  return `expected str, bytes or os.PathLike object, not ${type}`;
}

/** `Path(path).name`, as File/Dir's validator fills `name`. */
function baseName(path: string): string {
  const trimmed = path.replace(/\/+$/, '');
  const name = trimmed.slice(trimmed.lastIndexOf('/') + 1);
  return name === '.' ? '' : name;
}

function validateHandle(kind: IoKind, dict: Map<unknown, unknown> | Record<string, unknown>, where: string, pythonVersion?: string): IoHandle {
  const given = new Map(dictEntries(dict).filter(([k]) => k !== IO_TYPE_KEY));
  if (kind !== 'DataFrame' && (given.get('name') ?? null) === null) {
    // File/Dir pre_init (mode="before"): data["name"] = Path(data["path"]).name
    if (!given.has('path')) throw new IoValidationError('KeyError', "'path'", kind, 'path', "missing: Flyte's validator reads it to fill 'name' (KeyError)", where);
    const p = given.get('path');
    const path = Buffer.isBuffer(p) ? undefined : p;
    if (typeof path !== 'string') {
      const message = pathTypeError(p, pythonVersion);
      throw new IoValidationError('TypeError', message, kind, 'path', `${message} (Path(path) in Flyte's validator)`, where);
    }
    given.set('name', baseName(path));
  }
  const fields: Record<string, string | null> = {};
  const errors: { field: string; line: string; problem: string }[] = [];
  for (const spec of FIELDS[kind]) {
    if (!given.has(spec.name)) {
      if (spec.required) errors.push({ field: spec.name, problem: 'Field required', line: `Field required [type=missing, input_value=${pydanticRepr(given)}, input_type=dict]` });
      else fields[spec.name] = spec.default as string | null;
      continue;
    }
    const v = given.get(spec.name);
    if (v === null && spec.optional) fields[spec.name] = null;
    else if (typeof v === 'string') fields[spec.name] = v;
    else if (Buffer.isBuffer(v)) fields[spec.name] = v.toString('utf8');
    else errors.push({ field: spec.name, problem: 'Input should be a valid string', line: `Input should be a valid string [type=string_type, input_value=${pydanticRepr(v)}, input_type=${pyTypeName(v)}]` });
  }
  if (errors.length) {
    const type = (e: { line: string }) => /\[type=(\w+)/.exec(e.line)![1];
    const message = `${errors.length} validation error${errors.length > 1 ? 's' : ''} for ${kind}\n${errors.map(e => `${e.field}\n  ${e.line}\n    For further information visit https://errors.pydantic.dev/${PYDANTIC_DOCS_VERSION}/v/${type(e)}`).join('\n')}`;
    throw new IoValidationError('ValidationError', message, kind, errors[0]!.field, errors[0]!.problem, where);
  }
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
export function fromMonty(value: MontyValue, where = 'value', pythonVersion?: string): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) {
    let out: unknown[] | undefined;
    for (let i = 0; i < value.length; i++) {
      const v = value[i] as unknown;
      const m = fromMonty(v, `${where}[${i}]`, pythonVersion);
      if (m !== v && !out) out = value.slice(0, i);
      if (out) out.push(m);
    }
    if (!out) return value;
    return isTuple(value) ? tuple(out) : out;
  }
  if (isDict(value)) {
    const tag = ioTag(value);
    if (isIoKind(tag)) return validateHandle(tag, value, where, pythonVersion);
    let changed = false;
    const entries = dictEntries(value).map(([k, v]) => {
      const m = fromMonty(v, `${where}[${pyRepr(k)}]`, pythonVersion);
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
export function hostResultToMonty(value: unknown, where = 'result', pythonVersion?: string): MontyValue {
  return toMonty(fromMonty(value, where, pythonVersion));
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
