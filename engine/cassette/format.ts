/**
 * Cassettes: a run's external calls written down, to be replayed later.
 * Versioned JSON, pretty-printed with one field of a call per line so a
 * re-recorded cassette diffs cleanly in code review. Written atomically.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { UsageError } from '../errors.ts';
import type { CallRecord, CallRef } from '../run/outcome.ts';
import { JsonSyntaxError, parseJson } from '../values/json.ts';
import type { Wire } from '../values/wire.ts';
import { toWire } from '../values/wire.ts';
import { wireProblem } from '../values/wireCheck.ts';

export const CASSETTE_VERSION = 1;

export interface CassetteCall {
  seq: number;
  function: string;
  args: Wire;
  kwargs: Wire;
  result?: Wire;
  error?: { type: string; message: string; traceback?: string };
  source?: string;
  durationMs?: number;
  mapParent?: number;
  mapIndex?: number;
  /**
   * `kwargs` holds every input by parameter name with defaults filled in, as
   * production records them (imported runs): a live call is bound to the
   * function's signature before it is compared.
   */
  bound?: true;
  /** The production action or cluster run the result came from. */
  ref?: CallRef;
  /** On a flyte_map record: "unknown" when its items are in created_at order, not index order (imported runs). */
  mapOrder?: 'unknown';
  mapSize?: number;
}

/** Where an imported cassette came from (`flyte-sandbox import-run`). */
export interface ProductionInfo {
  run: string;
  url: string;
  project: string;
  domain: string;
  /** The orchestrator's Flyte task name, its version, discovery_version and the SDK version that ran it. */
  task: string | null;
  taskVersion: string | null;
  discoveryVersion: string | null;
  sdkVersion: string | null;
  phase: string;
  startedAt: string | null;
  endedAt: string | null;
  importedAt: string;
  /** How the children were listed: the parent_name filter, or client-side when the backend refuses it. */
  listing: string;
  /** Calls (actions) imported, and those still running when the run was imported. */
  actions: number;
  missing?: number;
  /** What production does not record, so the cassette cannot hold it. */
  unrecoverable: string[];
  notes?: string[];
}

export interface Cassette {
  version: number;
  task: string;
  flyteName: string;
  /** The program, relative to the cassette's folder. */
  file: string;
  codeHash: string;
  inputs: Wire;
  recordedAt: string;
  /** 'incomplete' when the run was stopped or is still going. */
  status: 'ok' | 'error' | 'incomplete';
  output: Wire;
  error: { type: string; message: string } | null;
  /** Set on cassettes imported from a production run. */
  production?: ProductionInfo;
  calls: CassetteCall[];
}

export function codeHash(code: string): string {
  return 'sha256:' + createHash('sha256').update(code).digest('hex').slice(0, 16);
}

export function callToCassette(r: CallRecord): CassetteCall {
  return {
    seq: r.seq,
    function: r.function,
    args: toWire(r.args),
    kwargs: toWire(r.kwargs),
    ...(r.status === 'returned' ? { result: toWire(r.result) } : {}),
    ...(r.error ? { error: r.error } : {}),
    ...(r.source ? { source: r.source } : {}),
    ...(r.durationUs >= 0 ? { durationMs: Math.round(r.durationUs) / 1000 } : {}),
    ...(r.mapParent !== undefined ? { mapParent: r.mapParent, mapIndex: r.mapIndex! } : {}),
    ...(r.ref ? { ref: r.ref } : {}),
  };
}

/** JSON with every call as a block, one field per line, values compact. */
export function formatCassette(c: Cassette): string {
  const top = Object.entries(c).filter(([k]) => k !== 'calls').map(([k, v]) => `  ${JSON.stringify(k)}: ${JSON.stringify(v)}`);
  const calls = c.calls.map(call => `    {\n${Object.entries(call).map(([k, v]) => `      ${JSON.stringify(k)}: ${JSON.stringify(v)}`).join(',\n')}\n    }`);
  return `{\n${top.join(',\n')},\n  "calls": [${calls.length ? `\n${calls.join(',\n')}\n  ` : ''}]\n}\n`;
}

