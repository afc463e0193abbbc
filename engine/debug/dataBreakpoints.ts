/**
 * Data breakpoints on a sandbox frame's locals: the instrumented code of
 * the watched function passes the watched names' values at each of its
 * statements, and the debugger stops at the first statement after one
 * changed, saying where it changed and from what to what.
 */
import type { FrameFunction, Site } from '../instrument/instrument.ts';
import type { ProbeHit } from '../instrument/probes.ts';
import { pyFloatRepr, pyRepr } from '../values/python.ts';
import { toWire } from '../values/wire.ts';
import { parseHitCondition } from './breakpoints.ts';
import { evaluate, truthy, type EvalScope } from './pythonEval.ts';

export interface DataBreakpointSpec {
  dataId: string;
  condition?: string;
  hitCondition?: string;
}

export interface DataBreakpointStatus {
  id: number;
  verified: boolean;
  message?: string;
}

interface Watch {
  id: number;
  fn: number;
  name: string;
  condition?: string;
  hitTest?: (hits: number) => boolean;
  hits: number;
}

export interface DataChange {
  ids: number[];
  description: string;
  text: string;
}

let nextId = 100_000;

export function dataId(fn: FrameFunction, name: string): string {
  return `local:${fn.id}:${name}`;
}

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(toWire(a)) === JSON.stringify(toWire(b));
}

export class DataBreakpoints {
  private watches: Watch[] = [];
  /** Last value seen per frame and name; a frame's first sighting is not a change. */
  private seen = new Map<number, { site: number; values: Map<string, unknown>; types: Map<string, string> }>();

  constructor(private readonly functions: readonly FrameFunction[], private readonly sites: readonly Site[]) {}

  get any(): boolean {
    return this.watches.length > 0;
  }

  /** What the instrumented code must pass: function id → names. */
  watchMap(): Map<number, string[]> {
    const m = new Map<number, string[]>();
    for (const w of this.watches) {
      const names = m.get(w.fn) ?? [];
      if (!names.includes(w.name)) names.push(w.name);
      m.set(w.fn, names);
    }
    return m;
  }

  info(fn: FrameFunction | undefined, name: string): { dataId: string | null; description: string; accessTypes?: ['write'] } {
    if (!fn) return { dataId: null, description: `${name}: data breakpoints need a local of a sandbox frame` };
    if (!fn.locals.includes(name)) return { dataId: null, description: `${name} is not a local of ${fn.name}` };
    return { dataId: dataId(fn, name), description: `${name} in ${fn.name}() changes`, accessTypes: ['write'] };
  }

  set(specs: DataBreakpointSpec[]): DataBreakpointStatus[] {
    this.watches = [];
    this.seen.clear();
    return specs.map(spec => {
      const id = nextId++;
      const m = /^local:(\d+):(.+)$/.exec(spec.dataId);
      const fn = m ? this.functions[Number(m[1])] : undefined;
      if (!m || !fn || !fn.locals.includes(m[2]!)) return { id, verified: false, message: `unknown data breakpoint ${JSON.stringify(spec.dataId)}: ask dataBreakpointInfo on a local of a sandbox frame` };
      const watch: Watch = { id, fn: fn.id, name: m[2]!, hits: 0, ...(spec.condition ? { condition: spec.condition } : {}) };
      if (spec.hitCondition) {
        const test = parseHitCondition(spec.hitCondition);
        if (typeof test === 'string') return { id, verified: false, message: test };
        watch.hitTest = test;
      }
      this.watches.push(watch);
      return { id, verified: true };
    });
  }

  /** Forget the values seen (a replay sees them again from where it starts). */
  reset(): void {
    this.seen.clear();
  }

  /** At a statement of a watched function: did a watched local change since the frame's previous statement? */
  check(hit: ProbeHit, scope: () => EvalScope): DataChange | undefined {
    if (!hit.watched) return undefined;
    const prev = this.seen.get(hit.frame);
    this.seen.set(hit.frame, { site: hit.site, values: hit.watched, types: hit.watchedTypes ?? new Map() });
    if (this.seen.size > 10_000) this.prune(hit.frame);
    if (!prev) return undefined;
    const fired: Watch[] = [];
    const lines: string[] = [];
    const site = this.sites[prev.site - 1];
    for (const w of this.watches) {
      if (this.sites[hit.site - 1]?.fn !== w.fn) continue;
      const had = prev.values.has(w.name);
      const has = hit.watched.has(w.name);
      if (!has || (had && same(prev.values.get(w.name), hit.watched.get(w.name)))) continue;
      if (w.condition) {
        try {
          if (!truthy(evaluate(w.condition, scope()))) continue;
        } catch {
          // a failing condition stops, like a line breakpoint's
        }
      }
      w.hits++;
      if (w.hitTest && !w.hitTest(w.hits)) continue;
      fired.push(w);
      const repr = (v: unknown, type: string | undefined) => (type === 'float' && typeof v === 'number' ? pyFloatRepr(v) : pyRepr(v));
      lines.push(`${w.name}: ${had ? repr(prev.values.get(w.name), prev.types.get(w.name)) : '(unbound)'} → ${repr(hit.watched.get(w.name), hit.watchedTypes?.get(w.name))}`);
    }
    if (!fired.length) return undefined;
    const where = site ? `line ${site.line}` : 'the previous statement';
    return { ids: fired.map(w => w.id), description: `${lines.join(', ')} (changed by ${where})`, text: lines.join('\n') };
  }

  private prune(keep: number): void {
    for (const k of this.seen.keys()) if (k !== keep) this.seen.delete(k);
  }
}
