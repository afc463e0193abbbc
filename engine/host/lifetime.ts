/**
 * Processes we start die with the process that started them, whatever ends
 * it: a clean exit, a signal, or SIGKILL.
 *
 * - A parent kills its children (and their process groups, so a Python
 *   worker under a sandbox child goes too) when it exits; entry points (CLI,
 *   debug adapter) turn SIGINT/SIGTERM/SIGHUP into such an exit.
 * - A child watches its parent from a worker thread, so it notices even while
 *   its main thread is stuck in the interpreter (`while True: pass`): when it
 *   is re-parented, it kills its process group, itself included. SIGKILL of
 *   the parent runs no code there, so this is the only thing that helps then.
 *   The Python worker does the same from a thread of its own.
 */
import type { ChildProcess } from 'node:child_process';
import { Worker } from 'node:worker_threads';

/**
 * The memory bound of a sandbox process. Monty's maxMemory counts the heap
 * it knows of and checks it after each allocation; the process also holds
 * the allocator's overhead, what Monty does not count (measured: a list of
 * strings reaches 678 MB of RSS when Monty counts 512 MiB, a dict of lists
 * keeps growing past 800 MB without Monty noticing) and Node itself. So the
 * process as a whole is stopped past maxMemory plus half of it (at least
 * 256 MiB): Monty's own MemoryError, with its line, comes first whenever
 * Monty sees the heap grow.
 */
export function memoryBound(maxMemory: number | null | undefined): number {
  // No heap limit (production's behaviour, `--no-limits`): no bound either.
  if (maxMemory === null || maxMemory === undefined) return 0;
  return maxMemory + Math.max(256 * 1024 * 1024, Math.floor(maxMemory / 2));
}

/** Why a sandbox process was stopped for its memory, for the user. */
export function memoryHint(maxMemory: number | null, bound: number): string {
  return `the debugger stops the sandbox process past ${Math.round(bound / 1048576)} MiB: what it held when the run started (its inputs, the program) plus the heap limit (limits.maxMemory, ${maxMemory} bytes; Flyte itself sets none) and room for the interpreter, since Monty counts only part of what it allocates (it did not raise MemoryError itself). Monty does not say on which line the memory went`;
}

/** What a child writes on stderr, just before it stops itself, when it went past its memory bound. */
export const MEMORY_BOUND_MARK = 'flyte-sandbox: memory bound exceeded:';

/** Environment variable naming the parent's pid, for children that watch it. */
export const PARENT_PID_ENV = 'FLYTE_SANDBOX_PARENT_PID';
/** How often a child checks that its parent is still there. */
export const PARENT_CHECK_MS = 250;

const children = new Map<ChildProcess, { group: boolean }>();
let exitHookInstalled = false;

/** Kill `child` (its whole process group when it leads one), now. */
export function killTree(child: ChildProcess): void {
  const entry = children.get(child);
  if (entry?.group && child.pid !== undefined && child.exitCode === null && child.signalCode === null) {
    try {
      process.kill(-child.pid, 'SIGKILL');
      return;
    } catch {
      // the group is gone already; fall through to the child itself
    }
  }
  try {
    child.kill('SIGKILL');
  } catch {
    // already dead
  }
}

/** Kill every child still running (synchronous: safe in an 'exit' handler). */
export function killAllChildren(): void {
  for (const child of [...children.keys()]) killTree(child);
}

/** Remember `child` so that it dies when this process exits; `group`: it leads its own process group. */
export function trackChild(child: ChildProcess, group = false): void {
  children.set(child, { group });
  // The group may outlive its leader (a Python worker under a sandbox child): kill it when the leader exits.
  child.once('exit', () => {
    if (group && child.pid !== undefined) {
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        // nothing left in the group
      }
    }
    children.delete(child);
  });
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.on('exit', killAllChildren);
  }
}

/** The environment for a child that should watch this process. */
export function childEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return { ...process.env, ...extra, [PARENT_PID_ENV]: String(process.pid) };
}

const SIGNALS: Record<string, number> = { SIGINT: 2, SIGTERM: 15, SIGHUP: 1 };
let signalsHandled = false;

