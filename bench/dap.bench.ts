/**
 * `npm run bench` (second part): the debug adapter as a client uses it, a
 * separate process spoken to over DAP. A session that never stops against
 * the raw Monty loop measured in this run (goal <= 3x), launch to first stop
 * (goal < 250 ms), and stepping back one call after 10,000 (goal < 50 ms).
 */
import { DebugClient } from '@vscode/debugadapter-testsupport';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { loadProgram } from '../engine/index.ts';
import { benchProgram, median, rawLoop } from './shared.ts';

const ADAPTER = join(import.meta.dirname, '..', 'dist', 'debugAdapter.js');
if (!existsSync(ADAPTER)) throw new Error('dist/debugAdapter.js is missing: npm run build');
const CALLS = Number(process.env.BENCH_DAP_CALLS ?? 100_000);
const file = benchProgram();
const code = (await loadProgram(file)).findTask('loop').code;
const STUBS = { ident: { value: 1 }, sq: { value: 4 } };

async function session(): Promise<DebugClient> {
  const dc = new DebugClient('node', ADAPTER, 'flyte-sandbox');
  dc.defaultTimeout = 120_000;
  await dc.start();
  await dc.initializeRequest({ adapterID: 'flyte-sandbox', pathFormat: 'path', linesStartAt1: true, columnsStartAt1: true });
  return dc;
}

/** Launch; returns when configurationDone is sent (the run starts then). */
async function launch(dc: DebugClient, args: Record<string, unknown>, configure: () => Promise<unknown> = async () => undefined): Promise<number> {
  const launched = dc.launch({ program: file, task: 'loop', stubs: STUBS, ...args });
  await dc.waitForEvent('initialized');
  await configure();
  const started = performance.now();
  await dc.configurationDoneRequest();
  await launched;
  return started;
}

/** From configurationDone (the run starts) to terminated; program loading is in "launch -> first stop". */
async function neverStops(): Promise<number> {
  const dc = await session();
  const done = dc.waitForEvent('terminated');
  const t0 = await launch(dc, { inputs: { n: CALLS }, stopOnExternalCall: 'none' });
  await done;
  const ms = performance.now() - t0;
  await dc.stop();
  return ms;
}

async function firstStop(): Promise<number> {
  const dc = await session();
  const stopped = dc.waitForEvent('stopped');
  const t0 = performance.now();
  await launch(dc, { inputs: { n: 3 }, stopOnExternalCall: 'all' });
  await stopped;
  const ms = performance.now() - t0;
  await dc.stop();
  return ms;
}

async function stepBacks(): Promise<number[]> {
  const dc = await session();
  let stopped = dc.waitForEvent('stopped');
  await launch(dc, { inputs: { n: 20_000 }, stopOnExternalCall: 'none' }, () => dc.setFunctionBreakpointsRequest({ breakpoints: [{ name: 'ident', condition: 'args[0] == 10000' }] }));
  await stopped;
  const times: number[] = [];
  for (let i = 0; i < 7; i++) {
    stopped = dc.waitForEvent('stopped');
    const t0 = performance.now();
    await dc.stepBackRequest({ threadId: 1 });
    const e = await stopped;
    times.push(performance.now() - t0);
    if (!String((e.body as { description: string }).description).startsWith(`ident(${9999 - i})`)) throw new Error(`stepped back to ${(e.body as { description: string }).description}`);
  }
  await dc.stop();
  return times;
}

await rawLoop(code, CALLS);
const raw: number[] = [];
const dap: number[] = [];
for (let i = 0; i < 3; i++) {
  raw.push(await rawLoop(code, CALLS));
  dap.push(await neverStops());
}
const firsts: number[] = [];
for (let i = 0; i < 5; i++) firsts.push(await firstStop());
const backs = await stepBacks();

const rawUs = (median(raw) * 1000) / CALLS;
const dapUs = (median(dap) * 1000) / CALLS;
const ratio = dapUs / rawUs;
const first = median(firsts);
const back = median(backs);
console.log(`DAP session, never stopping:   ${dapUs.toFixed(2)} us/call over ${CALLS.toLocaleString()} calls (configurationDone to terminated, median of 3)`);
console.log(`raw @pydantic/monty loop:      ${rawUs.toFixed(2)} us/call`);
console.log(`ratio DAP session / raw:       ${ratio.toFixed(2)}x   (goal <= 3x) ${ratio <= 3 ? 'OK' : 'MISSED'}`);
console.log(`launch -> first stop:          ${first.toFixed(0)} ms   (goal < 250 ms) ${first < 250 ? 'OK' : 'MISSED'}`);
console.log(`step back one call at #10,001: ${back.toFixed(1)} ms   (goal < 50 ms) ${back < 50 ? 'OK' : 'MISSED'}`);
process.exitCode = ratio <= 3 && first < 250 && back < 50 ? 0 : 1;
