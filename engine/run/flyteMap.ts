/**
 * The `flyte_map` built-in, as Flyte's bridge does it (spec §4.2–4.3): its
 * validation messages, zip semantics, results in input order, and two
 * different sets of defaults depending on what is mapped:
 * - a Flyte TaskTemplate goes through `flyte.map` on a cluster:
 *   concurrency 0 = unlimited, N > 0 bounds items in flight,
 *   return_exceptions defaults to True (a failed item is an exception value);
 * - anything else (plain callables from tasks=[...], @syncify wrappers,
 *   remote handles) goes through `_map_callable`: sequential unless
 *   concurrency > 0, return_exceptions defaults to False; with
 *   concurrency > 0 it is `asyncio.gather`, so every row runs before the
 *   first failure is raised.
 * Which of these applies, and the defaults, come from the Flyte profile
 * (before 2.5.6 every ref went through `flyte.map`).
 * Each item is its own recorded call.
 */
import { defaultProfile, type FlyteProfile } from '../profiles.ts';
import type { Registry } from '../registry.ts';
import { exceptionValue } from '../values/exceptions.ts';
import { pyIterate, pyTypeName, tuple } from '../values/python.ts';
import type { Dispatcher } from './dispatch.ts';
import { isThenable, type CallOutcome, type CallRecord } from './outcome.ts';

/** The only keyword arguments Flyte's bridge passes on to the map; any other is silently dropped. */
export const MAP_KWARGS = ['group_name', 'concurrency', 'return_exceptions'] as const;

function fail(type: string, message: string): CallOutcome {
  return { kind: 'raise', type, message, source: 'flyte_map' };
}

function truthy(v: unknown): boolean {
  if (v === null || v === undefined || v === false || v === 0 || v === 0n || v === '') return false;
  if (Array.isArray(v)) return v.length > 0;
  if (v instanceof Map || v instanceof Set) return v.size > 0;
  return true;
}

/** Python's `value > 0`, or the TypeError Python raises for it. */
function greaterThanZero(v: unknown): boolean | CallOutcome {
  if (typeof v === 'number' || typeof v === 'bigint') return v > 0;
  if (typeof v === 'boolean') return v;
  return fail('TypeError', `'>' not supported between instances of '${pyTypeName(v)}' and 'int'`);
}

export interface MapPlan {
  task: string;
  rows: unknown[][];
  /** Items in flight at most; 0 = all at once. */
  concurrency: number;
  returnExceptions: boolean;
  style: 'flyte.map' | 'callable';
  /** `_map_callable` with concurrency > 0: asyncio.gather runs every row, then raises the first failure. */
  gather: boolean;
  groupName?: string;
  /** Every item fails this way before reaching the function (flyte.map over an object without `.aio`). */
  itemError?: { type: string; message: string };
}

/** Validate a flyte_map call and work out what to run, or the exception Flyte raises for it. */
export function planFlyteMap(registry: Registry, args: unknown[], kwargs: Record<string, unknown>, profile: FlyteProfile = defaultProfile()): MapPlan | CallOutcome {
  if (args.length < 2) return fail('RuntimeError', 'flyte_map requires at least 2 arguments: flyte_map(task_name, iterable, ...)');
  const taskName = args[0];
  if (typeof taskName !== 'string') return fail('RuntimeError', `flyte_map first argument must be a task name string, got ${pyTypeName(taskName)}`);
  const entry = registry.get(taskName);
  if (!entry) return fail('RuntimeError', `flyte_map: task '${taskName}' not found in registered tasks. Available: ${registry.available()}`);
  const given = new Map<string, unknown>();
  for (const k of MAP_KWARGS) if (Object.prototype.hasOwnProperty.call(kwargs, k)) given.set(k, kwargs[k]);

  const iterables: unknown[][] = [];
  for (const a of args.slice(1)) {
    const items = pyIterate(a);
    if (!items) return fail('TypeError', `'${pyTypeName(a)}' object is not iterable`);
    iterables.push(items);
  }
  const length = Math.min(...iterables.map(i => i.length));
  const rows = Array.from({ length }, (_, r) => iterables.map(it => it[r]));
  const groupName = given.get('group_name');

  const style = entry.taskTemplate || profile.flyteMap.callables === 'flyte.map' ? 'flyte.map' : 'callable';
  // flyte.map names its group after `func.name`: a plain function has none.
  if (style === 'flyte.map' && !entry.taskTemplate && entry.noAio === 'function') return fail('AttributeError', "'function' object has no attribute 'name'");
  const defaults = entry.taskTemplate ? profile.flyteMap.task : profile.flyteMap.callable;
  const concurrency = given.has('concurrency') ? given.get('concurrency') : defaults.concurrency;
  // flyte.map compares `concurrency > 0` whenever there is work; _map_callable only when concurrency is truthy.
  const compared = style === 'flyte.map' ? rows.length > 0 : truthy(concurrency);
  let bound = style === 'flyte.map' ? 0 : 1;
  let positiveConcurrency = false;
  if (compared) {
    const positive = greaterThanZero(concurrency);
    if (typeof positive !== 'boolean') return positive;
    if (positive) {
      bound = Number(concurrency);
      positiveConcurrency = true;
    }
  }
  return {
    task: taskName,
    rows,
    concurrency: bound,
    returnExceptions: given.has('return_exceptions') ? truthy(given.get('return_exceptions')) : defaults.returnExceptions,
    style,
    gather: style === 'callable' && positiveConcurrency,
    ...(style === 'flyte.map' && !entry.taskTemplate && entry.noAio ? { itemError: { type: 'AttributeError', message: `'${entry.noAio}' object has no attribute 'aio'` } } : {}),
    ...(style === 'flyte.map' ? { groupName: `${entry.flyteName ?? taskName}_${typeof groupName === 'string' && groupName ? groupName : 'map'}` } : {}),
  };
}

