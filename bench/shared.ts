/** What the benchmarks share: the program they run and the raw Monty loop they compare against. */
import { Monty, MontyComplete, MontyNameLookup, type MontySnapshot } from '@pydantic/monty';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

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

/** Writes the benchmark program to a temp folder; returns its path. */
export function benchProgram(): string {
  const dir = mkdtempSync(join(tmpdir(), 'flyte-sandbox-bench-'));
  const file = join(dir, 'bench.py');
  writeFileSync(file, BENCH_SOURCE);
  return file;
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/**
 * The bare bridge on @pydantic/monty: read the call, answer it, resume. It
 * yields to the event loop every 4096 calls as the engine does: Node frees
 * dead snapshots' native memory only then, and a loop that never yields is
 * slower (see engine/run/sandboxRun.ts).
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
