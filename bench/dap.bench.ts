/**
 * The debug adapter as a client uses it: a separate process spoken to over
 * DAP, with the runtime in its own child. A session that never stops against
 * the raw Monty loop measured in the same round, its memory, launch to first
 * stop, stepping back one call after 10,000, and a launch with a 50 MB inputs
 * file (how long, and how long `threads` waits meanwhile).
 */
import { DebugClient } from '@vscode/debugadapter-testsupport';
import type { DebugProtocol } from '@vscode/debugprotocol';
import type { ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Monty, MontySnapshot } from '@pydantic/monty';
import { loadProgram } from '../engine/index.ts';
import { BENCH_STUBS, benchDir, benchProgram, rawLoop, watchRss } from './shared.ts';
import { figure, median } from './table.ts';

export const title = 'debug adapter over DAP';

const ADAPTER = join(import.meta.dirname, '..', 'dist', 'debugAdapter.js');
const CALLS = Number(process.env.BENCH_DAP_CALLS ?? 100_000);
const LONG = 3 * CALLS;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const BIG_MB = Number(process.env.BENCH_BIG_INPUTS_MB ?? 50);

async function session(): Promise<DebugClient> {
  const dc = new DebugClient('node', ADAPTER, 'flyte-sandbox');
  dc.defaultTimeout = 300_000;
  await dc.start();
  await dc.initializeRequest({ adapterID: 'flyte-sandbox', pathFormat: 'path', linesStartAt1: true, columnsStartAt1: true });
  return dc;
}

function adapterPid(dc: DebugClient): number {
  return (dc as unknown as { _adapterProcess: ChildProcess })._adapterProcess.pid!;
}

export async function run(): Promise<void> {
  if (!existsSync(ADAPTER)) throw new Error('dist/debugAdapter.js is missing: npm run build');
  const dir = benchDir();
  const file = benchProgram(dir);
  const code = (await loadProgram(file)).findTask('loop').code;

  /** Launch; returns when configurationDone is sent (the run starts then). */
  const launch = async (dc: DebugClient, args: Record<string, unknown>, configure: () => Promise<unknown> = async () => undefined): Promise<number> => {
    const launched = dc.launchRequest({ program: file, task: 'loop', stubs: BENCH_STUBS, ...args } as DebugProtocol.LaunchRequestArguments);
    await dc.waitForEvent('initialized');
    await configure();
    const started = performance.now();
    await dc.configurationDoneRequest();
    await launched;
    return started;
  };

  /** From configurationDone (the run starts) to terminated; program loading is in "launch -> first stop". */
  const neverStops = async (calls: number): Promise<{ ms: number; peakRss: number }> => {
    const dc = await session();
    const rss = watchRss(adapterPid(dc));
    const done = dc.waitForEvent('terminated');
    const t0 = await launch(dc, { inputs: { n: calls }, stopOnExternalCall: 'none' });
    await done;
    const ms = performance.now() - t0;
    const peakRss = rss.stop();
    await dc.stop();
    return { ms, peakRss };
  };

  const firstStop = async (): Promise<number> => {
    const dc = await session();
    const stopped = dc.waitForEvent('stopped');
    const t0 = performance.now();
    await launch(dc, { inputs: { n: 3 }, stopOnExternalCall: 'all' });
    await stopped;
    const ms = performance.now() - t0;
    await dc.stop();
    return ms;
  };

  const stepBacks = async (): Promise<{ back: number[]; forward: number[] }> => {
    const dc = await session();
    let stopped = dc.waitForEvent('stopped');
    await launch(dc, { inputs: { n: 20_000 }, stopOnExternalCall: 'none' }, () => dc.setFunctionBreakpointsRequest({ breakpoints: [{ name: 'ident', condition: 'args[0] == 10000' }] }));
    await stopped;
    const back: number[] = [];
    for (let i = 0; i < 7; i++) {
      stopped = dc.waitForEvent('stopped');
      const t0 = performance.now();
      await dc.stepBackRequest({ threadId: 1 });
      const e = await stopped;
      back.push(performance.now() - t0);
      if (!String((e.body as { description: string }).description).startsWith(`ident(${9999 - i})`)) throw new Error(`stepped back to ${(e.body as { description: string }).description}`);
    }
    // and forward again, one call at a time (a replayed prefix, then live)
    const forward: number[] = [];
    for (let i = 0; i < 7; i++) {
      stopped = dc.waitForEvent('stopped');
      const t0 = performance.now();
      await dc.nextRequest({ threadId: 1 });
      await stopped;
      forward.push(performance.now() - t0);
    }
    await dc.stop();
    return { back, forward };
  };

  await rawLoop(code, CALLS);
  const ratios: number[] = [];
  const dapUs: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    const raw = await rawLoop(code, CALLS);
    const { ms } = await neverStops(CALLS);
    ratios.push(ms / raw);
    dapUs.push((ms * 1000) / CALLS);
  }
  const base: number[] = [];
  const mem: number[] = [];
  for (let i = 0; i < 3; i++) {
    const b = await neverStops(CALLS);
    const m = await neverStops(LONG);
    base.push(b.peakRss);
    mem.push((m.peakRss - b.peakRss) / (LONG - CALLS));
  }
  const firsts: number[] = [];
  for (let i = 0; i < ROUNDS; i++) firsts.push(await firstStop());
  const { back, forward } = await stepBacks();

  figure(title, { name: 'per call, session never stopping / raw loop', unit: 'x', samples: ratios, goal: { max: 3 }, detail: `${CALLS.toLocaleString()} calls, configurationDone -> terminated: ${median(dapUs).toFixed(2)} us/call` });
  figure(title, { name: `memory per call, never stopping, ${CALLS.toLocaleString()} -> ${LONG.toLocaleString()} calls (marginal)`, unit: 'B/call', samples: mem, goal: { max: 1024 }, detail: `peak RSS of adapter + runtime child (${(median(base) / 2 ** 20).toFixed(0)} MB at ${CALLS.toLocaleString()})` });
  figure(title, { name: 'launch -> first stop', unit: 'ms', samples: firsts, goal: { below: 250 } });
  figure(title, { name: 'step back one call at #10,001', unit: 'ms', samples: back, goal: { below: 50 }, detail: 'replays the 10,000 calls before it' });
  figure(title, { name: 'step forward one call after stepping back', unit: 'ms', samples: forward });

  await bigLaunch(dir);
}

