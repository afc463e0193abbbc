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
import { parseRedactPath, redactCall, redactInputs, redactOutput } from './redact.ts';

const FLUSH_MS = 1000;

export class CassetteRecorder {
  private readonly redact;
  private timer: NodeJS.Timeout | undefined;
  private latest: (() => CallRecord[]) | undefined;

  private failed = false;

  /** `report`: a write that fails is told there, once, and the run goes on (its result is not lost with the file). */
  constructor(readonly path: string, private readonly task: SandboxTask, private readonly inputs: Record<string, unknown>, redact: readonly string[] = [], private readonly report: (text: string) => void = () => undefined) {
    this.redact = redact.map(parseRedactPath);
  }

  private write(c: Cassette): void {
    try {
      writeCassette(this.path, c);
      this.failed = false;
    } catch (e) {
      if (!this.failed) this.report(`cassette: cannot write ${this.path}: ${(e as Error).message.replace(/, open '.*'$/, '')}; the run goes on without it`);
      this.failed = true;
    }
  }

  private cassette(calls: readonly CallRecord[], status: Cassette['status'], output?: unknown, error?: SandboxFailure): Cassette {
    return {
      version: CASSETTE_VERSION,
      task: this.task.name,
      flyteName: this.task.flyteName,
      file: relative(dirname(this.path), this.task.module.path),
      codeHash: codeHash(this.task.code),
      inputs: redactInputs(toWire(this.inputs), this.redact),
      recordedAt: new Date().toISOString(),
      status,
      output: status === 'ok' ? redactOutput(toWire(output), this.redact) : null,
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
    if (this.latest) this.write(this.cassette(this.latest(), 'incomplete'));
  }

  /** The run ended (or was stopped: status 'incomplete'). */
  finish(calls: readonly CallRecord[], status: Cassette['status'], output?: unknown, error?: SandboxFailure): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.write(this.cassette(calls, status, output, error));
  }
}
