/**
 * What answering a call costs by each route other than a plain stub: one
 * forwarded call to Python (round trip), one call answered by a JS stub in
 * QuickJS, and a run replayed from a 10,000-call cassette against the same
 * run with stubs.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setUpCassette } from '../engine/cassette/setup.ts';
import { ForwardResolver, JsStubResolver, loadProgram, parseStubs, SandboxRun, StubResolver } from '../engine/index.ts';
import { benchDir, benchProgram } from './shared.ts';
import { figure, median } from './table.ts';

export const title = 'resolvers';

const CALLS = 10_000;

export async function run(): Promise<void> {
  const dir = benchDir();
  const program = await loadProgram(benchProgram(dir));
  const task = program.findTask('loop');
  const stubs = new StubResolver(parseStubs({ ident: { value: 1 } }, 'bench'));

  // one forwarded call: a plain Python function in a module of its own
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
    jsTimes.push((performance.now() - t0) * 1000);
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
  // JS stub samples are per call: report the medians of 10 slices so min/median stay meaningful
  const slices = Array.from({ length: 10 }, (_, i) => median(jsTimes.slice(i * 1000, (i + 1) * 1000)));
  const forwardSlices = Array.from({ length: 10 }, (_, i) => median(rounds.slice(i * 20, (i + 1) * 20)));
  figure(title, { name: 'forwarded call to Python, round trip', unit: 'ms', samples: forwardSlices, digits: 3, detail: 'warm worker; medians of 10 x 20 calls' });
  figure(title, { name: 'JS stub call (QuickJS)', unit: 'us', samples: slices, detail: 'medians of 10 x 1,000 calls' });
  figure(title, { name: `replay a ${CALLS.toLocaleString()}-call cassette`, unit: 'ms', samples: replayed, detail: `including reading it; same run with stubs: ${median(stubbed).toFixed(0)} ms` });
}
