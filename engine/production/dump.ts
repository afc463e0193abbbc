/** What python/flyte_worker.py's import_run reads from flyte.remote (values in the wire encoding, as the sandbox would receive them). */
import type { Wire } from '../values/wire.ts';

export interface ErrorInfo {
  /** flyteidl2 ErrorInfo.Kind: 1 user, 2 system, 0 unspecified. */
  kind: number;
  message: string;
}

export interface DumpRun {
  name: string;
  url: string;
  project: string;
  domain: string;
  action: string;
  phase: string;
  taskName: string | null;
  taskVersion: string | null;
  discoveryVersion: string | null;
  sdkVersion: string | null;
  startedAt: string | null;
  endedAt: string | null;
  inputs: Wire;
  output?: Wire;
  error?: ErrorInfo;
  abort?: string;
  flyteVersion?: string | null;
}

export interface DumpChild {
  name: string;
  kind: 'task' | 'trace' | 'condition';
  taskName?: string | null;
  shortName?: string | null;
  version?: string | null;
  traceName?: string | null;
  group?: string | null;
  phase?: string;
  startedAt?: string | null;
  endedAt?: string | null;
  durationMs?: number | null;
  cacheStatus?: number;
  attempts?: number;
  recoveredFrom?: string | null;
  inputs?: Wire;
  result?: Wire;
  error?: ErrorInfo;
  abort?: string;
  /** A value flyte returned that the wire encoding cannot hold (a datetime, a custom class). */
  valueProblem?: string;
}

export interface RunDump {
  run: DumpRun;
  /** The orchestrator's direct children, in created_at order. */
  children: DumpChild[];
  listing: { filter: 'parent_name' | 'client'; listed: number; reason?: string };
}

export const TERMINAL = new Set(['succeeded', 'failed', 'aborted', 'timed_out', 'recovered']);
export const SUCCEEDED = new Set(['succeeded', 'recovered']);
/** CatalogCacheStatus.CACHE_HIT */
export const CACHE_HIT = 2;
