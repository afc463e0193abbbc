/**
 * `npm run bench` (third part): what answering a call costs by each route
 * other than a plain stub: one forwarded call to Python (round trip), and a
 * run replayed from a 10,000-call cassette against the same run with stubs.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setUpCassette } from '../engine/cassette/setup.ts';
import { ForwardResolver, JsStubResolver, loadProgram, parseStubs, SandboxRun, StubResolver } from '../engine/index.ts';
import { benchProgram, median } from './shared.ts';

const CALLS = 10_000;
const program = await loadProgram(benchProgram());
const task = program.findTask('loop');
const stubs = new StubResolver(parseStubs({ ident: { value: 1 } }, 'bench'));

// one forwarded call: a plain Python function in a module of its own
const dir = mkdtempSync(join(tmpdir(), 'flyte-sandbox-bench-'));
writeFileSync(join(dir, 'tasks.py'), 'def ident(x):\n    return 1\n');
const forward = new ForwardResolver({ module: join(dir, 'tasks.py'), names: 'all' });
const call = { function: 'ident', args: [1], kwargs: {} };
await forward.forward(call); // starts the worker
const rounds: number[] = [];
for (let i = 0; i < 200; i++) {
  const t0 = performance.now();
  await forward.forward(call);
  rounds.push(performance.now() - t0);
}
forward.dispose();

// one call answered by a JS stub in QuickJS
writeFileSync(join(dir, 'stubs.js'), 'export function ident(x) { return 1; }\n');
const js = await JsStubResolver.load(join(dir, 'stubs.js'));
const jsCall = { seq: 1, function: 'ident', args: [1], kwargs: {}, entry: task.registry.get('ident')!, signal: new AbortController().signal, mapParent: undefined, mapIndex: undefined, mapSize: undefined };
for (let i = 0; i < 2000; i++) js.resolve(jsCall);
const jsTimes: number[] = [];
for (let i = 0; i < 10_000; i++) {
  const t0 = performance.now();
  js.resolve(jsCall);
  jsTimes.push(performance.now() - t0);
}
js.dispose();

// replaying a cassette of 10,000 calls
const cassette = join(dir, 'loop.json');
const rec = setUpCassette({ record: cassette }, task, { n: CALLS }, () => undefined);
const recorded = await new SandboxRun(task, { inputs: { n: CALLS }, resolvers: [stubs] }).execute();
rec.recorder!.finish(recorded.calls, 'ok', recorded.output);
const stubbed: number[] = [];
const replayed: number[] = [];
for (let i = 0; i < 5; i++) {
  let t0 = performance.now();
  await new SandboxRun(task, { inputs: { n: CALLS }, resolvers: [stubs] }).execute();
  stubbed.push(performance.now() - t0);
  t0 = performance.now();
  const setup = setUpCassette({ replay: cassette }, task, { n: CALLS }, () => undefined);
  const r = await new SandboxRun(task, { inputs: { n: CALLS }, resolvers: [setup.resolver!] }).execute();
  replayed.push(performance.now() - t0);
  if (r.status !== 'ok' || r.calls.some(c => c.source !== 'cassette')) throw new Error('replay failed');
}
console.log(`forwarded call, round trip:    ${median(rounds).toFixed(3)} ms (median of 200, warm worker)`);
console.log(`JS stub call (QuickJS):        ${(median(jsTimes) * 1000).toFixed(1)} us (median of 10,000)`);
console.log(`replay a 10,000-call cassette: ${median(replayed).toFixed(0)} ms including reading it (same run with stubs: ${median(stubbed).toFixed(0)} ms)`);
