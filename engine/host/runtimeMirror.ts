/**
 * What the parent knows of a runtime in a child process without asking it:
 * its last answers to the requests that only look (threads, inputs, stubs),
 * and the events since (threads started and exited, calls, printed output).
 * `RemoteRuntime` answers from here while the child is held by the sandbox,
 * so these answers are the child's own, as of the last time it could speak.
 */
import type { LaunchInfo, StackFrameInfo, StubInfo, ThreadInfo } from '../debug/api.ts';
import { MAIN_THREAD } from '../debug/api.ts';
import type { CallRecord } from '../run/outcome.ts';
import { CallsBySeq } from './callsBySeq.ts';

export class RuntimeMirror {
  private info: LaunchInfo | undefined;
  private knownThreads: ThreadInfo[] = [];
  private knownInputs: Record<string, unknown> = {};
  private knownStubs: StubInfo[] = [];
  private out = '';
  private readonly records = new CallsBySeq();
  private readonly asking = new Map<number, string>();

  launched(info: LaunchInfo): void {
    this.info = info;
  }

  /** A request went to the child: its reply will be recorded under `method`. */
  asked(id: number, method: string, _args: unknown[]): void {
    if (method === 'threads' || method === 'inputs' || method === 'stubs' || method === 'stdout') this.asking.set(id, method);
  }

  /** The child answered request `id`: remember what it said (and pass it on unchanged). */
  reply<T>(id: number, value: T): T {
    const method = this.asking.get(id);
    this.asking.delete(id);
    if (method === 'threads') this.knownThreads = value as ThreadInfo[];
    else if (method === 'inputs') this.knownInputs = value as Record<string, unknown>;
    else if (method === 'stubs') this.knownStubs = value as StubInfo[];
    else if (method === 'stdout') this.out = value as string;
    return value;
  }

  call(r: CallRecord): void {
    this.records.set(r);
  }

  event(name: string, args: unknown[]): void {
    if (name === 'thread') {
      const { reason, threadId } = args[0] as { reason: string; threadId: number };
      if (reason === 'exited') this.knownThreads = this.knownThreads.filter(t => t.id !== threadId);
      else if (!this.knownThreads.some(t => t.id === threadId)) this.knownThreads.push({ id: threadId, name: `flyte_map item (thread ${threadId})` });
    } else if (name === 'output') {
      const o = args[0] as { category: string; text: string };
      if (o.category === 'stdout') this.out += o.text;
    } else if (name === 'rewound') {
      const { seq } = args[0] as { seq: number };
      this.records.dropFrom(seq);
    }
  }

  threads(): ThreadInfo[] {
    const main = this.knownThreads.find(t => t.id === MAIN_THREAD) ?? { id: MAIN_THREAD, name: `${this.info?.task ?? 'sandbox'} (sandbox)` };
    return [main, ...this.knownThreads.filter(t => t.id !== MAIN_THREAD)];
  }

  /** The stack of a thread whose sandbox is running Python code: one frame saying so. */
  stack(threadId: number, silentMs: number): StackFrameInfo[] {
    const seconds = Math.round(silentMs / 1000);
    return [{
      id: threadId * 1000,
      name: `running Python code (${seconds} s without an external call)`,
      label: true,
      ...(this.info ? { file: this.info.file, line: this.info.line } : { line: 1 }),
      column: 1,
    }];
  }

  inputs(): Record<string, unknown> {
    return this.knownInputs;
  }

  stubs(): StubInfo[] {
    return this.knownStubs;
  }

  stdout(): string {
    return this.out;
  }

  calls(): CallRecord[] {
    return this.records.values();
  }
}
