/**
 * Importing a production run of 5,000
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
import { rawLoop } from './shared.ts';
import { figure, median } from './table.ts';

export const title = 'production runs';

const ACTIONS = 5_000;

export async function run(): Promise<void> {
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
  const ratios: number[] = [];
  const RAW = 'total = 0\nfor i in range(n):\n    total += ident(i)\ntotal';
  for (let i = 0; i < 5; i++) {
    const t0 = performance.now();
    const chain = await buildResolvers({ task, inputs: Object.fromEntries(inputs), cassette: { replay: out }, notice: () => undefined });
    const r = await new SandboxRun(task, { inputs, resolvers: chain.resolvers }).execute();
    const ms = performance.now() - t0;
    replays.push(ms);
    if (r.status !== 'ok' || r.calls.length !== ACTIONS || r.calls.some(x => x.source !== 'cassette')) throw new Error(`replay failed: ${r.error?.message}`);
    ratios.push(ms / (await rawLoop(RAW, ACTIONS)));
  }
  figure(title, { name: `import a ${ACTIONS.toLocaleString('en')}-action run (stand-in)`, unit: 'ms', samples: imports, detail: 'Python worker start included; no network (a real cluster adds two round trips per action, 16 at a time)' });
  figure(title, { name: 'replay it (bound matching) / raw Monty loop, same calls', unit: 'x', samples: ratios, detail: `${median(replays).toFixed(0)} ms including reading the cassette` });
}
