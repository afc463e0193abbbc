/**
 * Where each external call was made, for every row of the IO panel: a
 * statement's probe knows its site, and the call inside it is the call site
 * of that name within the statement. Calls made while the gate was closed
 * (no probes) are placed afterwards by a silent replay of the recorded
 * results with every probe open: a run is a pure function of its inputs and
 * call results, so the replay makes the same calls from the same places.
 */
import type { CallSite, SandboxTask } from '../extract/tasks.ts';
import type { Instrumented, Site } from '../instrument/instrument.ts';
import type { FilePosition } from '../python/module.ts';
import type { CallRecord } from '../run/outcome.ts';
import { SandboxRun } from '../run/sandboxRun.ts';
import { recordsResolver } from './plainReplay.ts';

/** The calls to `fn` inside the statement at `site`, in the order Python makes them (inner calls first, then left to right). */
function callsIn(task: SandboxTask, site: Site, fn: string): CallSite[] {
  const start = task.sourceMap.fileOffsetAt(site.codeStart);
  const end = task.sourceMap.fileOffsetAt(Math.max(site.codeStart, site.codeEnd - 1));
  const offsetOf = (p: FilePosition) => task.codeModule.lineStart(p.line) + p.column - 1;
  return task.callSites
    .filter(s => s.name === fn && offsetOf(s.file) >= start && offsetOf(s.file) <= end)
    .sort((a, b) => a.endLine - b.endLine || a.endColumn - b.endColumn);
}

/**
 * The position of the `nth` call to `fn` the statement at `site` makes (the
 * statement's start if it is not found). Without `nth`, only a statement
 * with one call to `fn` gives a position.
 */
export function callPosition(task: SandboxTask, site: Site, fn: string, nth?: number): FilePosition | undefined {
  const calls = callsIn(task, site, fn);
  if (nth === undefined) return calls.length === 1 ? calls[0]!.file : calls.length ? undefined : { file: site.file, line: site.line, column: site.column };
  return (calls[nth] ?? calls.at(-1))?.file ?? { file: site.file, line: site.line, column: site.column };
}

/**
 * Give every record without a site its site, by replaying the records on
 * the instrumented code with every probe open. Returns the records that got one.
 */
export async function resolveCallSites(task: SandboxTask, code: Instrumented, records: readonly CallRecord[], options: { inputs: unknown; externals: readonly string[]; raiseInSandbox: boolean }): Promise<CallRecord[]> {
  const missing = records.filter(r => r.site === undefined);
  if (!missing.length) return [];
  let current: Site | undefined;
  /** Calls made by name since the current statement began: which of its calls to a name this is. */
  let made = new Map<string, number>();
  const replay = recordsResolver(records);
  const placed: CallRecord[] = [];
  const run = new SandboxRun(task, {
    inputs: options.inputs,
    externals: options.externals,
    raiseInSandbox: options.raiseInSandbox,
    resolvers: [{
      source: 'interactive',
      resolve: call => {
        const r = records[call.seq - 1];
        if (r && r.function === call.function) {
          const parent = r.mapParent !== undefined ? records[r.mapParent - 1] : undefined;
          const name = parent ? 'flyte_map' : r.function;
          const nth = parent ? 0 : made.get(name) ?? 0;
          if (!parent) made.set(name, nth + 1);
          const site = parent?.site ?? (current ? callPosition(task, current, name, nth) : undefined);
          // a flyte_map call goes through the map gate, not the resolvers: its first item places it
          for (const x of [parent, r]) {
            if (x && x.site === undefined && site) {
              x.site = site;
              placed.push(x);
            }
          }
        }
        return replay.resolve(call);
      },
    }],
    instrumentation: {
      code,
      gate: 0,
      probe: hit => {
        current = code.sites[hit.site - 1];
        made = new Map();
        return null;
      },
    },
  });
  await run.execute();
  return placed;
}
