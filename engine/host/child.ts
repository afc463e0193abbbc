/**
 * The sandbox child process: runs one SandboxRun for its parent
 * (`SandboxProcess`), so a sandbox that never yields can be killed without
 * touching the parent. Events are batched and flushed whenever the engine
 * loop yields (every few thousand calls or 50 ms).
 */
import { UsageError } from '../errors.ts';
import { loadProgram } from '../program.ts';
import { profileById } from '../profiles.ts';
import type { PythonVersion } from '../extract/tasks.ts';
import { loadStubs } from '../resolvers/stub.ts';
import { buildResolvers } from '../resolvers/index.ts';
import { SandboxRun } from '../run/sandboxRun.ts';
import { buildInputs } from '../run/inputs.ts';
import { CallRecord, type CallOutcome, type ExternalCall } from '../run/outcome.ts';
import type { Resolver } from '../run/resolvers.ts';
import { fromWire, toWire } from '../values/wire.ts';
import { answerPings } from './childProcess.ts';
import { boundMemoryFromNow, exitWithParent, memoryBound } from './lifetime.ts';
import { outcomeFromWire, type StartOptions, type ToChild, type ToParent, type WireEvent } from './protocol.ts';
import { encodeRecords } from './recordBlock.ts';
import { jsonBytes } from '../values/jsonSize.ts';
import { delayWasmTierUp } from './wasmTiering.ts';

delayWasmTierUp();

const send = (m: ToParent) => process.send!(m);
let run: SandboxRun | undefined;
let flushScheduled = false;
let nextAsk = 1;
const waiting = new Map<number, (o: CallOutcome | undefined) => void>();

/**
 * What happened since the last flush, in order. A record is encoded when the
 * batch is sent, as it is then: a call that started and finished in between
 * goes once, finished (its `started` entry is skipped).
 */
let items: (CallRecord | string | { notice: string })[] = [];
let started: boolean[] = [];

function later(): void {
  if (!flushScheduled) {
    flushScheduled = true;
    setImmediate(flush);
  }
}

function queue(item: string | { notice: string }): void {
  items.push(item);
  started.push(false);
  later();
}

/** A batch this large goes at once, even inside one step of the loop (a flyte_map of 10,000 items), so the parent works on it meanwhile. */
const FLUSH_AT = 4096;

function queueRecord(r: CallRecord, isStart: boolean): void {
  items.push(r);
  started.push(isStart);
  if (items.length >= FLUSH_AT) flush();
  else later();
}

function flush(): void {
  flushScheduled = false;
  if (!items.length) return;
  const events: WireEvent[] = [];
  let records: CallRecord[] = [];
  for (let i = 0; i < items.length; i++) {
    const item = items[i]!;
    if (item instanceof CallRecord) {
      if (!started[i] || item.status === 'pending') records.push(item);
      continue;
    }
    if (records.length) events.push(encodeRecords(records));
    records = [];
    events.push(item);
  }
  if (records.length) events.push(encodeRecords(records));
  items = [];
  started = [];
  send({ t: 'events', events });
}

/** Calls the parent asked to see first go over IPC; the parent may pass them on (undefined). */
function parentResolver(ask: StartOptions['ask']): Resolver | undefined {
  if (ask === 'none') return undefined;
  const wanted = ask === 'all' ? undefined : new Set(ask);
  return {
    source: 'interactive',
    resolve(call: ExternalCall) {
      if (wanted && !wanted.has(call.function)) return undefined;
      flush();
      const id = nextAsk++;
      send({ t: 'ask', id, call: { entry: call.entry, seq: call.seq, function: call.function, args: toWire(call.args), kwargs: toWire(call.kwargs), mapParent: call.mapParent ?? null, mapIndex: call.mapIndex ?? null, mapSize: call.mapSize ?? null } });
      return new Promise<CallOutcome | undefined>(resolve => waiting.set(id, resolve));
    },
  };
}

