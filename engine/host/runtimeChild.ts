/**
 * The debug runtime's child process: serves every RuntimeApi method to the
 * parent (`RemoteRuntime`) and sends its events back in batches, flushed
 * whenever the engine loop yields.
 */
import { DebugRuntime } from '../debug/runtime.ts';
import type { RuntimeEvents } from '../debug/api.ts';
import type { CallRecord } from '../run/outcome.ts';
import { answerPings } from './childProcess.ts';
import { boundMemoryFromNow, exitWithParent, memoryBound } from './lifetime.ts';
import { decode, encode, INPUTS_IF_SMALL } from './codec.ts';
import { jsonBytes, largerThan } from '../values/jsonSize.ts';
import { encodeRecords } from './recordBlock.ts';
import { warmUp } from './warmUp.ts';
import { delayWasmTierUp } from './wasmTiering.ts';

delayWasmTierUp();

const runtime = new DebugRuntime();
runtime.deferRuns = true;
const DEFAULT_MEMORY = 512 * 1024 * 1024;
let batch: [string, unknown[]][] = [];
/** Calls changed since the last flush: a call that started and finished in between is sent once, finished. */
let changed = new Map<number, CallRecord>();
let scheduled = false;
/**
 * Up to this many batches go at once in each 100 ms, even inside one step of
 * the loop: a sandbox that then spins without yielding must not keep its last
 * calls and output from the parent, which replays them to pause it
 * (remoteRuntime.ts). Past that, events wait for the loop to yield.
 */
const EAGER_PER_WINDOW = 10;
const WINDOW_MS = 100;
let windowStart = 0;
let eager = 0;

function flush(): void {
  scheduled = false;
  // call records go by column (recordBlock.ts), ahead of the other events
  if (changed.size || batch.length) process.send!({ t: 'events', ...(changed.size ? { calls: encodeRecords([...changed.values()]) } : {}), events: encode(batch) });
  batch = [];
  changed = new Map();
}

function later(): void {
  const now = Date.now();
  if (now - windowStart > WINDOW_MS) {
    windowStart = now;
    eager = 0;
  }
  if (eager < EAGER_PER_WINDOW) {
    eager++;
    flush();
  } else if (!scheduled) {
    scheduled = true;
    setImmediate(flush);
  }
}

runtime.on('call', r => {
  changed.set(r.seq, r);
  // a batch this large goes at once, even inside one step of the loop (a flyte_map of 10,000 items)
  if (changed.size >= 4096) flush();
  else later();
});
const EVENTS: (keyof RuntimeEvents)[] = ['stopped', 'continued', 'thread', 'output', 'rewound', 'ended', 'sites'];
for (const name of EVENTS) {
  runtime.on(name, (...args: unknown[]) => {
    if (name === 'rewound') changed.clear();
    batch.push([name, args]);
    // A stop or the end must reach the client now; call records can wait for the next yield.
    if (name === 'stopped' || name === 'ended') flush();
    else later();
  });
}

/** The inputs only when they are small: the adapter would hold the launch to parse 50 MB of them (codec.ts). */
async function inputsIfSmall(maxBytes: unknown): Promise<Record<string, unknown> | null> {
  const inputs = await runtime.inputs();
  return largerThan(inputs, Number(maxBytes)) ? null : inputs;
}

// The parent-death thread starts after the first answer: its start-up would otherwise compete with a cold launch.
answerPings({ watchParent: false });
let requested = false;
warmUp(() => requested);
process.on('message', (m: { t?: string; id?: number; method?: string; args?: unknown }) => {
  if (m.t !== 'call' || m.id === undefined || !m.method) return;
  requested = true;
  const id = m.id;
  const method = m.method === INPUTS_IF_SMALL ? inputsIfSmall : (runtime as unknown as Record<string, (...a: unknown[]) => unknown>)[m.method];
  if (typeof method !== 'function') {
    process.send!({ t: 'reply', id, ok: false, error: encode(new Error(`unknown runtime method ${m.method}`)) });
    return;
  }
  Promise.resolve()
    .then(() => method.apply(runtime, decode(m.args as never) as unknown[]))
    .then(result => {
      if (m.method === 'launch') {
        const maxMemory = (result as { maxMemory?: number | null }).maxMemory;
        const bound = memoryBound(maxMemory === undefined ? DEFAULT_MEMORY : maxMemory);
        void runtime.inputs().then(inputs => boundMemoryFromNow(bound, jsonBytes(inputs)));
      }
      flush();
      process.send!({ t: 'reply', id, ok: true, result: encode(result) });
      exitWithParent();
    }, (e: unknown) => {
      flush();
      process.send!({ t: 'reply', id, ok: false, error: encode(e instanceof Error ? e : new Error(String(e))) });
      exitWithParent();
    });
});
