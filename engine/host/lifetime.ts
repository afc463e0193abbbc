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
const { workerData } = require('node:worker_threads');
const first = process.ppid;
const parent = workerData.parent;
function gone() {
  if (process.ppid !== first) return true;
  if (parent === first) return false;
  try { process.kill(parent, 0); return false; } catch (e) { return e.code === 'ESRCH'; }
}
const timer = setInterval(() => {
  if (!gone()) return;
  clearInterval(timer);
  // The parent is gone: end the whole process group (this process leads it when it was started detached).
  try { process.kill(-process.pid, 'SIGKILL'); } catch {}
  process.kill(process.pid, 'SIGKILL');
}, workerData.every);
`;

let watching = false;

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
  const worker = new Worker(WATCHER, { eval: true, workerData: { parent, every: PARENT_CHECK_MS }, resourceLimits: { maxOldGenerationSizeMb: 8, maxYoungGenerationSizeMb: 2 }, stdout: false, stderr: false });
  worker.unref();
}