export function writeCassette(path: string, c: Cassette): void {
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, formatCassette(c));
  renameSync(tmp, path);
}

/** What a file that is not JSON is, without quoting what it holds (it may be anything, secrets included). */
function whatItIs(bytes: Buffer, text: string): string {
  if (bytes.length === 0) return 'the file is empty';
  if (bytes[0] === 0x1f && bytes[1] === 0x8b) return `gzip-compressed data (${bytes.length} bytes); a cassette is plain JSON`;
  if (bytes.subarray(0, 4).equals(Buffer.from('PK\x03\x04', 'latin1'))) return `a ZIP archive (${bytes.length} bytes); a cassette is plain JSON`;
  if (bytes.includes(0) || text.includes('\uFFFD')) return `binary data (${bytes.length} bytes), not JSON text`;
  try {
    parseJson(text);
  } catch (e) {
    if (e instanceof JsonSyntaxError) {
      if (/unexpected end|unterminated/.test(e.message)) return `the JSON ends early, at line ${e.line} (a truncated file?)`;
      return `text that is not JSON (the first error is at line ${e.line}, column ${e.column})`;
    }
  }
  return 'text that is not JSON';
}

export function readCassette(path: string): Cassette {
  if (!existsSync(path)) throw new UsageError('no such cassette', path);
  let parsed: unknown;
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw new UsageError(err.code === 'EISDIR' ? 'is a folder, not a cassette' : `cannot read the cassette (${err.code ?? err.message})`, path);
  }
  const text = bytes.toString('utf8');
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new UsageError(`not a cassette: ${whatItIs(bytes, text)}`, path);
  }
  const c = parsed as Partial<Cassette>;
  if (typeof c !== 'object' || c === null || !Array.isArray(c.calls)) throw new UsageError('not a cassette (no "calls" list)', path);
  if (c.version !== CASSETTE_VERSION) throw new UsageError(`cassette version ${String(c.version)} is not supported (this debugger reads version ${CASSETTE_VERSION})`, path);
  for (const [key, ok] of [['task', typeof c.task === 'string'], ['file', typeof c.file === 'string'], ['status', c.status === 'ok' || c.status === 'error' || c.status === 'incomplete']] as const) {
    if (!ok) throw new UsageError(`not a valid cassette: ${JSON.stringify(key)} is missing or of the wrong type`, path);
  }
  const isObject = (v: unknown) => typeof v === 'object' && v !== null && !Array.isArray(v);
  const checkValue = (v: unknown, what: string) => {
    const problem = wireProblem(v);
    if (problem) throw new UsageError(`not a valid cassette: ${what}: ${problem}`, path);
  };
  checkValue(c.inputs ?? null, 'inputs');
  checkValue(c.output ?? null, 'output');
  for (const [i, call] of c.calls.entries()) {
    if (typeof call?.function !== 'string' || typeof call.seq !== 'number') throw new UsageError(`call ${i} has no "seq" or "function"`, path);
    const args = (call as { args?: unknown }).args;
    if (!Array.isArray(args) && !(isObject(args) && Array.isArray((args as { $tuple?: unknown }).$tuple))) throw new UsageError(`call ${i} (#${call.seq} ${call.function}): "args" must be a list`, path);
    if (!isObject(call.kwargs)) throw new UsageError(`call ${i} (#${call.seq} ${call.function}): "kwargs" must be an object`, path);
    if (call.error !== undefined && (!isObject(call.error) || typeof call.error.type !== 'string' || typeof call.error.message !== 'string')) throw new UsageError(`call ${i} (#${call.seq} ${call.function}): "error" must be {"type": ..., "message": ...}`, path);
    if (call.result === undefined && call.error === undefined) throw new UsageError(`call ${i} (#${call.seq} ${call.function}) has neither "result" nor "error"`, path);
    checkValue(args, `call ${i} (#${call.seq} ${call.function}) args`);
    checkValue(call.kwargs, `call ${i} (#${call.seq} ${call.function}) kwargs`);
    if (call.result !== undefined) checkValue(call.result, `call ${i} (#${call.seq} ${call.function}) result`);
  }
  return c as Cassette;
}
