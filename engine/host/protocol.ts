/**
 * Messages between a parent and the sandbox child process (JSON over the
 * Node IPC channel). Values travel in the wire encoding (`values/wire.ts`).
 */
import type { CassetteOptions } from '../cassette/setup.ts';
import type { RemoteSettings } from '../resolvers/remote.ts';
import type { RegistryEntry } from '../registry.ts';
import type { Limits } from '../run/limits.ts';
import { CallRecord, type CallOutcome, type CallRef, type ResultSource, type SandboxFailure } from '../run/outcome.ts';
import type { RunResult } from '../run/sandboxRun.ts';
import type { ProbeResult } from '../run/probe.ts';
import { fromWire, toWire, type Wire } from '../values/wire.ts';

export interface StartOptions {
  file: string;
  /** An unsaved buffer to use instead of the file on disk. */
  text?: string;
  task?: string;
  inputs?: Wire;
  /** A stubs object (as in a stubs file) or a path to one. */
  stubs?: Wire | string;
  /** A JS file of stub functions (QuickJS). */
  stubModule?: string;
  /** Calls answered by the real Python functions, and the interpreter that runs them. */
  forward?: 'all' | string[];
  python?: string;
  /** How error messages name where `python` is set (the CLI says --python). */
  pythonSettingName?: string;
  /** Seconds a forwarded call may take (0: no limit), and how messages name that setting. */
  forwardTimeout?: number;
  forwardTimeoutSettingName?: string;
  limits: Limits;
  raiseInSandbox?: boolean;
  externals?: string[];
  pythonVersion?: string;
  /** The Flyte profile's id (engine/profiles.ts); default: the default profile. */
  profile?: string;
  roots?: string[];
  /** Which calls the parent wants to answer first: all, none, or these names. */
  ask: 'all' | 'none' | string[];
  cassette?: CassetteOptions;
  /** Calls that become runs on the Flyte cluster. */
  remote?: RemoteSettings;
}

export type ToChild =
  | { t: 'start'; options: StartOptions }
  | { t: 'answer'; id: number; outcome: WireOutcome | null }
  | { t: 'probe'; id: number }
  | { t: 'stop' };

export type WireEvent =
  | { e: 'notice'; text: string }
  | { e: 'call'; record: WireRecord }
  | { e: 'result'; record: WireRecord }
  | { e: 'output'; text: string };

export type ToParent =
  | { t: 'events'; events: WireEvent[] }
  | { t: 'ask'; id: number; call: WireCall }
  | { t: 'probe'; id: number; result: ProbeResult | null }
  | { t: 'end'; result: WireResult }
  | { t: 'fatal'; message: string; usage: boolean };

export interface WireRecord {
  seq: number;
  function: string;
  args: Wire;
  kwargs: Wire;
  status: CallRecord['status'];
  result: Wire;
  error: CallRecord['error'] | null;
  source: ResultSource | null;
  startedUs: number;
  durationUs: number;
  mapParent: number | null;
  mapIndex: number | null;
  stdoutOffset: number;
  ref?: CallRef;
}

export interface WireCall {
  entry: RegistryEntry;
  seq: number;
  function: string;
  args: Wire;
  kwargs: Wire;
  mapParent: number | null;
  mapIndex: number | null;
  mapSize: number | null;
}

export type WireOutcome =
  | { kind: 'return'; value: Wire; source: ResultSource; ref?: CallRef }
  | { kind: 'raise'; type: string; message: string; traceback?: string; source: ResultSource; ref?: CallRef };

export interface WireResult {
  status: RunResult['status'];
  output: Wire;
  error: SandboxFailure | null;
  stdout: string;
  durationMs: number;
}

export function recordToWire(r: CallRecord): WireRecord {
  return {
    seq: r.seq, function: r.function, args: toWire(r.args), kwargs: toWire(r.kwargs), status: r.status,
    result: r.status === 'returned' ? toWire(r.result) : null, error: r.error ?? null, source: r.source ?? null,
    startedUs: r.startedUs, durationUs: r.durationUs, mapParent: r.mapParent ?? null, mapIndex: r.mapIndex ?? null, stdoutOffset: r.stdoutOffset,
    ...(r.ref ? { ref: r.ref } : {}),
  };
}

/** A record from the wire, or the update of one already known (the same object, so listeners keep it). */
export function recordFromWire(w: WireRecord, known?: CallRecord): CallRecord {
  const r = known ?? new CallRecord(w.seq, w.function, fromWire(w.args) as unknown[], kwargsFromWire(w.kwargs), w.startedUs, w.mapParent ?? undefined, w.mapIndex ?? undefined, w.stdoutOffset);
  r.status = w.status;
  r.result = w.status === 'returned' ? fromWire(w.result) : undefined;
  r.error = w.error ?? undefined;
  r.source = w.source ?? undefined;
  r.durationUs = w.durationUs;
  r.ref = w.ref;
  return r;
}

/** Keyword arguments are a plain object on both sides (their keys are always identifiers). */
export function kwargsFromWire(w: Wire): Record<string, unknown> {
  return Object.fromEntries(fromWire(w) as Map<string, unknown>);
}

export function outcomeToWire(o: CallOutcome): WireOutcome {
  return o.kind === 'return' ? { kind: 'return', value: toWire(o.value), source: o.source, ...(o.ref ? { ref: o.ref } : {}) } : o;
}

export function outcomeFromWire(o: WireOutcome): CallOutcome {
  return o.kind === 'return' ? { kind: 'return', value: fromWire(o.value), source: o.source, ...(o.ref ? { ref: o.ref } : {}) } : o;
}
