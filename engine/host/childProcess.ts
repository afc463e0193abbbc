/**
 * A Node child process that runs the sandbox for a parent: started with the
 * bundled entry (dist/) or through tsx from source, watched with pings, and
 * killed when it stops answering for longer than the tolerance (a worker
 * thread could not be stopped: see monty-js-notes.md).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { childEnv, exitWithParent, killTree, memoryBoundHit, trackChild } from './lifetime.ts';

const PING_MS = 1000;
const NATIVE_CRASH = new Set(['SIGSEGV', 'SIGBUS', 'SIGILL', 'SIGABRT', 'SIGFPE']);

export interface ChildEvents {
  message(m: unknown): void;
  /** The child stopped answering and was killed. */
  unresponsive(silentMs: number): void;
  /** The child exited on its own (a crash, unless `stop()` was called); `memory`: it stopped itself past its memory bound. */
  exit(description: string, stderrTail: string, memory?: { rss: number; bound: number }): void;
  /** The child has missed its pings: its event loop is held (a sandbox running Python code without pausing). */
  busy?(silentMs: number): void;
  /** A busy child answered again. */
  idle?(): void;
}

/** `bundled` beside the running bundle in dist/, else `source` (relative to this file) through tsx. */
function entry(bundled: string, source: string): { module: string; execArgv: string[] } {
  const inDist = fileURLToPath(new URL(`./${bundled}`, import.meta.url));
  if (existsSync(inDist)) return { module: inDist, execArgv: [] };
  return { module: fileURLToPath(new URL(`./${source}`, import.meta.url)), execArgv: ['--import', 'tsx'] };
}

function forkChild(module: string, execArgv: string[]): ChildProcess {
  // Its own process group, so that killing it takes what it started (the Python worker) along.
  return fork(module, [], { execArgv, stdio: ['ignore', 'ignore', 'pipe', 'ipc'], serialization: 'json', detached: true, env: childEnv() });
}

/** Children started ahead, by bundle name; on globalThis, since the entry that starts them is a bundle of its own. */
const PRESTARTED = Symbol.for('flyte-sandbox.prestartedChildren');

function prestarted(): Map<string, ChildProcess> {
  const g = globalThis as { [PRESTARTED]?: Map<string, ChildProcess> };
  return (g[PRESTARTED] ??= new Map());
}

/**
 * Start the child of `bundled` now, for the next `WatchedChild` of it to
 * take over: for an entry point that will need it, to start it while the
 * rest of the program loads (debug-adapter/boot.ts, cli/boot.ts). Killed at
 * exit unless taken; it also dies with this process on its own (its IPC
 * channel closing, later its watcher thread: exitWithParent).
 */
export function prestartChild(bundled: string, source: string): void {
  const { module, execArgv } = entry(bundled, source);
  const child = forkChild(module, execArgv);
  // Until it is taken it must not keep this process alive (a command that ends on a usage error).
  keepsAlive(child, false);
  prestarted().set(bundled, child);
  process.once('exit', () => {
    if (prestarted().get(bundled) !== child) return;
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      // gone already
    }
  });
}

function keepsAlive(child: ChildProcess, yes: boolean): void {
  const handles = [child, child.channel, child.stderr as { ref?(): void; unref?(): void } | null];
  for (const h of handles) {
    if (yes) h?.ref?.();
    else h?.unref?.();
  }
}

function takePrestarted(bundled: string): ChildProcess | undefined {
  const child = prestarted().get(bundled);
  prestarted().delete(bundled);
  if (!child) return undefined;
  if (child.connected && child.exitCode === null && child.signalCode === null) {
    keepsAlive(child, true);
    return child;
  }
  try {
    child.kill('SIGKILL');
  } catch {
    // gone already
  }
  return undefined;
}

export class WatchedChild {
  private readonly child: ChildProcess;
  private lastAnswer = Date.now();
  private readonly watchdog: NodeJS.Timeout;
  private stderr = '';
  private done = false;
  private held = false;
  private readonly busyAfterMs: number;

  /** How long the child may stay silent before it is killed (adjustable once the run's limits are known). */
  toleranceMs: number;

  constructor(bundled: string, source: string, toleranceMs: number, private readonly on: ChildEvents) {
    this.toleranceMs = toleranceMs;
    const { module, execArgv } = entry(bundled, source);
    this.child = takePrestarted(bundled) ?? forkChild(module, execArgv);
    trackChild(this.child, true);
    this.child.stderr!.on('data', (d: Buffer) => {
      this.stderr = (this.stderr + d.toString()).slice(-4000);
    });
    this.child.on('message', (m: unknown) => {
      this.lastAnswer = Date.now();
      if (this.held) {
        this.held = false;
        this.on.idle?.();
      }
      if ((m as { t?: string }).t === 'pong') return;
      this.on.message(m);
    });
    this.child.on('exit', (code, signal) => {
      if (this.done) return;
      this.finish();
      const memory = memoryBoundHit(this.stderr);
      if (memory) {
        this.on.exit(`stopped at ${Math.round(memory.rss / 1048576)} MiB of memory, past its bound of ${Math.round(memory.bound / 1048576)} MiB`, this.stderr.replace(/\s*flyte-sandbox: memory bound exceeded:.*$/s, '').trim(), memory);
        return;
      }
      this.on.exit(signal ? `killed by ${signal}${NATIVE_CRASH.has(signal) ? ': a native crash inside the interpreter (Monty), e.g. on code or a stub expression nested too deeply; the debugger itself is unaffected' : ''}` : `exit code ${code}`, this.stderr.trim());
    });
    const every = Math.min(PING_MS, Math.max(50, toleranceMs / 4));
    this.busyAfterMs = 2 * every;
    this.watchdog = setInterval(() => {
      const silent = Date.now() - this.lastAnswer;
      if (silent > this.toleranceMs) {
        this.finish();
        this.on.unresponsive(silent);
        return;
      }
      if (!this.held && silent > this.busyAfterMs) {
        this.held = true;
        this.on.busy?.(silent);
      }
      if (this.child.connected) this.child.send({ t: 'ping' });
    }, every);
  }

  /** The child is not answering its pings right now (see `busy`). */
  get busy(): boolean {
    return this.held;
  }

  /** Stopped, killed or exited. */
  get exited(): boolean {
    return this.done;
  }

  /** How long the child has not answered, in ms. */
  get silentMs(): number {
    return Date.now() - this.lastAnswer;
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
    killTree(this.child);
  }

  private finish(): void {
    if (this.done) return;
    this.done = true;
    clearInterval(this.watchdog);
    killTree(this.child);
  }
}

/**
 * In the child: answer the parent's pings (a blocked event loop cannot, which
 * is the point), and die with the parent. `watchParent: false`: the caller
 * starts the parent-death thread itself (exitWithParent) once it is past its
 * cold start; until then a parent that dies is noticed through the IPC
 * channel closing.
 */
export function answerPings(options: { watchParent?: boolean } = {}): void {
  process.on('message', (m: { t?: string }) => {
    if (m.t === 'ping') process.send!({ t: 'pong' });
  });
  process.on('disconnect', () => process.exit(0));
  if (options.watchParent !== false) exitWithParent();
  // Our own bug: one line on stderr (the parent shows its tail), not a Node stack, then out.
  const fatal = (e: unknown) => {
    process.stderr.write(`internal error in the sandbox process: ${e instanceof Error ? e.message : String(e)}${e instanceof Error && process.env.FLYTE_SANDBOX_DEBUG ? `\n${e.stack}` : ''}\n`);
    process.exit(70);
  };
  process.on('uncaughtException', fatal);
  process.on('unhandledRejection', fatal);
}