/**
 * For entry points only (never in a child, whose main thread may be stuck:
 * a JS handler would keep the default action from killing it): a signal
 * ends the process the way an exit does, children included. `before` runs
 * first, briefly (e.g. to finish writing a cassette).
 */
export function exitOnSignals(before?: (signal: string) => void): void {
  if (signalsHandled) return;
  signalsHandled = true;
  for (const [name, number] of Object.entries(SIGNALS)) {
    process.on(name as NodeJS.Signals, () => {
      try {
        before?.(name);
      } finally {
        killAllChildren();
        process.exit(128 + number);
      }
    });
  }
}

const WATCHER = `
const { workerData, parentPort } = require('node:worker_threads');
const { writeSync } = require('node:fs');
const first = process.ppid;
const parent = workerData.parent;
let bound = 0;
parentPort.on('message', m => { bound = m.bound; });
function gone() {
  if (process.ppid !== first) return true;
  if (parent === first) return false;
  try { process.kill(parent, 0); return false; } catch (e) { return e.code === 'ESRCH'; }
}
function end() {
  // End the whole process group (this process leads it when it was started detached).
  try { process.kill(-process.pid, 'SIGKILL'); } catch {}
  process.kill(process.pid, 'SIGKILL');
}
let ticks = 0;
setInterval(() => {
  if (bound) {
    const rss = process.memoryUsage.rss();
    if (rss > bound) {
      // The main thread may be stuck in the interpreter: write straight to fd 2, then stop.
      try { writeSync(2, '\\n' + workerData.mark + ' ' + rss + ' ' + bound + '\\n'); } catch {}
      end();
    }
  }
  if (++ticks % workerData.parentEvery === 0 && gone()) end();
}, workerData.every);
`;

let watching = false;
let watcher: Worker | undefined;

/**
 * In a child: die (with its process group) as soon as the parent is gone,
 * even while the main thread is busy. The parent is the process that started
 * this one, and also the one named by PARENT_PID_ENV when that is another
 * (a wrapper in between).
 */
export function exitWithParent(): void {
  if (watching) return;
  watching = true;
  const fromEnv = Number(process.env[PARENT_PID_ENV]);
  const parent = Number.isInteger(fromEnv) && fromEnv > 0 ? fromEnv : process.ppid;
  // Memory is checked every 25 ms (a bomb allocates fast), the parent every PARENT_CHECK_MS.
  const every = 25;
  watcher = new Worker(WATCHER, { eval: true, workerData: { parent, every, parentEvery: Math.max(1, Math.round(PARENT_CHECK_MS / every)), mark: MEMORY_BOUND_MARK }, resourceLimits: { maxOldGenerationSizeMb: 8, maxYoungGenerationSizeMb: 2 }, stdout: false, stderr: false });
  watcher.unref();
}

/** In a child that watches its parent: stop this process (with a line on stderr) if its RSS goes past `bytes`. */
export function boundMemory(bytes: number): void {
  watcher?.postMessage({ bound: bytes });
}

/**
 * The bound counted from what this process holds now (its inputs parsed, the
 * program loaded): the sandbox's heap limit is about what the sandbox
 * allocates, and a 50 MB inputs file alone takes hundreds of MiB on the host
 * side, as it does in Flyte's own process; `inputBytes` (the inputs as JSON)
 * get room of their own on top. 0 stays no bound.
 */
export function boundMemoryFromNow(bytes: number, inputBytes = 0): void {
  boundMemory(bytes ? bytes + process.memoryUsage.rss() + INPUT_ROOM * inputBytes : 0);
}

/**
 * Monty turns the inputs into its own heap well past what it counts against
 * its limit: measured, a 50 MB inputs file took the raw interpreter from
 * 280 MiB to 2.2 GiB (44 bytes of memory per byte of JSON) without a
 * MemoryError, and a debug session reading the locals of that heap copies it
 * once more. The bound leaves twice that room for the inputs.
 */
const INPUT_ROOM = 96;

/** The memory bound a child stopped itself at, read from its stderr (see MEMORY_BOUND_MARK). */
export function memoryBoundHit(stderr: string): { rss: number; bound: number } | undefined {
  const m = new RegExp(`${MEMORY_BOUND_MARK} (\\d+) (\\d+)`).exec(stderr);
  return m ? { rss: Number(m[1]), bound: Number(m[2]) } : undefined;
}
