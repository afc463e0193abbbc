/**
 * The engine in process: its per-call overhead (stubs + trace) against the
 * raw @pydantic/monty loop measured in the same round, a flyte_map of 10,000
 * stubbed items, and the trace's memory per call.
 */
import { loadProgram, parseStubs, SandboxRun, StubResolver } from '../engine/index.ts';
import { BENCH_STUBS, benchProgram, rawLoop } from './shared.ts';
import { figure, median } from './table.ts';

export const title = 'engine, in process';

const CALLS = Number(process.env.BENCH_CALLS ?? 100_000);
const MAP_ITEMS = 10_000;
const ROUNDS = 7;

export async function run(): Promise<void> {
  const program = await loadProgram(benchProgram());
  const loopTask = program.findTask('loop');
  const stubs = new StubResolver(parseStubs(BENCH_STUBS, 'bench'));

  const engineLoop = async (): Promise<number> => {
    const t0 = performance.now();
    const r = await new SandboxRun(loopTask, { inputs: { n: CALLS }, resolvers: [stubs] }).execute();
    const ms = performance.now() - t0;
    if (r.status !== 'ok' || r.output !== CALLS || r.calls.length !== CALLS) throw new Error(`engine loop failed: ${JSON.stringify(r.error)}`);
    return ms;
  };
  const mapRun = async (): Promise<number> => {
    const t0 = performance.now();
    const r = await new SandboxRun(program.findTask('fan'), { inputs: { n: MAP_ITEMS }, resolvers: [stubs] }).execute();
    const ms = performance.now() - t0;
    if (r.status !== 'ok' || r.output !== MAP_ITEMS || r.calls.length !== MAP_ITEMS + 1) throw new Error(`map run failed: ${JSON.stringify(r.error)}`);
    return ms;
  };

  // warm up both paths, then interleave so machine noise hits both alike
  await rawLoop(loopTask.code, CALLS);
  await engineLoop();
  const raw: number[] = [];
  const ratios: number[] = [];
  const eng: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    const r = await rawLoop(loopTask.code, CALLS);
    const e = await engineLoop();
    raw.push((r * 1000) / CALLS);
    eng.push((e * 1000) / CALLS);
    ratios.push(e / r);
  }
  const maps: number[] = [];
  for (let i = 0; i < ROUNDS; i++) maps.push(await mapRun());

  const gc = (globalThis as { gc?: () => void }).gc;
  const bytes: number[] = [];
  if (gc) {
    // every run stays referenced, so each measurement adds exactly one run's trace
    const kept: unknown[] = [];
    for (let i = 0; i < 3; i++) {
      gc();
      const before = process.memoryUsage().heapUsed;
      const keep = await new SandboxRun(loopTask, { inputs: { n: CALLS }, resolvers: [stubs] }).execute();
      kept.push(keep);
      gc();
      bytes.push((process.memoryUsage().heapUsed - before) / keep.calls.length);
    }
  }

  figure(title, { name: 'raw @pydantic/monty loop, per call', unit: 'us', samples: raw, detail: `${CALLS.toLocaleString()} calls, yielding every 4096` });
  figure(title, { name: 'per call, engine (stubs + trace) / raw loop', unit: 'x', samples: ratios, goal: { max: 1.5 }, detail: `engine ${median(eng).toFixed(2)} us/call` });
  figure(title, { name: `flyte_map of ${MAP_ITEMS.toLocaleString()} stubbed items`, unit: 'ms', samples: maps, goal: { below: 1000 } });
  if (bytes.length) figure(title, { name: 'trace memory (JS heap) per call', unit: 'B/call', samples: bytes, goal: { max: 1024 } });
  else console.error('engine: run with --expose-gc to measure the trace memory');
}

