/**
 * A production run (as flyte_worker.py dumps it) as a cassette: the calls
 * the orchestrator made, in call order, under the local names the sandbox
 * calls them by, with production's values exactly as recorded. Inputs are
 * by name with defaults filled in (`bound`), flyte_map items are folded
 * under their map with the order marked unknown, and what production does
 * not record is listed, never guessed.
 */
import { dirname, relative } from 'node:path';
import { CASSETTE_VERSION, codeHash, type Cassette, type CassetteCall, type ProductionInfo } from '../cassette/format.ts';
import type { ExternalIdentity } from '../cassette/signatures.ts';
import type { SandboxTask } from '../extract/tasks.ts';
import type { CallRef } from '../run/outcome.ts';
import type { Wire } from '../values/wire.ts';
import { CACHE_HIT, SUCCEEDED, TERMINAL, type DumpChild, type ErrorInfo, type RunDump } from './dump.ts';
import { foldMaps } from './fold.ts';

/** What a production run does not record (listed in every imported cassette and in the README). */
export const UNRECOVERABLE = [
  "a failed call's exception type, its .code and its traceback: Flyte's ErrorInfo keeps only the message and the kind (user/system), so a failure replays as RuntimeUserError/RuntimeSystemError, the types the orchestrator receives",
  'whether each argument was passed by position or by keyword: production keeps inputs by name with defaults filled in, so live calls are bound to the signature before they are compared',
  "the flyte_map index of each item, and flyte_map's concurrency and return_exceptions: items are matched by their inputs (equal inputs are interchangeable)",
  'calls to plain callables passed in tasks=[...]: they run inside the orchestrator without being recorded',
  "the orchestrator's own prints and its source: the local file is used (compare discoveryVersion to tell whether the code changed)",
  'exact Python types of values Flyte had to guess when reading them back (tuple, set and bytes may come back as lists or strings)',
  'File/Dir/DataFrame contents: only the handles are recorded',
  'results of earlier attempts of a retried call: only the last attempt is kept',
  'per-item exceptions of a return_exceptions flyte_map beyond their kind and message',
];

function failureType(phase: string | undefined, error: ErrorInfo | undefined): string {
  if (phase === 'aborted') return 'ActionAbortedError';
  if (phase === 'timed_out') return 'TaskTimeoutError';
  return error?.kind === 1 ? 'RuntimeUserError' : error?.kind === 2 ? 'RuntimeSystemError' : 'RuntimeUnknownError';
}

const KIND_WORD: Record<number, string> = { 0: 'unspecified', 1: 'user', 2: 'system' };

function failureOf(c: DumpChild): NonNullable<CassetteCall['error']> {
  const type = failureType(c.phase, c.error);
  if (c.phase === 'aborted') return { type, message: c.abort ?? c.error?.message ?? 'the action was aborted' };
  const message = c.error?.message ?? `the action ended ${c.phase ?? 'unsuccessfully'} and production recorded no error message`;
  return {
    type,
    message,
    traceback: `production action ${c.name} ended ${(c.phase ?? 'failed').toUpperCase()} (error kind: ${KIND_WORD[c.error?.kind ?? 0] ?? c.error?.kind}).\nFlyte records a failure's message and kind only: the exception's own type (its .code in production, e.g. ValueError) and its traceback cannot be recovered. ${type} is the type the orchestrator receives.`,
  };
}

/** flyte hands inputs back in no particular order: show them in the order of the parameters. */
function inSignatureOrder(inputs: Wire, identity: ExternalIdentity | undefined): Wire {
  if (!identity?.signature || inputs === null || typeof inputs !== 'object' || Array.isArray(inputs)) return inputs;
  const given = inputs as Record<string, Wire>;
  const order = identity.signature.params.map(p => p.name).filter(n => n in given);
  return Object.fromEntries([...order, ...Object.keys(given).filter(k => !order.includes(k))].map(k => [k, given[k]!]));
}

export interface BuiltCassette {
  cassette: Cassette;
  notes: string[];
}

/** `names`: local external name by each name production records (task ids, trace names). */
function localNames(identities: Map<string, ExternalIdentity>): Map<string, string> {
  const out = new Map<string, string>();
  for (const id of identities.values()) for (const n of id.flyteNames) if (!out.has(n)) out.set(n, id.name);
  return out;
}