async function start(o: StartOptions): Promise<void> {
  const profile = o.profile !== undefined ? profileById(o.profile) : undefined;
  if (o.profile !== undefined && !profile) throw new UsageError(`unknown Flyte profile '${o.profile}'`);
  const program = await loadProgram(o.file, { ...(o.text !== undefined ? { text: o.text } : {}), ...(o.roots ? { roots: o.roots } : {}), ...(o.pythonVersion ? { pythonVersion: o.pythonVersion as PythonVersion } : {}), ...(profile ? { profile } : {}) });
  const task = program.findTask(o.task);
  const resolvers: Resolver[] = [];
  const fromParent = parentResolver(o.ask);
  if (fromParent) resolvers.push(fromParent);
  const inputs = o.inputs === undefined ? undefined : fromWire(o.inputs);
  const chain = await buildResolvers({
    task,
    inputs: buildInputs(task, inputs),
    ...(o.stubs !== undefined ? { stubs: await loadStubs(typeof o.stubs === 'string' ? o.stubs : fromWire(o.stubs)) } : {}),
    ...(o.stubModule !== undefined ? { stubModule: o.stubModule } : {}),
    ...(o.cassette ? { cassette: o.cassette } : {}),
    ...(o.forward ? { forward: o.forward } : {}),
    ...(o.python ? { python: o.python } : {}),
    ...(o.pythonSettingName ? { pythonSettingName: o.pythonSettingName } : {}),
    ...(o.forwardTimeout !== undefined ? { forwardTimeoutMs: o.forwardTimeout * 1000 } : {}),
    ...(o.forwardTimeoutSettingName ? { forwardTimeoutSettingName: o.forwardTimeoutSettingName } : {}),
    ...(o.remote ? { remote: o.remote } : {}),
    notice: text => queue({ notice: text }),
    cwd: process.cwd(),
    optionName: name => `--${name === 'stubModule' ? 'stub-module' : name}`,
  });
  resolvers.push(...chain.resolvers);
  const cassette = chain.cassette;
  // the parent-death and memory thread starts with the run, not beside the cold start before it
  exitWithParent();
  boundMemoryFromNow(memoryBound(o.limits.maxMemory), inputs === undefined ? 0 : jsonBytes(inputs));
  const current = new SandboxRun(task, { inputs, resolvers, limits: o.limits, raiseInSandbox: o.raiseInSandbox ?? false, externals: o.externals ?? [] });
  run = current;
  current.on('call', r => queueRecord(r, true));
  current.on('result', r => {
    queueRecord(r, false);
    cassette.recorder?.changed(() => current.calls as CallRecord[]);
  });
  current.on('output', text => queue(text));
  const result = await current.execute();
  // the Python workers finish up before this process may be killed (a remote run in flight is aborted on the cluster)
  await chain.dispose();
  cassette.recorder?.finish(result.calls, result.status === 'ok' ? 'ok' : result.error?.origin === 'stopped' ? 'incomplete' : 'error', result.output, result.error);
  if (cassette.resolver?.remaining) queue({ notice: `cassette: ${cassette.resolver.remaining} recorded call(s) were not replayed` });
  flush();
  send({ t: 'end', result: { status: result.status, output: result.status === 'ok' ? toWire(result.output) : null, error: result.error ?? null, stdout: result.stdout, durationMs: result.durationMs } });
}

process.on('message', (m: ToChild) => {
  switch (m.t) {
    case 'start':
      start(m.options).catch((e: unknown) => {
        send({ t: 'fatal', message: e instanceof Error ? e.message : String(e), usage: e instanceof UsageError });
      });
      break;
    case 'answer':
      waiting.get(m.id)?.(m.outcome ? outcomeFromWire(m.outcome) : undefined);
      waiting.delete(m.id);
      break;
    case 'probe':
      send({ t: 'probe', id: m.id, result: run?.probe() ?? null });
      break;
    case 'stop':
      run?.stop();
      break;
  }
});
answerPings({ watchParent: false });
