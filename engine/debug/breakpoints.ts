/**
 * Breakpoints as a sandbox debugger has them: on an external function's name,
 * on a line that calls an external, and on exceptions. Every breakpoint that
 * can never be hit says why, because "why didn't it stop" is what debugger
 * users ask most.
 */
import type { SandboxTask } from '../extract/tasks.ts';
import type { Site } from '../instrument/instrument.ts';
import type { Registry } from '../registry.ts';
import type { ExternalCall, Frame } from '../run/outcome.ts';
import { pyStr } from '../values/python.ts';
import { compileExpression, evaluate, EvalError, truthy, type EvalScope } from './pythonEval.ts';

export interface BreakpointSpec {
  condition?: string;
  hitCondition?: string;
  logMessage?: string;
}

export interface FunctionBreakpointSpec extends BreakpointSpec {
  name: string;
}

export interface LineBreakpointSpec extends BreakpointSpec {
  line: number;
}

export interface BreakpointStatus {
  id: number;
  verified: boolean;
  message?: string;
  line?: number;
}

export type ExceptionFilter = 'uncaught' | 'raised';

interface Armed extends BreakpointSpec {
  id: number;
  hits: number;
  hitTest?: (hits: number) => boolean;
}

interface ArmedFunction extends Armed {
  name: string;
}

interface ArmedLine extends Armed {
  line: number;
  /** Externals called on that line (the stop is at the call when the run is not instrumented). */
  names: Set<string>;
  /** Statements starting on that line (the stop is before the statement when it is). */
  sites: Set<number>;
}

export interface Hit {
  /** Breakpoints that stop here (empty: only logpoints, or nothing). */
  stop: number[];
  kind: 'function breakpoint' | 'breakpoint' | undefined;
  /** Logpoint messages to print. */
  logs: string[];
  /** Conditions that failed to evaluate: the debugger stops and says so. */
  errors: string[];
}

let nextId = 1;

/** DAP hit conditions: "5" or "== 5", ">= 3", "> 3", "< 3", "<= 3", "% 2". */
export function parseHitCondition(text: string): ((hits: number) => boolean) | string {
  const m = /^\s*(==|>=|<=|>|<|%)?\s*(\d+)\s*$/.exec(text);
  if (!m) return `hit condition '${text}' is not understood: use a number (stop on that hit), '>= N', '> N', '< N', '<= N' or '% N' (every Nth hit)`;
  const n = Number(m[2]);
  switch (m[1]) {
    case '>=': return h => h >= n;
    case '>': return h => h > n;
    case '<': return h => h < n;
    case '<=': return h => h <= n;
    case '%': return h => n > 0 && h % n === 0;
    default: return h => h === n;
  }
}

function arm<T extends BreakpointSpec>(spec: T): { armed: T & Armed; problem?: string } {
  const armed = { ...spec, id: nextId++, hits: 0 } as T & Armed;
  if (spec.condition) {
    try {
      compileExpression(spec.condition);
    } catch (e) {
      return { armed, problem: `condition does not compile: ${(e as Error).message}` };
    }
  }
  if (spec.hitCondition) {
    const test = parseHitCondition(spec.hitCondition);
    if (typeof test === 'string') return { armed, problem: test };
    armed.hitTest = test;
  }
  for (const part of logParts(spec.logMessage ?? '')) {
    if (part.expression === undefined) continue;
    try {
      compileExpression(part.expression);
    } catch (e) {
      return { armed, problem: `log message expression {${part.expression}} does not compile: ${(e as Error).message}` };
    }
  }
  return { armed };
}

/** "fib called with {args[0]}" -> literal and expression parts; "{{" and "}}" are literal braces. */
function logParts(message: string): { text: string; expression?: string }[] {
  const parts: { text: string; expression?: string }[] = [];
  let i = 0;
  let literal = '';
  while (i < message.length) {
    if (message.startsWith('{{', i) || message.startsWith('}}', i)) {
      literal += message[i];
      i += 2;
    } else if (message[i] === '{') {
      const end = message.indexOf('}', i);
      if (end < 0) break;
      parts.push({ text: literal });
      literal = '';
      parts.push({ text: '', expression: message.slice(i + 1, end) });
      i = end + 1;
    } else literal += message[i++];
  }
  parts.push({ text: literal + message.slice(i) });
  return parts;
}

export class Breakpoints {
  private functions: ArmedFunction[] = [];
  private lines: ArmedLine[] = [];
  private watchedCache: Set<string> | undefined;
  readonly exceptions = new Map<ExceptionFilter, { types?: Set<string> }>([['uncaught', {}]]);

  /** Statement sites of the instrumented code: with them, any executable line can stop. */
  private sites: readonly Site[] | undefined;

  constructor(private readonly task: SandboxTask, private readonly registry: Registry) {}

  useSites(sites: readonly Site[]): void {
    this.sites = sites;
  }

  /** Line breakpoints stop before statements (not at calls). */
  get byStatement(): boolean {
    return this.sites !== undefined;
  }

