/**
 * Drives the real debug adapter (`node dist/debugAdapter.js`, a separate
 * process) over DAP and keeps a transcript of the traffic, masked of
 * volatile values, for golden comparison (as vscode-js-debug does).
 *
 * Events are written to the transcript where the test waits for them;
 * events nobody waited for (output, thread, continued) are written, in a
 * canonical order, just before the next event the test waits for that came
 * after them; call statuses once, at the end. Their interleaving with
 * responses depends on timing; their order does not.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { DebugClient } from '@vscode/debugadapter-testsupport';
import type { DebugProtocol } from '@vscode/debugprotocol';

const ROOT = join(import.meta.dirname, '..', '..');
export const ADAPTER = join(ROOT, 'dist', 'debugAdapter.js');
const GOLDEN_DIR = join(import.meta.dirname, 'golden');

/** An event written to the transcript (`printed`) and/or returned to the test (`awaited`). */
type Flags = DebugProtocol.Event & { printed?: boolean; awaited?: boolean };

const VOLATILE_NUMBERS = new Set(['variablesReference', 'durationMs', 'startedMs', 'id', 'frameId']);

class RecordingClient extends DebugClient {
  readonly events: DebugProtocol.Event[] = [];

  override emit(name: string | symbol, ...args: unknown[]): boolean {
    const e = args[0] as DebugProtocol.Event | undefined;
    if (e && typeof e === 'object' && e.type === 'event') this.events.push(e);
    return super.emit(name, ...args);
  }
}

export class DapSession {
  /** DAP_TRACE=1 prints the transcript as it grows (for debugging a test). */
  readonly lines: string[] = process.env.DAP_TRACE ? new Proxy([] as string[], { get: (t, k) => (k === 'push' ? (...a: string[]) => { for (const l of a) console.error(l.slice(0, 400)); return t.push(...a); } : Reflect.get(t, k)) }) : [];
  private seen = 0;
  private constructor(private readonly dc: RecordingClient, private readonly masks: [string, string][]) {}

  static async start(masks: Record<string, string> = {}): Promise<DapSession> {
    const dc = new RecordingClient('node', ADAPTER, 'flyte-sandbox', { env: { ...process.env } }, true);
    dc.defaultTimeout = 15_000;
    await dc.start();
    return new DapSession(dc, Object.entries(masks).sort((a, b) => b[0].length - a[0].length));
  }

  private mask(value: unknown): string {
    let text = JSON.stringify(value, (k, v: unknown) => (VOLATILE_NUMBERS.has(k) && typeof v === 'number' && v !== 0 ? `<${k}>` : v));
    for (const [from, to] of this.masks) text = text.split(from).join(to);
    return text;
  }

  /** Index of the latest event the test waited for: the transcript ends there (what came later depends on timing). */
  private lastAwaited = -1;

  /** Calls as the flyteSandbox/calls events reported them, last status wins: written once, at the end (batching depends on timing). */
  private readonly calls = new Map<number, string>();

  /**
   * Write events that arrived (before `upTo`, when given) and were not waited
   * for, grouped so timing cannot reorder the transcript.
   */
  private flushUnseen(upTo?: DebugProtocol.Event | number): void {
    const end = typeof upTo === 'number' ? upTo : upTo ? this.dc.events.indexOf(upTo) : this.dc.events.length;
    const fresh = this.dc.events.slice(this.seen, Math.max(this.seen, end)).filter(e => !(e as Flags).printed);
    this.seen = Math.max(this.seen, end);
    for (const e of fresh) (e as Flags).printed = true;
    const output = fresh.filter(e => e.event === 'output').map(e => (e.body as { category?: string; output: string })).reduce<Record<string, string>>((acc, o) => {
      acc[o.category ?? 'console'] = (acc[o.category ?? 'console'] ?? '') + o.output;
      return acc;
    }, {});
    for (const [category, text] of Object.entries(output).sort()) this.lines.push(`  ~ output ${category}: ${this.mask(text)}`);
    const others = fresh.filter(e => e.event !== 'output' && e.event !== 'flyteSandbox/calls');
    for (const e of others.map(e => `  ~ ${e.event} ${this.mask(e.body ?? {})}`).sort()) this.lines.push(e);
    for (const e of fresh.filter(x => x.event === 'flyteSandbox/calls')) {
      for (const c of (e.body as { calls: { seq: number; function: string; status: string }[] }).calls) this.calls.set(c.seq, `#${c.seq} ${c.function} ${c.status}`);
    }
    for (const e of fresh.filter(x => x.event === 'flyteSandbox/rewound')) {
      for (const seq of [...this.calls.keys()]) if (seq >= (e.body as { seq: number }).seq) this.calls.delete(seq);
    }
  }

