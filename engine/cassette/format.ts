/**
 * Cassettes: a run's external calls written down, to be replayed later.
 * Versioned JSON, pretty-printed with one field of a call per line so a
 * re-recorded cassette diffs cleanly in code review. Written atomically.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { UsageError } from '../errors.ts';
import type { CallRecord, CallRef } from '../run/outcome.ts';
import type { Wire } from '../values/wire.ts';
import { toWire } from '../values/wire.ts';

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

export function readCassette(path: string): Cassette {
  if (!existsSync(path)) throw new UsageError('no such cassette', path);
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new UsageError(`not a cassette (malformed JSON: ${(e as Error).message})`, path);
  }
  const c = parsed as Partial<Cassette>;
  if (typeof c !== 'object' || c === null || !Array.isArray(c.calls)) throw new UsageError('not a cassette (no "calls" list)', path);
  if (c.version !== CASSETTE_VERSION) throw new UsageError(`cassette version ${String(c.version)} is not supported (this debugger reads version ${CASSETTE_VERSION})`, path);
  for (const [i, call] of c.calls.entries()) {
    if (typeof call?.function !== 'string' || typeof call.seq !== 'number') throw new UsageError(`call ${i} has no "seq" or "function"`, path);
  }
  return c as Cassette;
}
