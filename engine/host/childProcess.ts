/**
 * A Node child process that runs the sandbox for a parent: started with the
 * bundled entry (dist/) or through tsx from source, watched with pings, and
 * killed when it stops answering for longer than the tolerance (a worker
 * thread could not be stopped: see monty-js-notes.md).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const PING_MS = 1000;

export interface ChildEvents {
  message(m: unknown): void;
  /** The child stopped answering and was killed. */
  unresponsive(silentMs: number): void;
  /** The child exited on its own (a crash, unless `stop()` was called). */
  exit(description: string, stderrTail: string): void;
}

/** `bundled` beside the running bundle in dist/, else `source` (relative to this file) through tsx. */
function entry(bundled: string, source: string): { module: string; execArgv: string[] } {
  const inDist = fileURLToPath(new URL(`./${bundled}`, import.meta.url));
  if (existsSync(inDist)) return { module: inDist, execArgv: [] };
  return { module: fileURLToPath(new URL(`./${source}`, import.meta.url)), execArgv: ['--import', 'tsx'] };
}

export class WatchedChild {
  private readonly child: ChildProcess;
  private lastAnswer = Date.now();
  private readonly watchdog: NodeJS.Timeout;
  private stderr = '';
  private done = false;

  /** How long the child may stay silent before it is killed (adjustable once the run's limits are known). */
  toleranceMs: number;

  constructor(bundled: string, source: string, toleranceMs: number, private readonly on: ChildEvents) {
    this.toleranceMs = toleranceMs;
    const { module, execArgv } = entry(bundled, source);
    this.child = fork(module, [], { execArgv, stdio: ['ignore', 'ignore', 'pipe', 'ipc'], serialization: 'json' });
    this.child.stderr!.on('data', (d: Buffer) => {
      this.stderr = (this.stderr + d.toString()).slice(-4000);
    });
    this.child.on('message', (m: unknown) => {
      this.lastAnswer = Date.now();
      if ((m as { t?: string }).t === 'pong') return;
      this.on.message(m);
    });
    this.child.on('exit', (code, signal) => {
      if (this.done) return;
      this.finish();
      this.on.exit(signal ? `killed by ${signal}` : `exit code ${code}`, this.stderr.trim());
    });
    this.watchdog = setInterval(() => {
      const silent = Date.now() - this.lastAnswer;
      if (silent > this.toleranceMs) {
        this.finish();
        this.on.unresponsive(silent);
        return;
      }
      if (this.child.connected) this.child.send({ t: 'ping' });
    }, Math.min(PING_MS, Math.max(50, toleranceMs / 4)));
  }

  send(m: unknown): void {
    if (!this.done && this.child.connected) this.child.send(m as object);
  }

  /** Kill the child; no exit or unresponsive event follows. */
  stop(): void {
    this.finish();
  }

  /** Kill the child and report it through `exit`, like any other end. */
  kill(): void {
    this.child.kill('SIGKILL');
  }

  private finish(): void {
    if (this.done) return;
    this.done = true;
    clearInterval(this.watchdog);
    this.child.kill('SIGKILL');
  }
}

/** In the child: answer the parent's pings (a blocked event loop cannot, which is the point). */
export function answerPings(): void {
  process.on('message', (m: { t?: string }) => {
    if (m.t === 'ping') process.send!({ t: 'pong' });
  });
  process.on('disconnect', () => process.exit(0));
}
