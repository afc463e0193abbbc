/**
 * What seeing inside the sandbox costs.
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
import { benchProgram } from './shared.ts';
import { figure } from './table.ts';

export const title = 'program state (locals, stepping)';

const ADAPTER = join(import.meta.dirname, '..', 'dist', 'debugAdapter.js');
const CALLS = 50_000;
const one: Resolver = { source: 'stub', resolve: () => ({ kind: 'return', value: 1, source: 'stub' }) };

export async function run(): Promise<void> {
  if (!existsSync(ADAPTER)) throw new Error('dist/debugAdapter.js is missing: npm run build');
  const file = benchProgram();
  const task = (await loadProgram(file)).findTask('loop');
  const code = await instrument(task);

  const timed = async (make: () => SandboxRun): Promise<number> => {
    const run = make();
    const t0 = performance.now();
    const r = await run.execute();
    if (r.status !== 'ok' || r.output !== CALLS) throw new Error(`bench run failed: ${r.error?.message ?? String(r.output)}`);
    return performance.now() - t0;
  };

  let statements = 0;
  const plain = () => new SandboxRun(task, { inputs: { n: CALLS }, resolvers: [one] });
  const closed = () => new SandboxRun(task, { inputs: { n: CALLS }, resolvers: [one], instrumentation: { code, gate: NEVER, probe: () => null } });
  const open = () => new SandboxRun(task, { inputs: { n: CALLS }, resolvers: [one], instrumentation: { code, gate: 0, probe: () => (statements++, null) } });
  const closedRatios: number[] = [];
  const openRatios: number[] = [];
  const perStatement: number[] = [];
  await timed(plain);
  for (let i = 0; i < 5; i++) {
    const tp = await timed(plain);
    const tc = await timed(closed);
    statements = 0;
    const to = await timed(open);
    closedRatios.push(tc / tp);
    openRatios.push(to / tp);
    perStatement.push(((to - tp) * 1000) / statements);
  }
  const executed = statements;

  const session = async (): Promise<DebugClient> => {
    const dc = new DebugClient('node', ADAPTER, 'flyte-sandbox');
    dc.defaultTimeout = 120_000;
    await dc.start();
    await dc.initializeRequest({ adapterID: 'flyte-sandbox', pathFormat: 'path', linesStartAt1: true, columnsStartAt1: true });
    return dc;
  };

  /** Stopped at the 10,001st call; then the Variables view's requests for the top frame's Locals, then one `next`. */
  const atCall10000 = async (): Promise<{ locals: number; next: number }> => {
    const dc = await session();
    let stopped = dc.waitForEvent('stopped');
    const launched = dc.launchRequest({ program: file, task: 'loop', stubs: { ident: { value: 1 } }, inputs: { n: 20_000 }, stopOnExternalCall: 'none' } as DebugProtocol.LaunchRequestArguments);
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
  };

  const locals: number[] = [];
  const nexts: number[] = [];
  for (let i = 0; i < 5; i++) {
    const r = await atCall10000();
    locals.push(r.locals);
    nexts.push(r.next);
  }
  figure(title, { name: 'instrumented run, gate closed / the task\'s own code', unit: 'x', samples: closedRatios, detail: `${CALLS.toLocaleString()} calls: what every debug session pays` });
  figure(title, { name: 'instrumented run, gate open / the task\'s own code', unit: 'x', samples: openRatios, detail: 'every statement calls the host: stepping, line breakpoints' });
  figure(title, { name: 'per executed statement, gate open', unit: 'us', samples: perStatement, detail: `${executed.toLocaleString()} statements` });
  figure(title, { name: 'locals at a stop after 10,000 calls', unit: 'ms', samples: locals, goal: { max: 100 }, detail: 'stackTrace + scopes + variables' });
  figure(title, { name: 'one next after 10,000 calls', unit: 'ms', samples: nexts, goal: { max: 50 }, detail: 'replays with the gate open' });
}
