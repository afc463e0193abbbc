/**
 * The CLI end to end, as a user runs it: `flyte-sandbox run ... --json >
 * out.json` (the built CLI, its sandbox child process, the events between
 * them, the JSON document written), timed from spawn to exit. Per call is the
 * slope between a short and a long run (process start-up cancels out),
 * against the raw Monty loop measured in the same round; memory is the peak
 * resident size of the CLI and its child together, beyond a 10-call run.
 */
import { spawn } from 'node:child_process';
import { closeSync, createReadStream, existsSync, openSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BENCH_STUBS, benchDir, benchProgram, rawLoop, watchRss } from './shared.ts';
import { figure, median } from './table.ts';

export const title = 'CLI, end to end (child process, events, output)';

const CLI = join(import.meta.dirname, '..', 'bin', 'flyte-sandbox.js');
const SHORT = 5_000;
const LONG = 105_000;
const MAP_ITEMS = 10_000;
const MID = 100_000;
const HUGE = Number(process.env.BENCH_HUGE_CALLS ?? 1_000_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const HUGE_ROUNDS = Number(process.env.BENCH_HUGE_ROUNDS ?? 3);

interface CliRun {
  ms: number;
  peakRss: number;
  out: string;
}

/** Runs the CLI with stdout into a file; resolves when it exits. */
function cli(dir: string, args: string[], watch = false): Promise<CliRun> {
  const out = join(dir, 'out.txt');
  const fd = openSync(out, 'w');
  const t0 = performance.now();
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', fd, 'pipe'] });
  closeSync(fd);
  const rss = watch ? watchRss(child.pid!) : undefined;
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve, reject) => {
    child.on('exit', code => {
      const ms = performance.now() - t0;
      const peakRss = rss?.stop() ?? 0;
      if (code !== 0) reject(new Error(`flyte-sandbox ${args.join(' ')} exited ${code}: ${stderr}`));
      else resolve({ ms, peakRss, out });
    });
  });
}

/** Checks a --json document without loading a huge one: status ok, the right number of calls. */
async function checkJson(path: string, calls: number): Promise<void> {
  if (statSync(path).size < 50_000_000) {
    const doc = JSON.parse(readFileSync(path, 'utf8')) as { status: string; calls: unknown[] };
    if (doc.status !== 'ok' || doc.calls.length !== calls) throw new Error(`CLI --json: status ${doc.status}, ${doc.calls.length} calls (expected ${calls})`);
    return;
  }
  let seqs = 0;
  let head = '';
  let carry = '';
  for await (const chunk of createReadStream(path, { encoding: 'utf8', highWaterMark: 1 << 20 })) {
    const text = carry + (chunk as string);
    if (head.length < 200) head += text.slice(0, 200);
    seqs += text.split('"seq": ').length - 1;
    carry = text.slice(-8);
    seqs -= carry.split('"seq": ').length - 1;
  }
  seqs += carry.split('"seq": ').length - 1;
  if (!/"status": "ok"/.test(head) || seqs !== calls) throw new Error(`CLI --json: ${seqs} calls in the document (expected ${calls}): ${head}`);
}

