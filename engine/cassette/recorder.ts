/**
 * Writing a run down as a cassette: every external call with its result or
 * exception, map parent/item, duration and source, plus the task, a hash of
 * its code and the inputs. Rewritten (atomically) while the run goes on and
 * when it ends however it ends, so a stopped session loses nothing.
 */
import { dirname, relative } from 'node:path';
import type { SandboxTask } from '../extract/tasks.ts';
import type { CallRecord, SandboxFailure } from '../run/outcome.ts';
import { toWire } from '../values/wire.ts';
import { callToCassette, CASSETTE_VERSION, codeHash, writeCassette, type Cassette } from './format.ts';
import { parseRedactPath, redactCall } from './redact.ts';

const FLUSH_MS = 1000;

export class CassetteRecorder {
  private readonly redact;
  private timer: NodeJS.Timeout | undefined;
  private latest: (() => CallRecord[]) | undefined;

  constructor(readonly path: string, private readonly task: SandboxTask, private readonly inputs: Record<string, unknown>, redact: readonly string[] = []) {
    this.redact = redact.map(parseRedactPath);
  }

  private cassette(calls: readonly CallRecord[], status: Cassette['status'], output?: unknown, error?: SandboxFailure): Cassette {
    return {
      version: CASSETTE_VERSION,
      task: this.task.name,
      flyteName: this.task.flyteName,
      file: relative(dirname(this.path), this.task.module.path),
      codeHash: codeHash(this.task.code),
      inputs: toWire(this.inputs),
      recordedAt: new Date().toISOString(),
      status,
      output: status === 'ok' ? toWire(output) : null,
      error: error ? { type: error.type, message: error.message } : null,
      calls: calls.filter(c => c.status === 'returned' || c.status === 'raised').map(c => redactCall(callToCassette(c), this.redact)),
    };
  }

  /** Note that calls changed; they are written within a second. */
  changed(calls: () => CallRecord[]): void {
    this.latest = calls;
    this.timer ??= setTimeout(() => this.flush(), FLUSH_MS);
  }

  private flush(): void {
    this.timer = undefined;
    if (this.latest) writeCassette(this.path, this.cassette(this.latest(), 'incomplete'));
  }

  /** The run ended (or was stopped: status 'incomplete'). */
  finish(calls: readonly CallRecord[], status: Cassette['status'], output?: unknown, error?: SandboxFailure): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    writeCassette(this.path, this.cassette(calls, status, output, error));
  }
}
