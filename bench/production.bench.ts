/**
 * `npm run bench` (fourth part): importing a production run of 5,000
 * actions and replaying it. The run is a fixture served by the stand-in
 * flyte (test/fixtures/flyte-standin, built from flyte-sdk's source: no real
 * cluster, so no network time is in these figures; a real cluster adds one
 * GetActionDetails and one GetActionData round trip per action, 16 at a
 * time). Compared with the raw Monty loop making the same 5,000 calls.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildResolvers, importProductionRun, loadProgram, SandboxRun } from '../engine/index.ts';
import type { Cassette } from '../engine/cassette/format.ts';
import { fromWire } from '../engine/values/wire.ts';
import { bigRun, cluster, MANY, useStandin } from '../test/production/cluster.ts';
import { median, rawLoop } from './shared.ts';

const ACTIONS = 5_000;
useStandin();
const c = cluster({ runs: [bigRun('rbench5000', ACTIONS)], files: { 'many.py': MANY } });
const program = join(c.dir, 'many.py');
const out = join(c.dir, 'rbench5000.json');

const imports: number[] = [];
for (let i = 0; i < 3; i++) {
  const t0 = performance.now();
  const { cassette } = await importProductionRun({ run: 'rbench5000', program, out, cwd: c.dir });
  imports.push(performance.now() - t0);
  if (cassette.calls.length !== ACTIONS) throw new Error(`imported ${cassette.calls.length} calls`);
}

const task = (await loadProgram(program)).findTask('many');
const cassette = JSON.parse(readFileSync(out, 'utf8')) as Cassette;
const inputs = fromWire(cassette.inputs) as Map<string, unknown>;
const replays: number[] = [];
const raws: number[] = [];
const RAW = 'total = 0\nfor i in range(n):\n    total += ident(i)\ntotal';
for (let i = 0; i < 5; i++) {
  const t0 = performance.now();
  const chain = await buildResolvers({ task, inputs: Object.fromEntries(inputs), cassette: { replay: out }, notice: () => undefined });
  const r = await new SandboxRun(task, { inputs, resolvers: chain.resolvers }).execute();
  replays.push(performance.now() - t0);
  if (r.status !== 'ok' || r.calls.length !== ACTIONS || r.calls.some(x => x.source !== 'cassette')) throw new Error(`replay failed: ${r.error?.message}`);
  raws.push(await rawLoop(RAW, ACTIONS));
}
const replay = median(replays);
const raw = median(raws);
console.log(`import a ${ACTIONS.toLocaleString('en')}-action run (stand-in): ${median(imports).toFixed(0)} ms (median of 3, Python worker start included)`);
console.log(`replay it (bound matching):         ${replay.toFixed(0)} ms including reading the cassette (raw Monty loop, same calls: ${raw.toFixed(0)} ms, ${(replay / raw).toFixed(1)}x)`);