/**
 * Run the items. The parent record is the flyte_map call itself. Items start
 * in order, at most `concurrency` in flight; a synchronous resolver keeps the
 * whole fan-out synchronous.
 */
export function runFlyteMap(plan: MapPlan, registry: Registry, dispatcher: Dispatcher, parent: CallRecord): CallOutcome | Promise<CallOutcome> {
  const entry = registry.get(plan.task)!;
  const n = plan.rows.length;
  const results: unknown[] = new Array<unknown>(n);
  const records: CallRecord[] = [];
  const isDone: boolean[] = new Array<boolean>(n).fill(false);
  const limit = plan.concurrency <= 0 ? Infinity : plan.concurrency;
  // flyte.map raises the lowest-index failure once iteration reaches it, cancelling later work;
  // _map_callable raises the first failure to happen.
  const inOrder = plan.style === 'flyte.map';
  let failedAt = Infinity;
  let failure: CallOutcome | undefined;
  let next = 0;
  let inFlight = 0;
  let frontier = 0; // lowest index not yet done
  let pending: { resolve: (o: CallOutcome) => void; reject: (e: unknown) => void } | undefined;

  const verdict = (): CallOutcome | undefined => {
    if (failure && (inOrder ? frontier >= failedAt : !plan.gather || frontier === n)) return failure;
    if (frontier === n) return { kind: 'return', value: results, source: 'flyte_map' };
    return undefined;
  };
  const settle = (i: number, o: CallOutcome) => {
    isDone[i] = true;
    while (frontier < n && isDone[frontier]) frontier++;
    if (o.kind === 'return') results[i] = o.value;
    else if (plan.returnExceptions) results[i] = exceptionValue(o.type, o.message);
    else if (inOrder ? i < failedAt : failure === undefined) {
      failedAt = i;
      failure = o;
    }
  };
  // asyncio.gather starts every row even after one failed; the others stop starting at the first failure.
  const mayStart = () => next < n && inFlight < limit && (inOrder ? next < failedAt : plan.gather || failure === undefined);
  const itemFails = (i: number): { record: CallRecord; outcome: CallOutcome } => {
    const record = dispatcher.begin(entry.name, tuple([...plan.rows[i]!]), {}, { parent: parent.seq, index: i, size: n });
    const outcome: CallOutcome = { kind: 'raise', type: plan.itemError!.type, message: plan.itemError!.message, source: 'flyte_map' };
    dispatcher.finish(record, outcome);
    return { record, outcome };
  };
  const pump = (): void => {
    while (mayStart()) {
      const i = next++;
      const { record, outcome } = plan.itemError ? itemFails(i) : dispatcher.dispatch(entry, tuple([...plan.rows[i]!]), {}, { parent: parent.seq, index: i, size: n });
      records.push(record);
      if (!isThenable(outcome)) {
        settle(i, outcome);
        continue;
      }
      inFlight++;
      outcome.then(o => {
        inFlight--;
        settle(i, o);
        pump();
      }, e => {
        for (const r of records) dispatcher.cancel(r);
        pending?.reject(e);
      });
    }
    const v = verdict();
    if (v && pending) {
      if (v.kind === 'raise') for (const r of records) dispatcher.cancel(r);
      pending.resolve(v);
      pending = undefined;
    }
  };
  pump();
  const v = verdict();
  if (v) {
    if (v.kind === 'raise') for (const r of records) dispatcher.cancel(r);
    return v;
  }
  return new Promise<CallOutcome>((resolve, reject) => {
    pending = { resolve, reject };
  });
}