  /** Is there a line breakpoint on any statement? (Then the probes must call the host.) */
  get hasLineBreakpoints(): boolean {
    return this.sites !== undefined && this.lines.length > 0;
  }

  setFunctionBreakpoints(specs: FunctionBreakpointSpec[]): BreakpointStatus[] {
    this.functions = [];
    this.watchedCache = undefined;
    return specs.map(spec => {
      const { armed, problem } = arm(spec);
      if (problem) return { id: armed.id, verified: false, message: problem };
      if (spec.name !== 'flyte_map' && !this.registry.get(spec.name)) {
        const names = this.registry.names();
        return { id: armed.id, verified: false, message: `'${spec.name}' is not an external this task may call, so a call to it never pauses (a call to it would end the run: Flyte refuses unregistered names). Registered: ${names.length ? names.join(', ') : '(none)'}${spec.name.includes('.') ? '. Use the name the sandbox calls, not the Flyte task name' : ''}` };
      }
      this.functions.push(armed);
      return { id: armed.id, verified: true };
    });
  }

  setLineBreakpoints(file: string, specs: LineBreakpointSpec[]): BreakpointStatus[] {
    const sameFile = file === this.task.codeModule.path;
    if (sameFile) this.lines = [];
    this.watchedCache = undefined;
    return specs.map(spec => {
      const { armed, problem } = arm({ ...spec, names: new Set<string>(), sites: new Set<number>() });
      if (problem) return { id: armed.id, verified: false, line: spec.line, message: problem };
      if (!sameFile) return { id: armed.id, verified: false, line: spec.line, message: `this file is not the one being debugged (${this.task.codeModule.path}): only the code of the sandboxed task ${this.task.name} runs here` };
      if (this.sites) return this.armStatement(armed, spec.line);
      const sites = this.task.callSites.filter(s => s.file.line === spec.line && (s.name === 'flyte_map' || this.registry.get(s.name)));
      if (!sites.length) {
        const lines = [...new Set(this.task.callSites.filter(s => s.name === 'flyte_map' || this.registry.get(s.name)).map(s => s.file.line))].sort((a, b) => a - b);
        const within = this.task.sourceMap.codeLinesOf(spec.line).length > 0;
        const why = within ? `line ${spec.line} calls no external function` : `line ${spec.line} is not part of the sandboxed task ${this.task.name}`;
        return { id: armed.id, verified: false, line: spec.line, message: `${why}: the sandbox can pause only at a call to an external (a line breakpoint stops there). Lines with external calls: ${lines.length ? lines.join(', ') : '(none)'}` };
      }
      for (const s of sites) armed.names.add(s.name);
      this.lines.push(armed);
      return { id: armed.id, verified: true, line: spec.line };
    });
  }

  /** A line breakpoint on statements: the line's own, or the statement the line continues. */
  private armStatement(armed: ArmedLine, line: number): BreakpointStatus {
    const sites = this.sites!;
    let on = sites.filter(s => s.line === line);
    if (!on.length) {
      // a continuation line of a multi-line statement: the statement's first line
      const off = this.task.codeModule.lineStart(line);
      const inside = sites.filter(s => this.task.sourceMap.fileOffsetAt(s.codeStart) <= off && off < this.task.sourceMap.fileOffsetAt(Math.max(s.codeStart, s.codeEnd - 1)));
      const innermost = inside.sort((a, b) => b.codeStart - a.codeStart)[0];
      if (innermost && this.task.codeModule.lineText(line).trim() && !this.task.codeModule.lineText(line).trim().startsWith('#')) on = sites.filter(s => s.line === innermost.line);
    }
    if (!on.length) {
      const text = this.task.codeModule.lineText(line).trim();
      const within = this.task.sourceMap.codeLinesOf(line).length > 0 || sites.some(s => s.line < line) && sites.some(s => s.line > line);
      const why = !within ? `line ${line} is not part of the sandboxed task ${this.task.name}` : text === '' ? `line ${line} is blank` : text.startsWith('#') ? `line ${line} is a comment` : `line ${line} holds no statement that runs (e.g. an else:, except: or decorator line)`;
      const lines = [...new Set(sites.map(s => s.line))].sort((a, b) => a - b);
      const near = lines.filter(l => l > line)[0] ?? lines.filter(l => l < line).at(-1);
      return { id: armed.id, verified: false, line, message: `${why}: a breakpoint can stop only before a statement of the task${near !== undefined ? ` (the nearest is line ${near})` : ''}` };
    }
    for (const s of on) armed.sites.add(s.id);
    armed.line = on[0]!.line;
    this.lines.push(armed);
    return { id: armed.id, verified: true, line: armed.line };
  }

  /** Decide before a statement: line breakpoints on its site, with conditions and logpoints over the frame's locals. */
  checkStatement(site: number, scope: () => EvalScope): Hit {
    const hit: Hit = { stop: [], kind: undefined, logs: [], errors: [] };
    const bps = this.lines.filter(l => l.sites.has(site));
    if (!bps.length) return hit;
    let s: EvalScope | undefined;
    const get = () => (s ??= scope());
    for (const bp of bps) this.consider(bp, 'breakpoint', get, hit);
    return hit;
  }