export async function run(): Promise<void> {
  if (!existsSync(join(import.meta.dirname, '..', 'dist', 'cli.js'))) throw new Error('dist/cli.js is missing: npm run build');
  const dir = benchDir();
  const file = benchProgram(dir);
  const stubs = join(dir, 'stubs.json');
  writeFileSync(stubs, JSON.stringify(BENCH_STUBS));
  const loop = (n: number, json = true) => ['run', file, '--task', 'loop', '--inputs', JSON.stringify({ n }), '--stubs', stubs, ...(json ? ['--json'] : [])];
  const fan = (n: number) => ['run', file, '--task', 'fan', '--inputs', JSON.stringify({ n }), '--stubs', stubs, '--json'];
  const { loadProgram } = await import('../engine/index.ts');
  const code = (await loadProgram(file)).findTask('loop').code;

  await rawLoop(code, 100_000);
  await cli(dir, loop(SHORT));
  const jsonRatios: number[] = [];
  const textRatios: number[] = [];
  const jsonUs: number[] = [];
  const textUs: number[] = [];
  const maps: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    const raw = (await rawLoop(code, 100_000)) / 100_000;
    const short = await cli(dir, loop(SHORT));
    const long = await cli(dir, loop(LONG));
    if (i === 0) await checkJson(long.out, LONG);
    const perCall = (long.ms - short.ms) / (LONG - SHORT);
    jsonUs.push(perCall * 1000);
    jsonRatios.push(perCall / raw);
    const tShort = await cli(dir, loop(SHORT, false));
    const tLong = await cli(dir, loop(LONG, false));
    const textPerCall = (tLong.ms - tShort.ms) / (LONG - SHORT);
    textUs.push(textPerCall * 1000);
    textRatios.push(textPerCall / raw);
    const small = await cli(dir, fan(10));
    const big = await cli(dir, fan(MAP_ITEMS));
    if (i === 0) await checkJson(big.out, MAP_ITEMS + 1);
    maps.push(big.ms - small.ms);
  }
  const slope = `slope ${SHORT.toLocaleString()} -> ${LONG.toLocaleString()} calls`;
  figure(title, { name: 'per call, CLI run --json / raw loop', unit: 'x', samples: jsonRatios, goal: { max: 2 }, detail: `${slope}: ${median(jsonUs).toFixed(2)} us/call` });
  figure(title, { name: 'per call, CLI run (text) / raw loop', unit: 'x', samples: textRatios, goal: { max: 2 }, detail: `${slope}: ${median(textUs).toFixed(2)} us/call` });
  figure(title, { name: `flyte_map of ${MAP_ITEMS.toLocaleString()} items beyond one of 10, --json`, unit: 'ms', samples: maps, goal: { max: 150 } });

  // memory per recorded call: the marginal cost between two run lengths (flat means it does not grow
  // with the run), all of it at the long one, and beyond a 10-call run at the short one (which also
  // counts the young generation growing to its working size: a fixed cost, not a per-call one)
  const base: number[] = [];
  const early: number[] = [];
  const marginal: number[] = [];
  const total: number[] = [];
  const hugeRatios: number[] = [];
  for (let i = 0; i < HUGE_ROUNDS; i++) {
    const b = await cli(dir, loop(10), true);
    const m = await cli(dir, loop(MID), true);
    const raw = (await rawLoop(code, 100_000)) / 100_000;
    const h = await cli(dir, loop(HUGE), true);
    if (i === 0) await checkJson(h.out, HUGE);
    base.push(b.peakRss);
    early.push((m.peakRss - b.peakRss) / MID);
    marginal.push((h.peakRss - m.peakRss) / (HUGE - MID));
    total.push(h.peakRss / HUGE);
    hugeRatios.push((h.ms - b.ms) / HUGE / raw);
  }
  const mb = (x: number) => `${(x / 2 ** 20).toFixed(0)} MB`;
  figure(title, { name: `memory per call, ${MID.toLocaleString()} -> ${HUGE.toLocaleString()} calls (marginal)`, unit: 'B/call', samples: marginal, goal: { max: 1024 }, detail: 'peak RSS of CLI + child, --json' });
  figure(title, { name: `memory per call at ${HUGE.toLocaleString()} calls (all of it)`, unit: 'B/call', samples: total, goal: { max: 1024 }, detail: `a 10-call run: ${mb(median(base))}` });
  figure(title, { name: `memory per call at ${MID.toLocaleString()} calls, beyond a 10-call run`, unit: 'B/call', samples: early, detail: 'with the heaps growing to their working size (fixed)' });
  figure(title, { name: `per call, ${HUGE.toLocaleString()}-call run --json / raw loop`, unit: 'x', samples: hugeRatios, goal: { max: 2 }, detail: 'wall time beyond the 10-call run' });
}
