/**
 * Messages between a parent and the sandbox child process (JSON over the
 * Node IPC channel). Values travel in the wire encoding (`values/wire.ts`).
 */
import type { CassetteOptions } from '../cassette/setup.ts';
import type { RemoteSettings } from '../resolvers/remote.ts';
import type { RegistryEntry } from '../registry.ts';
import type { Limits } from '../run/limits.ts';
import type { CallOutcome, CallRef, ResultSource, SandboxFailure } from '../run/outcome.ts';
import type { RunResult } from '../run/sandboxRun.ts';
import type { ProbeResult } from '../run/probe.ts';
import { fromWire, toWire, type Wire } from '../values/wire.ts';
import type { RecordBlock } from './recordBlock.ts';

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

/**
 * What happened in the child, in order: call records (their state when the
 * batch was sent: a call that started and finished in between is sent once),
 * printed text, or a notice for the user.
 */
export type WireEvent = RecordBlock | string | { notice: string };

export type ToParent =
  | { t: 'events'; events: WireEvent[] }
  | { t: 'ask'; id: number; call: WireCall }
  | { t: 'probe'; id: number; result: ProbeResult | null }
  | { t: 'end'; result: WireResult }
  | { t: 'fatal'; message: string; usage: boolean };

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

export function outcomeToWire(o: CallOutcome): WireOutcome {
  return o.kind === 'return' ? { kind: 'return', value: toWire(o.value), source: o.source, ...(o.ref ? { ref: o.ref } : {}) } : o;
}

export function outcomeFromWire(o: WireOutcome): CallOutcome {
  return o.kind === 'return' ? { kind: 'return', value: fromWire(o.value), source: o.source, ...(o.ref ? { ref: o.ref } : {}) } : o;
}
