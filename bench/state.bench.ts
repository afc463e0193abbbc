/**
 * `npm run bench` (state part): what seeing inside the sandbox costs.
 * In process, the instrumented copy of the code against the task's own code
 * (gate closed: the cost every debug session pays; gate open: every
 * statement calls the host, as when stepping by line). Over DAP, against the
 * real adapter: the locals of a stop after 10,000 calls (goal <= 100 ms) and
 * one `next` from there (goal <= 50 ms).
 */
import { DebugClient } from '@vscode/debugadapter-testsupport';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { loadProgram, SandboxRun, type Resolver } from '../engine/index.ts';
import { instrument } from '../engine/instrument/instrument.ts';
import { NEVER } from '../engine/instrument/probes.ts';
import { benchProgram, median } from './shared.ts';

const ADAPTER = join(import.meta.dirname, '..', 'dist', 'debugAdapter.js');
if (!existsSync(ADAPTER)) throw new Error('dist/debugAdapter.js is missing: npm run build');
const file = benchProgram();
const task = (await loadProgram(file)).findTask('loop');
const code = await instrument(task);
const CALLS = 50_000;
const one: Resolver = { source: 'stub', resolve: () => ({ kind: 'return', value: 1, source: 'stub' }) };

async function timed(make: () => SandboxRun): Promise<number> {
  const run = make();
  const t0 = performance.now();
  const r = await run.execute();
  if (r.status !== 'ok' || r.output !== CALLS) throw new Error(`bench run failed: ${r.error?.message ?? String(r.output)}`);
  return performance.now() - t0;
}

let statements = 0;
const plain = () => new SandboxRun(task, { inputs: { n: CALLS }, resolvers: [one] });
const closed = () => new SandboxRun(task, { inputs: { n: CALLS }, resolvers: [one], instrumentation: { code, gate: NEVER, probe: () => null } });
const open = () => new SandboxRun(task, { inputs: { n: CALLS }, resolvers: [one], instrumentation: { code, gate: 0, probe: () => (statements++, null) } });
const tp: number[] = [];
const tc: number[] = [];
const to: number[] = [];
await timed(plain);
for (let i = 0; i < 5; i++) {
  tp.push(await timed(plain));
  tc.push(await timed(closed));
  statements = 0;
  to.push(await timed(open));
}
const perStatement = ((median(to) - median(tp)) * 1000) / statements;

async function session(): Promise<DebugClient> {
  const dc = new DebugClient('node', ADAPTER, 'flyte-sandbox');
  dc.defaultTimeout = 120_000;
  await dc.start();
  await dc.initializeRequest({ adapterID: 'flyte-sandbox', pathFormat: 'path', linesStartAt1: true, columnsStartAt1: true });
  return dc;
}

/** Stopped at the 10,001st call; then the Variables view's requests for the top frame's Locals, then one `next`. */
async function atCall10000(): Promise<{ locals: number; next: number }> {
  const dc = await session();
  let stopped = dc.waitForEvent('stopped');
  const launched = dc.launch({ program: file, task: 'loop', stubs: { ident: { value: 1 } }, inputs: { n: 20_000 }, stopOnExternalCall: 'none' });
  await dc.waitForEvent('initialized');
  await dc.setFunctionBreakpointsRequest({ breakpoints: [{ name: 'ident', condition: 'args[0] == 10000' }] });
  await dc.configurationDoneRequest();
  await launched;
  await stopped;
  let t0 = performance.now();
  const frames = (await dc.stackTraceRequest({ threadId: 1 })).body.stackFrames;
  const scopes = (await dc.scopesRequest({ frameId: frames[1]!.id })).body.scopes;
  const localsScope = scopes.find((s: DebugProtocol.Scope) => s.name === 'Locals');
  if (!localsScope) throw new Error('no Locals scope');
  const vars = (await dc.variablesRequest({ variablesReference: localsScope.variablesReference })).body.variables;
  const locals = performance.now() - t0;
  if (!vars.some((v: DebugProtocol.Variable) => v.name === 'total' && v.value === '10000')) throw new Error(`unexpected locals ${JSON.stringify(vars)}`);
  stopped = dc.waitForEvent('stopped');
  t0 = performance.now();
  await dc.nextRequest({ threadId: 1 });
  const e = await stopped;
  const next = performance.now() - t0;
  if (!String((e.body as { description: string }).description).startsWith('line ')) throw new Error(`next stopped at ${JSON.stringify(e.body)}`);
  await dc.stop();
  return { locals, next };
}

const locals: number[] = [];
const nexts: number[] = [];
for (let i = 0; i < 5; i++) {
  const r = await atCall10000();
  locals.push(r.locals);
  nexts.push(r.next);
}
const l = median(locals);
const n = median(nexts);
const ratioClosed = median(tc) / median(tp);
const ratioOpen = median(to) / median(tp);
console.log(`instrumented run, gate closed:  ${ratioClosed.toFixed(2)}x the task's own code (${CALLS.toLocaleString()} calls, median of 5; what every debug session pays)`);
console.log(`instrumented run, gate open:    ${ratioOpen.toFixed(2)}x (every statement calls the host: stepping, line breakpoints), ${perStatement.toFixed(2)} us per executed statement over ${statements.toLocaleString()} statements`);
console.log(`locals at a stop after 10,000 calls: ${l.toFixed(1)} ms (stackTrace + scopes + variables, median of 5)   (goal <= 100 ms) ${l <= 100 ? 'OK' : 'MISSED'}`);
console.log(`one next after 10,000 calls:   ${n.toFixed(1)} ms (replays with the gate open)   (goal <= 50 ms) ${n <= 50 ? 'OK' : 'MISSED'}`);
if (!(l <= 100 && n <= 50)) process.exitCode = 1;