  /** Is a breakpoint on this site conditional (it cannot be judged from the log alone)? */
  conditionalOn(site: number): boolean {
    return this.lines.some(l => l.sites.has(site) && (l.condition !== undefined || l.hitCondition !== undefined || l.logMessage !== undefined));
  }

  /** Does a line breakpoint sit on this site? (The cheap test made at every statement.) */
  onSite(site: number): boolean {
    for (const l of this.lines) if (l.sites.has(site)) return true;
    return false;
  }

  private consider(bp: Armed, kind: 'function breakpoint' | 'breakpoint', scope: () => EvalScope, hit: Hit): void {
    if (bp.condition) {
      try {
        if (!truthy(evaluate(bp.condition, scope()))) return;
      } catch (e) {
        hit.errors.push(`breakpoint condition ${JSON.stringify(bp.condition)} failed: ${(e as Error).message}`);
        hit.stop.push(bp.id);
        hit.kind ??= kind;
        return;
      }
    }
    bp.hits++;
    if (bp.hitTest && !bp.hitTest(bp.hits)) return;
    if (bp.logMessage !== undefined) {
      hit.logs.push(this.interpolate(bp.logMessage, scope()));
      return;
    }
    hit.stop.push(bp.id);
    hit.kind ??= kind;
  }

  setExceptionFilters(filters: { filterId: string; condition?: string }[]): string[] {
    this.exceptions.clear();
    const problems: string[] = [];
    for (const f of filters) {
      if (f.filterId !== 'uncaught' && f.filterId !== 'raised') {
        problems.push(`unknown exception filter '${f.filterId}' (known: uncaught, raised)`);
        continue;
      }
      const types = f.condition?.split(/[\s,]+/).filter(Boolean);
      this.exceptions.set(f.filterId, types?.length ? { types: new Set(types) } : {});
    }
    return problems;
  }

  /** Whether an exception of `type` stops under `filter`. */
  breaksOn(filter: ExceptionFilter, type: string): boolean {
    const f = this.exceptions.get(filter);
    return f !== undefined && (!f.types || f.types.has(type));
  }

  /** Does any breakpoint concern calls to `name`? (The cheap test made for every call.) */
  watches(name: string): boolean {
    return this.watched.has(name);
  }

  private get watched(): Set<string> {
    this.watchedCache ??= new Set([...this.functions.map(f => f.name), ...(this.sites ? [] : this.lines.flatMap(l => [...l.names]))]);
    return this.watchedCache;
  }

  /** Is any line breakpoint interested in calls to `name` (a position is needed to decide)? */
  needsSite(name: string): boolean {
    if (!this.lines.some(l => l.names.has(name))) return false;
    const lines = new Set(this.task.callSites.filter(s => s.name === name).map(s => s.file.line));
    return lines.size > 1;
  }

  /** Decide at a call. `site` is asked for only when a line breakpoint needs it (it costs a probe). */
  check(call: ExternalCall, scope: EvalScope, site: () => Frame | undefined): Hit {
    const hit: Hit = { stop: [], kind: undefined, logs: [], errors: [] };
    const consider = (bp: Armed, kind: 'function breakpoint' | 'breakpoint') => this.consider(bp, kind, () => scope, hit);
    for (const bp of this.functions) if (bp.name === call.function) consider(bp, 'function breakpoint');
    const lineBps = this.sites ? [] : this.lines.filter(l => l.names.has(call.function) && call.mapIndex === undefined);
    if (lineBps.length) {
      let line: number | undefined;
      if (this.needsSite(call.function)) line = site()?.line;
      else line = this.task.callSites.find(s => s.name === call.function)?.file.line;
      for (const bp of lineBps) if (line === undefined || bp.line === line) consider(bp, 'breakpoint');
    }
    return hit;
  }

  /**
   * Would the current breakpoints stop at this earlier call? For reverse
   * continue: hit counts and logpoints do not apply; a line breakpoint counts
   * when the function is called from that line only.
   */
  matchesHistory(call: ExternalCall, scope: EvalScope): boolean {
    const conditionHolds = (bp: Armed) => {
      if (bp.logMessage !== undefined) return false;
      if (!bp.condition) return true;
      try {
        return truthy(evaluate(bp.condition, scope));
      } catch {
        return false;
      }
    };
    if (this.functions.some(bp => bp.name === call.function && conditionHolds(bp))) return true;
    if (this.sites || call.mapIndex !== undefined || this.needsSite(call.function)) return false;
    const line = this.task.callSites.find(s => s.name === call.function)?.file.line;
    return this.lines.some(bp => bp.line === line && bp.names.has(call.function) && conditionHolds(bp));
  }

  private interpolate(message: string, scope: EvalScope): string {
    return logParts(message).map(p => {
      if (p.expression === undefined) return p.text;
      try {
        return pyStr(evaluate(p.expression, scope));
      } catch (e) {
        return `<${(e as EvalError).message}>`;
      }
    }).join('');
  }
}