export function productionCassette(dump: RunDump, task: SandboxTask, identities: Map<string, ExternalIdentity>, cassettePath: string, importedAt = new Date()): BuiltCassette {
  const notes: string[] = [];
  const run = dump.run;
  const names = localNames(identities);
  const unmapped = new Set<string>();
  const functionOf = (c: DumpChild): string => {
    const recorded = (c.kind === 'trace' ? c.traceName : c.taskName) ?? c.shortName ?? c.name;
    const local = names.get(recorded) ?? (c.shortName ? names.get(c.shortName) : undefined);
    if (local) return local;
    unmapped.add(recorded);
    return recorded;
  };
  const calls = dump.children.filter(c => c.kind !== 'condition');
  const conditions = dump.children.length - calls.length;
  if (conditions) notes.push(`${conditions} condition action${conditions === 1 ? '' : 's'} left out (they are not calls of the sandbox)`);
  const finished = calls.filter(c => c.phase !== undefined && TERMINAL.has(c.phase));
  const missing = calls.length - finished.length;
  const ref = (c: DumpChild): CallRef => ({
    kind: 'production', name: c.name, url: run.url,
    ...(c.durationMs != null ? { durationMs: c.durationMs } : {}),
    ...(c.cacheStatus !== undefined ? { cacheHit: c.cacheStatus === CACHE_HIT } : {}),
    ...(c.phase ? { phase: c.phase } : {}),
  });
  const record = (c: DumpChild, seq: number, extra: Partial<CassetteCall> = {}): CassetteCall => {
    const fn = functionOf(c);
    const base: CassetteCall = { seq, function: fn, args: [], kwargs: inSignatureOrder(c.inputs ?? {}, identities.get(fn)), bound: true, ...extra };
    if (c.valueProblem) base.error = { type: 'UnrecoverableValue', message: `production's ${c.valueProblem}`, traceback: `production action ${c.name}: flyte read back a value the debugger cannot rebuild, so this call cannot be replayed with production's value` };
    else if (SUCCEEDED.has(c.phase ?? '')) base.result = c.result ?? null;
    else base.error = failureOf(c);
    return { ...base, source: 'production', ...(c.durationMs != null ? { durationMs: c.durationMs } : {}), ref: ref(c) };
  };
  const out: CassetteCall[] = [];
  let seq = 1;
  for (const f of foldMaps(finished, functionOf)) {
    if (f.kind === 'call') {
      out.push(record(f.child, seq++));
      continue;
    }
    const parent = seq++;
    const items = f.items.map((c, i) => record(c, seq++, { mapParent: parent, mapIndex: i }));
    const results: Wire[] = items.map(it => (it.error ? { $exception: it.error.type, message: it.error.message } : it.result ?? null));
    const starts = f.items.map(c => Date.parse(c.startedAt ?? '')).filter(Number.isFinite);
    const ends = f.items.map(c => Date.parse(c.endedAt ?? '')).filter(Number.isFinite);
    out.push({
      seq: parent, function: 'flyte_map', args: [functionOf(f.items[0]!)], kwargs: {}, result: results, source: 'production', mapOrder: 'unknown', mapSize: f.items.length,
      ...(starts.length && ends.length ? { durationMs: Math.max(...ends) - Math.min(...starts) } : {}),
    }, ...items);
    if (!f.grouped) notes.push(`${f.items.length} overlapping calls to ${functionOf(f.items[0]!)}() (calls #${parent + 1}-#${seq - 1}) were folded into one flyte_map: only a flyte_map runs calls side by side`);
  }
  if (unmapped.size) notes.push(`production called ${[...unmapped].join(', ')}, which ${unmapped.size === 1 ? 'is' : 'are'} not an external ${task.name} may call here (registered: ${task.registry.names().join(', ') || '(none)'}); the replay will say where the code differs`);
  if (missing) notes.push(`run ${run.name} is still ${run.phase}: ${finished.length} call${finished.length === 1 ? '' : 's'} had finished and were imported; ${missing} still running ${missing === 1 ? 'is' : 'are'} missing, and so is everything after ${missing === 1 ? 'it' : 'them'}`);
  if (dump.listing.filter === 'client') notes.push(`${dump.listing.reason ?? 'the backend does not filter by parent_name'}: listed all ${dump.listing.listed} actions of the run and kept the ${calls.length + conditions} direct children of ${run.action}`);
  if (run.taskName && run.taskName !== task.flyteName) notes.push(`run ${run.name} ran ${run.taskName}; replaying it on ${task.name} (${task.flyteName})`);
  const status: Cassette['status'] = SUCCEEDED.has(run.phase) ? 'ok' : TERMINAL.has(run.phase) ? 'error' : 'incomplete';
  const production: ProductionInfo = {
    run: run.name, url: run.url, project: run.project, domain: run.domain,
    task: run.taskName, taskVersion: run.taskVersion, discoveryVersion: run.discoveryVersion, sdkVersion: run.sdkVersion,
    phase: run.phase, startedAt: run.startedAt, endedAt: run.endedAt, importedAt: importedAt.toISOString(),
    listing: dump.listing.filter === 'parent_name' ? 'parent_name filter' : 'client-side (the backend refused the parent_name filter)',
    actions: finished.length,
    ...(missing ? { missing } : {}),
    unrecoverable: UNRECOVERABLE,
    ...(notes.length ? { notes } : {}),
  };
  const cassette: Cassette = {
    version: CASSETTE_VERSION,
    task: task.name,
    flyteName: task.flyteName,
    file: relative(dirname(cassettePath), task.module.path),
    codeHash: codeHash(task.code),
    inputs: run.inputs,
    recordedAt: run.startedAt ?? importedAt.toISOString(),
    status,
    output: status === 'ok' ? run.output ?? null : null,
    error: status === 'error' ? { type: failureType(run.phase, run.error), message: run.phase === 'aborted' ? run.abort ?? 'the run was aborted' : run.error?.message ?? `the run ended ${run.phase}` } : null,
    production,
    calls: out,
  };
  return { cassette, notes };
}
