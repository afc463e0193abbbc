/**
 * What the language server and its clients say beyond LSP: the settings it
 * reads, and the last run a client saw (the VS Code extension sends each
 * finished debug session). Plain types, shared by the server and the
 * extension; nothing here imports vscode.
 */
import type { Wire } from '../engine/values/wire.ts';

/** `flyteSandbox.*` settings (VS Code), or `initializationOptions` of any other client. */
export interface Settings {
  /** Monty's type checker on each task (default true). */
  typeCheck: boolean;
  /** Inlay hints with what each external call returned in the last run (default true). */
  lastRunHints: boolean;
  /** The production Python version, which decides which names Flyte registers (default 3.12). */
  pythonVersion: '3.10' | '3.11' | '3.12' | '3.13' | '3.14';
  /** Milliseconds between the last keystroke and the diagnostics (default 75). */
  diagnosticsDelay: number;
  /** The Flyte release whose semantics the checks follow (engine/profiles.ts: '2.2', '2.6', 'pooled'); absent: the engine's default. */
  flyteProfile?: string;
}

export const DEFAULT_SETTINGS: Settings = { typeCheck: true, lastRunHints: true, pythonVersion: '3.12', diagnosticsDelay: 75 };

export function readSettings(raw: unknown): Settings {
  const r = (raw && typeof raw === 'object' ? raw : {}) as Partial<Record<keyof Settings, unknown>>;
  const versions = ['3.10', '3.11', '3.12', '3.13', '3.14'];
  return {
    typeCheck: typeof r.typeCheck === 'boolean' ? r.typeCheck : DEFAULT_SETTINGS.typeCheck,
    lastRunHints: typeof r.lastRunHints === 'boolean' ? r.lastRunHints : DEFAULT_SETTINGS.lastRunHints,
    pythonVersion: typeof r.pythonVersion === 'string' && versions.includes(r.pythonVersion) ? (r.pythonVersion as Settings['pythonVersion']) : DEFAULT_SETTINGS.pythonVersion,
    diagnosticsDelay: typeof r.diagnosticsDelay === 'number' && r.diagnosticsDelay >= 0 ? r.diagnosticsDelay : DEFAULT_SETTINGS.diagnosticsDelay,
    ...(typeof r.flyteProfile === 'string' && r.flyteProfile ? { flyteProfile: r.flyteProfile } : {}),
  };
}

/** One external call of a run, as far as the client knows it. */
export interface RunCall {
  seq: number;
  function: string;
  status: 'returned' | 'raised' | 'pending' | 'cancelled';
  /** Python repr of the result (possibly shortened). */
  result?: string;
  /** The exact result in the wire encoding, when the client has it. */
  value?: Wire;
  error?: { type: string; message: string };
  args?: string[];
  mapParent?: number;
  mapIndex?: number;
}

/** `flyteSandbox/lastRun` (client → server notification): a run the client watched. */
export interface LastRunParams {
  /** Absolute path of the program. */
  file: string;
  task: string;
  /** `codeHash` of the task's code at launch (engine/cassette/format.ts). */
  codeHash: string;
  /** The run's inputs in the wire encoding, when known. */
  inputs?: Wire;
  status: 'ok' | 'error' | 'incomplete';
  /** When the run ended (ISO time). */
  at: string;
  calls: RunCall[];
  /** Calls after these that the client did not send (a very long run). */
  omitted?: number;
}

export const LAST_RUN_NOTIFICATION = 'flyteSandbox/lastRun';

/** `flyteSandbox/stats` (request): the server process's memory, for benchmarks and bug reports. */
export interface ServerStats {
  rss: number;
  heapUsed: number;
  external: number;
  documents: number;
}

export const STATS_REQUEST = 'flyteSandbox/stats';
