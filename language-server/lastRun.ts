/**
 * The last run of each sandboxed task, from wherever the server can learn
 * it: the debug sessions a client reports (`flyteSandbox/lastRun`) and the
 * cassettes beside the file (`--record`, "Export the Run as a Cassette").
 * The newest wins; a run recorded from other code is kept but stale.
 */
import { readdirSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { readCassette, type Cassette } from '../engine/cassette/format.ts';
import { fromWire } from '../engine/values/wire.ts';
import { pyRepr } from '../engine/values/python.ts';
import type { LastRunParams, RunCall } from './protocol.ts';

export interface KnownRun extends LastRunParams {
  /** "the debug session", or the cassette's path. */
  origin: string;
}

const MAX_CASSETTE_BYTES = 64 * 1024 * 1024;

function truncate(s: string, n = 60): string {
  return s.length > n ? `${s.slice(0, n - 1)}…` : s;
}

function key(file: string, task: string): string {
  return `${resolve(file)}\0${task}`;
}

/** The arguments' reprs (a map item's arguments are recorded as a tuple). */
function argsOf(wire: Cassette['calls'][number]['args']): { args?: string[] } {
  const args = fromWire(wire);
  return Array.isArray(args) ? { args: args.map(a => truncate(pyRepr(a))) } : {};
}

function fromCassette(path: string, c: Cassette): KnownRun {
  const calls: RunCall[] = c.calls.map(call => ({
    seq: call.seq,
    function: call.function,
    status: call.error ? 'raised' : call.result !== undefined ? 'returned' : 'cancelled',
    ...(call.result !== undefined ? { result: pyRepr(fromWire(call.result)), value: call.result } : {}),
    ...(call.error ? { error: { type: call.error.type, message: call.error.message } } : {}),
    ...argsOf(call.args),
    ...(call.mapParent !== undefined ? { mapParent: call.mapParent, mapIndex: call.mapIndex! } : {}),
  }));
  return { file: resolve(dirname(path), c.file), task: c.task, codeHash: c.codeHash, inputs: c.inputs, status: c.status, at: c.recordedAt, calls, origin: path };
}

export class LastRuns {
  private readonly sessions = new Map<string, KnownRun>();
  private readonly cassettes = new Map<string, { mtimeMs: number; size: number; run: KnownRun | undefined }>();

  fromSession(params: LastRunParams): void {
    this.sessions.set(key(params.file, params.task), { ...params, file: resolve(params.file), origin: 'the debug session' });
  }

  /** Cassettes in the program's folder, read again only when they changed. */
  private cassettesBeside(file: string): KnownRun[] {
    const dir = dirname(resolve(file));
    let names: string[];
    try {
      names = readdirSync(dir).filter(n => n.endsWith('.json'));
    } catch {
      return [];
    }
    const out: KnownRun[] = [];
    for (const name of names) {
      const path = join(dir, name);
      let st;
      try {
        st = statSync(path);
      } catch {
        continue;
      }
      if (!st.isFile() || st.size > MAX_CASSETTE_BYTES) continue;
      let hit = this.cassettes.get(path);
      if (!hit || hit.mtimeMs !== st.mtimeMs || hit.size !== st.size) {
        let run: KnownRun | undefined;
        try {
          run = fromCassette(path, readCassette(path));
        } catch {
          run = undefined; // inputs.json, stubs.json, a cassette of another version: not a run we can show
        }
        hit = { mtimeMs: st.mtimeMs, size: st.size, run };
        this.cassettes.set(path, hit);
      }
      if (hit.run) out.push(hit.run);
    }
    return out;
  }

  /** The newest run of `task` in `file`. */
  forTask(file: string, task: string): KnownRun | undefined {
    const wanted = key(file, task);
    const candidates = [this.sessions.get(wanted), ...this.cassettesBeside(file).filter(r => key(r.file, r.task) === wanted)].filter((r): r is KnownRun => !!r);
    return candidates.sort((a, b) => Date.parse(b.at) - Date.parse(a.at))[0];
  }
}
