/**
 * `npm run bench`: the engine's per-call overhead (stubs + trace) as a ratio
 * to the raw @pydantic/monty snapshot loop, both measured in this run, and a
 * flyte_map of 10,000 stubbed items. Goals: ratio <= 1.5, map < 1 s.
 */
import { loadProgram, parseStubs, SandboxRun, StubResolver } from '../engine/index.ts';
import { benchProgram, median, rawLoop } from './shared.ts';

const CALLS = Number(process.env.BENCH_CALLS ?? 100_000);
const MAP_ITEMS = 10_000;
const ROUNDS = 7;

const program = await loadProgram(benchProgram());
const loopTask = program.findTask('loop');
const stubs = new StubResolver(parseStubs({ ident: { value: 1 }, sq: { value: 4 } }, 'bench'));

async function engineLoop(): Promise<number> {
  const t0 = performance.now();
  const r = await new SandboxRun(loopTask, { inputs: { n: CALLS }, resolvers: [stubs] }).execute();
  const ms = performance.now() - t0;
  if (r.status !== 'ok' || r.output !== CALLS || r.calls.length !== CALLS) throw new Error(`engine loop failed: ${JSON.stringify(r.error)}`);
  return ms;
}

async function mapRun(): Promise<number> {
  const t0 = performance.now();
  const r = await new SandboxRun(program.findTask('fan'), { inputs: { n: MAP_ITEMS }, resolvers: [stubs] }).execute();
  const ms = performance.now() - t0;
  if (r.status !== 'ok' || r.output !== MAP_ITEMS || r.calls.length !== MAP_ITEMS + 1) throw new Error(`map run failed: ${JSON.stringify(r.error)}`);
  return ms;
}

// warm up both paths, then interleave rounds so machine noise hits both alike
await rawLoop(loopTask.code, CALLS);
await engineLoop();
const raw: number[] = [];
const eng: number[] = [];
for (let i = 0; i < ROUNDS; i++) {
  raw.push(await rawLoop(loopTask.code, CALLS));
  eng.push(await engineLoop());
}
const maps: number[] = [];
for (let i = 0; i < ROUNDS; i++) maps.push(await mapRun());

global.gc?.();
const before = process.memoryUsage().heapUsed;
const keep = await new SandboxRun(loopTask, { inputs: { n: CALLS }, resolvers: [stubs] }).execute();
global.gc?.();
const traceBytes = (process.memoryUsage().heapUsed - before) / keep.calls.length;

const rawUs = (median(raw) * 1000) / CALLS;
const engUs = (median(eng) * 1000) / CALLS;
const ratio = engUs / rawUs;
const mapMs = median(maps);
console.log(`external calls per run:        ${CALLS.toLocaleString()} (median of ${ROUNDS} rounds)`);
console.log(`raw @pydantic/monty loop:      ${rawUs.toFixed(2)} us/call`);
console.log(`engine, stubs + trace:         ${engUs.toFixed(2)} us/call`);
console.log(`ratio engine / raw:            ${ratio.toFixed(2)}x   (goal <= 1.5x) ${ratio <= 1.5 ? 'OK' : 'MISSED'}`);
console.log(`flyte_map of ${MAP_ITEMS.toLocaleString()} stubbed items: ${mapMs.toFixed(0)} ms   (goal < 1000 ms) ${mapMs < 1000 ? 'OK' : 'MISSED'}`);
console.log(`trace memory:                  ${global.gc ? `${Math.round(traceBytes)} bytes/call` : 'run with --expose-gc to measure'}`);
process.exitCode = ratio <= 1.5 && mapMs < 1000 ? 0 : 1;
