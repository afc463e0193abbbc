/** What the benchmarks share: the program they run, the raw Monty loop they compare against, process memory. */
import { Monty, MontyComplete, MontyNameLookup, type MontySnapshot } from '@pydantic/monty';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export { median } from './table.ts';

export const BENCH_SOURCE = `import flyte
env = flyte.TaskEnvironment(name="bench")

@env.task
def ident(x: int) -> int: ...

@env.task
def sq(x: int) -> int: ...

@env.sandbox.orchestrator
def loop(n: int) -> int:
    total = 0
    for i in range(n):
        total += ident(i)
    return total

@env.sandbox.orchestrator
def fan(n: int) -> int:
    if n < 0:
        sq(0)
    return len(flyte_map("sq", list(range(n))))
`;

export const BENCH_STUBS = { ident: { value: 1 }, sq: { value: 4 } };

/** A fresh temp folder for one bench file's inputs and outputs. */
export function benchDir(): string {
  return mkdtempSync(join(tmpdir(), 'flyte-sandbox-bench-'));
}

/** Writes the benchmark program to a temp folder; returns its path. */
export function benchProgram(dir = benchDir()): string {
  const file = join(dir, 'bench.py');
  writeFileSync(file, BENCH_SOURCE);
  return file;
}

/**
 * The bare bridge on @pydantic/monty: read the call, answer it, resume. It
 * yields to the event loop every 4096 calls as the engine does: Node frees
 * dead snapshots' native memory only then, and a loop that never yields is
 * slower (see engine/run/sandboxRun.ts). Returns ms for `calls` calls.
 */
export async function rawLoop(code: string, calls: number): Promise<number> {
  const m = new Monty(code, { inputs: ['n'] });
  const t0 = performance.now();
  let p: MontySnapshot | MontyNameLookup | MontyComplete = m.start({ inputs: { n: calls }, printCallback: () => undefined });
  const stub = (..._args: unknown[]) => 1;
  let count = 0;
  while (!(p instanceof MontyComplete)) {
    if (++count % 4096 === 0) await new Promise(setImmediate);
    if (p instanceof MontyNameLookup) p = p.resume();
    else {
      const fn = p.functionName === 'ident' ? stub : undefined;
      p = p.resume({ returnValue: fn!(...p.args, p.kwargs) });
    }
  }
  if (p.output !== calls) throw new Error(`raw loop returned ${String(p.output)}`);
  return performance.now() - t0;
}

/** µs per call of the raw loop over `calls` calls. */
export async function rawUsPerCall(code: string, calls = 100_000): Promise<number> {
  return ((await rawLoop(code, calls)) * 1000) / calls;
}

function descendants(pid: number): number[] {
  const out: number[] = [];
  let tasks: string[];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const t of tasks) {
    let text = '';
    try {
      text = readFileSync(`/proc/${pid}/task/${t}/children`, 'utf8');
    } catch {
      continue;
    }
    for (const c of text.split(' ')) if (c) out.push(Number(c), ...descendants(Number(c)));
  }
  return out;
}

const PAGE = 4096;

/** Resident memory of a process and all its descendants, in bytes (Linux /proc). */
export function treeRss(pid: number): number {
  let total = 0;
  for (const p of [pid, ...descendants(pid)]) {
    try {
      total += Number(readFileSync(`/proc/${p}/statm`, 'utf8').split(' ')[1]) * PAGE;
    } catch {
      // exited meanwhile
    }
  }
  return total;
}

/** Samples a process tree's resident memory until `stop()`, which returns the peak in bytes. */
export function watchRss(pid: number, everyMs = 20): { stop(): number } {
  let peak = treeRss(pid);
  const timer = setInterval(() => {
    peak = Math.max(peak, treeRss(pid));
  }, everyMs);
  return {
    stop() {
      clearInterval(timer);
      return peak;
    },
  };
}
