// Processes a test run started and left behind. Every process a run starts inherits an
// environment variable naming the run (children of children too, as long as nobody replaces
// the whole environment), so after the run any process still carrying it leaked: an adapter,
// a sandbox child, a Python worker, code-server. Linux (/proc); elsewhere nothing is found.
import { readdirSync, readFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';

export const RUN_VARIABLE = 'FLYTE_SANDBOX_TEST_RUN';

export function newRunId() {
  return randomUUID();
}

/** Processes (pid and command line) whose environment has `variable=value`, other than this one. */
export function processesWith(variable, value) {
  let pids;
  try {
    pids = readdirSync('/proc').filter(p => /^\d+$/.test(p));
  } catch {
    return [];
  }
  const needle = Buffer.from(`\0${variable}=${value}\0`);
  const found = [];
  for (const pid of pids) {
    if (Number(pid) === process.pid) continue;
    try {
      const env = Buffer.concat([Buffer.from([0]), readFileSync(`/proc/${pid}/environ`), Buffer.from([0])]);
      if (!env.includes(needle)) continue;
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      if (/\) Z /.test(stat)) continue; // a zombie is already dead; its parent has not reaped it yet
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ').trim();
      found.push({ pid: Number(pid), cmd });
    } catch {
      // gone meanwhile, or not ours to read
    }
  }
  return found;
}

/**
 * Wait (up to `withinMs`) for every process marked `variable=value` to end; those still there
 * are killed and returned. Children notice a dead parent within a fraction of a second, so a
 * process still there after seconds is a leak, not a slow exit.
 */
export async function reapLeftovers(variable, value, withinMs = 10_000) {
  const deadline = Date.now() + withinMs;
  let left = processesWith(variable, value);
  while (left.length && Date.now() < deadline) {
    await new Promise(r => setTimeout(r, 100));
    left = processesWith(variable, value);
  }
  for (const p of left) {
    try {
      process.kill(p.pid, 'SIGKILL');
    } catch {
      // ended just now
    }
  }
  return left;
}
