/**
 * What every launch does once per process, done as soon as the runtime child
 * starts, while the client is still initializing the session: compiling the
 * parser's wasm, the first hash, Monty's first run, and one pass of a small
 * task through extraction and instrumentation (their code runs cold the
 * first time: a first launch took ~95 ms where the next took ~20). Launch to
 * first stop is shorter by that much (measured ~60-100 ms of a ~250 ms
 * budget). Nothing here reads a file or sends anything. It gives way to
 * the first request: a launch that is already waiting pays these costs once,
 * in its own work, rather than twice over on one core.
 */
import { createHash } from 'node:crypto';
import { Monty } from '@pydantic/monty';
import { instrument } from '../instrument/instrument.ts';
import { engineMontyVersion } from '../profiles.ts';
import { loadProgram } from '../program.ts';
import { parsePython } from '../python/parser.ts';

const WARM_TASK = `import flyte
env = flyte.TaskEnvironment(name="warm")

@env.task
def ident(x: int) -> int: ...

@env.sandbox.orchestrator
def warm(n: int) -> int:
    total = 0
    for i in range(n):
        total += ident(i)
    return total
`;

async function warmLaunchPath(): Promise<void> {
  const task = (await loadProgram('/flyte-sandbox-warm-up/warm.py', { text: WARM_TASK })).findTask('warm');
  const code = await instrument(task);
  new Monty(code.code, { inputs: task.inputNames }).start({ inputs: { n: 1 }, printCallback: () => undefined });
  engineMontyVersion();
}

/** `requested`: whether a request has come in (the warm-up then stops, between steps). */
export function warmUp(requested: () => boolean): void {
  setImmediate(() => {
    if (requested()) return;
    createHash('sha256').update('warm').digest('hex');
    new Monty('x = 1\nx').run();
    void parsePython('import flyte\n\n@env.task\ndef f(x: int) -> int:\n    return g(x)\n').then(() => (requested() ? undefined : warmLaunchPath())).catch(() => undefined);
  });
}