  // Requests do not write pending events: when an event arrives relative to a request depends on
  // timing, while the order of events does not (it is decided in the runtime's single thread).
  async request<T extends DebugProtocol.Response>(command: string, args?: unknown): Promise<T['body']> {
    this.lines.push(`→ ${command} ${this.mask(args ?? {})}`);
    const r = await this.dc.send(command, args) as T;
    this.lines.push(`← ${command} ${this.mask(r.body ?? {})}`);
    return r.body;
  }

  /** A request that must fail; returns the error message. */
  async failing(command: string, args?: unknown): Promise<string> {
    this.lines.push(`→ ${command} ${this.mask(args ?? {})}`);
    try {
      await this.dc.send(command, args);
    } catch (e) {
      const message = (e as Error).message;
      this.lines.push(`← ${command} ✗ ${this.mask(message)}`);
      return message;
    }
    assert.fail(`${command} was expected to fail`);
  }

  async event<T = Record<string, unknown>>(name: string, predicate: (body: T) => boolean = () => true): Promise<T> {
    return (await this.first<T>([name], predicate)).body;
  }

  /** The first not yet seen event among `names` (in arrival order). */
  async first<T = Record<string, unknown>>(names: string[], predicate: (body: T) => boolean = () => true): Promise<{ event: string; body: T }> {
    const deadline = Date.now() + 15_000;
    for (;;) {
      const found = this.dc.events.find(e => names.includes(e.event) && !(e as Flags).awaited && predicate(e.body as T));
      if (found) {
        const flags = found as Flags;
        flags.awaited = true;
        this.lastAwaited = Math.max(this.lastAwaited, this.dc.events.indexOf(found));
        if (!flags.printed) {
          this.flushUnseen(found);
          flags.printed = true;
          this.lines.push(`← event ${found.event} ${this.mask(found.body ?? {})}`);
          if (found.event === 'flyteSandbox/calls') this.flushUnseen();
        }
        return { event: found.event, body: found.body as T };
      }
      if (Date.now() > deadline) assert.fail(`no ${names.join(' or ')} event within 15 s; saw: ${this.dc.events.map(e => e.event).join(', ')}`);
      await new Promise(r => setTimeout(r, 5));
    }
  }

  /** initialize + launch + the configuration requests + configurationDone, as VS Code sends them. */
  async launch(args: Record<string, unknown>, configure: () => Promise<void> = async () => undefined): Promise<void> {
    await this.request('initialize', { adapterID: 'flyte-sandbox', linesStartAt1: true, columnsStartAt1: true, pathFormat: 'path', supportsRunInTerminalRequest: false });
    this.lines.push(`→ launch ${this.mask(args)}`);
    const launched = this.dc.send('launch', args);
    await this.event('initialized');
    await configure();
    await this.request('configurationDone', {});
    const r = await launched;
    this.lines.push(`← launch ${this.mask(r.body ?? {})}`);
  }

  /** Text of all output events so far (not masked). */
  output(category?: string): string {
    return this.dc.events.filter(e => e.event === 'output' && (!category || (e.body as { category?: string }).category === category)).map(e => (e.body as { output: string }).output).join('');
  }

  private closed = false;

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.dc.stop();
  }

  /** Compare the transcript with test/debug/golden/<name>.txt; UPDATE_GOLDENS=1 rewrites it. */
  matchGolden(name: string): void {
    this.flushUnseen(this.lastAwaited + 1);
    const file = join(GOLDEN_DIR, `${name}.txt`);
    const calls = [...this.calls.entries()].sort((a, b) => a[0] - b[0]).map(([, c]) => c);
    const text = [...this.lines, ...(calls.length ? [`calls at the end: ${calls.join(', ')}`] : [])].join('\n') + '\n';
    if (process.env.UPDATE_GOLDENS || !existsSync(file)) {
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, text);
      if (!process.env.UPDATE_GOLDENS) assert.fail(`${file} did not exist and was written: check it in (or run with UPDATE_GOLDENS=1)`);
      return;
    }
    assert.equal(text, readFileSync(file, 'utf8'), `DAP transcript changed: compare with ${file}; rerun with UPDATE_GOLDENS=1 (npm run test:goldens) if the change is intended`);
  }
}