/** A 50 MB inputs file: launch -> first stop against reading, parsing and starting Monty on it here, and `threads` meanwhile. */
async function bigLaunch(dir: string): Promise<void> {
  const file = join(dir, 'big.py');
  writeFileSync(file, `import flyte
env = flyte.TaskEnvironment(name="big")

@env.task
def count(n: int) -> int: ...

@env.sandbox.orchestrator
def big(rows: list) -> int:
    return count(len(rows))
`);
  const inputs = join(dir, 'big-inputs.json');
  const rows: string[] = [];
  let size = 0;
  for (let i = 0; size < BIG_MB * 1e6; i++) {
    const row = JSON.stringify({ id: i, name: `row ${i}`, score: i / 7, tags: ['a', 'b', `t${i % 10}`], ok: i % 2 === 0 });
    rows.push(row);
    size += row.length + 1;
  }
  writeFileSync(inputs, `{"rows": [${rows.join(',')}]}`);
  const count = rows.length;

  const floor = async (): Promise<number> => {
    const t0 = performance.now();
    const value = JSON.parse(readFileSync(inputs, 'utf8')) as { rows: unknown[] };
    const m = new Monty('count(len(rows))', { inputs: ['rows'] });
    const p = m.start({ inputs: { rows: value.rows } });
    if (!(p instanceof MontySnapshot) || p.args[0] !== count) throw new Error('raw big start failed');
    return performance.now() - t0;
  };
  const launchOnce = async (): Promise<{ ms: number; worstThreads: number }> => {
    const dc = await session();
    const stopped = dc.waitForEvent('stopped');
    let worst = 0;
    let done = false;
    const poll = (async () => {
      while (!done) {
        const t0 = performance.now();
        await dc.threadsRequest();
        worst = Math.max(worst, performance.now() - t0);
        await new Promise(r => setTimeout(r, 50));
      }
    })();
    const t0 = performance.now();
    const launched = dc.launchRequest({ program: file, task: 'big', inputs, stopOnExternalCall: 'all' } as DebugProtocol.LaunchRequestArguments);
    await dc.waitForEvent('initialized');
    await dc.configurationDoneRequest();
    await launched;
    const e = await stopped;
    const ms = performance.now() - t0;
    done = true;
    await poll;
    if (!String((e.body as { description: string }).description).startsWith(`count(${count})`)) throw new Error(`big launch stopped at ${(e.body as { description: string }).description}`);
    await dc.stop();
    return { ms, worstThreads: worst };
  };

  const ratios: number[] = [];
  const launches: number[] = [];
  const threads: number[] = [];
  const floors: number[] = [];
  for (let i = 0; i < 3; i++) {
    const f = await floor();
    const l = await launchOnce();
    floors.push(f);
    launches.push(l.ms);
    threads.push(l.worstThreads);
    ratios.push(l.ms / f);
  }
  figure(title, { name: `launch -> first stop, ${BIG_MB} MB inputs file / raw`, unit: 'x', samples: ratios, goal: { max: 3 }, detail: `${median(launches).toFixed(0)} ms; raw = read + JSON.parse + Monty start here: ${median(floors).toFixed(0)} ms` });
  figure(title, { name: `slowest threads answer during that launch`, unit: 'ms', samples: threads, goal: { below: 100 } });
}
