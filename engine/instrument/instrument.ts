/**
 * The instrumented copy of a task's code: what Monty runs when the debugger
 * needs the program's own state (locals, line stops, data breakpoints).
 * Monty exposes no frames or locals, so the copy hands them over itself:
 *
 * - before every statement, a probe: it counts statements in the sandbox
 *   and calls the host (`__flyte_dbg_probe`) only from the statement the
 *   host asked for (the gate), so a replay to a far-away point costs
 *   almost nothing until it gets there;
 * - around every function body (and a code-string task's module body), a
 *   handler that reports the frame's bound locals (`__flyte_dbg_locals`)
 *   while an exception unwinds through it, then re-raises it unchanged.
 *   The debugger asks for locals by raising into a throw-away copy of a
 *   paused snapshot; a real failure reports the locals of the statement
 *   that raised (post-mortem) on its way out.
 *
 * The user's statements are copied verbatim, re-indented into the new
 * blocks; every copied character keeps its file offset, so positions map
 * back exactly. Behaviour is the user's: no user-visible name, call, print,
 * exception or value changes (the differential test runs every example
 * both ways). The registry is never computed from this copy.
 */
import { codeNames, scopeBindings } from '../extract/codeNames.ts';
import { SourceMap } from '../extract/sourceMap.ts';
import type { SandboxTask } from '../extract/tasks.ts';
import { field, firstSyntaxError, namedChildren, parsePython, type SyntaxNode } from '../python/parser.ts';
import { TrackedText } from '../python/trackedText.ts';

/** Every name the instrumentation adds starts with this; the debugger hides them. */
export const DBG_PREFIX = '__flyte_dbg_';
export const GATE_INPUT = '__flyte_dbg_gate';
/**
 * The two hidden calls, suffixed by nesting level (0: module). Monty 0.0.18
 * mis-scopes an external name that a function calls before a nested `def`
 * also calls it ("object is not callable"): distinct names per level never
 * meet that case.
 */
export const PROBE_FN = '__flyte_dbg_probe';
export const REPORT_FN = '__flyte_dbg_locals';

/** A statement the probe stops before (or a loop header, probed at each iteration too). */
export interface Site {
  id: number;
  /** The function (frame kind) it belongs to. */
  fn: number;
  file: string;
  line: number;
  column: number;
  /** The statement's extent in the task's code (for finding the external call a stop is waiting on). */
  codeStart: number;
  codeEnd: number;
  loop: boolean;
}

/** A kind of frame: the task's function, a nested helper, or a code-string task's module body. */
export interface FrameFunction {
  id: number;
  name: string;
  /** 0 for the module body, 1 for a module-level def, +1 per nesting. */
  level: number;
  /** Parameters first, then names the body binds, in order of appearance. */
  locals: string[];
  module: boolean;
}

export interface InstrumentOptions {
  /** Data breakpoints: names whose values each probe of that function passes to the host. */
  watch?: ReadonlyMap<number, readonly string[]>;
  /** Sites where the host may assign locals (setVariable): they get the code that does it. */
  setSites?: ReadonlySet<number>;
}

export interface Instrumented {
  code: string;
  sourceMap: SourceMap;
  sites: Site[];
  functions: FrameFunction[];
}

const CN_OPTS = { inlineComprehensions: true, eagerAnnotations: false };
const STEP = '    ';
const S = `${DBG_PREFIX}s`;
const L = `${DBG_PREFIX}l`;
const FF = `${DBG_PREFIX}ff`;
const FD = `${DBG_PREFIX}fd`;
const R = `${DBG_PREFIX}r`;
const V = `${DBG_PREFIX}v`;
const T = `${DBG_PREFIX}t`;
const W = `${DBG_PREFIX}w`;
const OUT = `${DBG_PREFIX}out`;

export class InstrumentError extends Error {}

class Emitter {
  text = '';
  offsets: number[] = [];

  constructor(private readonly task: SandboxTask) {}

  /** A line of our own, mapped to the file position of `origin` (an index in the task's code). */
  synthetic(indent: string, line: string, origin: number): void {
    const at = this.task.sourceMap.fileOffsetAt(origin);
    const s = `${indent}${line}\n`;
    this.text += s;
    for (let i = 0; i < s.length; i++) this.offsets.push(at);
  }

  /** The user's code in [start, end), verbatim, starting at `indent`. */
  copy(indent: string, start: number, end: number): void {
    const at = this.task.sourceMap.fileOffsetAt(start);
    this.text += indent;
    for (let i = 0; i < indent.length; i++) this.offsets.push(at);
    const code = this.task.code;
    this.text += code.slice(start, end) + '\n';
    for (let i = start; i < end; i++) this.offsets.push(this.task.sourceMap.fileOffsetAt(i));
    this.offsets.push(this.task.sourceMap.fileOffsetAt(Math.max(start, end - 1)));
  }
}

function statements(block: SyntaxNode): SyntaxNode[] {
  return namedChildren(block).filter(c => c.type !== 'comment');
}

/** End of the `:` that closes a compound statement's header (before `block`). */
function colonEnd(node: SyntaxNode, block: SyntaxNode): number {
  let end = -1;
  for (const c of node.children) {
    if (!c || c.startIndex >= block.startIndex) break;
    if (c.type === ':') end = c.endIndex;
  }
  if (end < 0) throw new InstrumentError(`no ':' before the block of the ${node.type} at offset ${node.startIndex}`);
  return end;
}

function isDocstring(stmt: SyntaxNode | undefined): boolean {
  if (stmt?.type !== 'expression_statement') return false;
  const kids = namedChildren(stmt);
  return kids.length === 1 && (kids[0]!.type === 'string' || kids[0]!.type === 'concatenated_string');
}

/** An expression statement gives a module its value (Monty returns the last one). */
function isValueStatement(stmt: SyntaxNode): boolean {
  if (stmt.type !== 'expression_statement') return false;
  return !namedChildren(stmt).some(c => c.type === 'assignment' || c.type === 'augmented_assignment');
}

class Instrumenter {
  readonly sites: Site[] = [];
  readonly functions: FrameFunction[] = [];
  private readonly out: Emitter;

  constructor(private readonly task: SandboxTask, private readonly options: InstrumentOptions) {
    this.out = new Emitter(task);
  }

  module(root: SyntaxNode): void {
    const o = this.out;
    const stmts = statements(root);
    const first = stmts[0]?.startIndex ?? 0;
    o.synthetic('', `${S} = [0, ${GATE_INPUT}, 0, 0]`, first);
    o.synthetic('', `${FF} = 0`, first);
    o.synthetic('', `${FD} = 0`, first);
    o.synthetic('', `${L} = 0`, first);
    if (this.task.kind === 'decorated') {
      this.functions.push({ id: 0, name: '<module>', level: 0, locals: [], module: true });
      // The def and the trailing call: no probes at module level (the task's frame is the function's).
      for (const s of stmts) {
        if (s.type === 'function_definition') this.function(s, '', 1);
        else if (s.type === 'decorated_definition') this.decorated(s, '', 1);
        else o.copy('', s.startIndex, s.endIndex);
      }
      return;
    }
    const locals = [...new Set([...this.task.inputNames, ...scopeBindings(root, CN_OPTS)])].filter(n => !n.startsWith(DBG_PREFIX));
    const fn: FrameFunction = { id: 0, name: '<module>', level: 0, locals, module: true };
    this.functions.push(fn);
    const last = stmts.at(-1);
    const valued = last !== undefined && isValueStatement(last);
    o.synthetic('', 'try:', first);
    if (!stmts.length) o.synthetic(STEP, 'pass', first);
    for (const s of stmts) {
      if (s === last && valued) {
        this.probe(s, STEP, fn);
        o.copy(`${STEP}${OUT} = `, s.startIndex, s.endIndex);
      } else this.statement(s, STEP, fn);
    }
    this.handlers('', fn, first, false);
    if (valued) o.synthetic('', OUT, last!.startIndex);
  }

  private site(node: SyntaxNode, fn: FrameFunction, loop: boolean): Site {
    const pos = this.task.sourceMap.toFile(...this.codeLineColumn(node.startIndex));
    const site: Site = { id: this.sites.length + 1, fn: fn.id, file: pos.file, line: pos.line, column: pos.column, codeStart: node.startIndex, codeEnd: node.endIndex, loop };
    this.sites.push(site);
    return site;
  }

  private codeLineColumn(index: number): [number, number] {
    const before = this.task.code.slice(0, index);
    const line = before.split('\n').length;
    return [line, [...before.slice(before.lastIndexOf('\n') + 1)].length + 1];
  }

  /** The probe before a statement (or at the top of a loop body, with the loop's site). */
  private probe(node: SyntaxNode, indent: string, fn: FrameFunction, existing?: Site): Site {
    const o = this.out;
    const site = existing ?? this.site(node, fn, false);
    const at = node.startIndex;
    const i2 = indent + STEP;
    o.synthetic(indent, `${L} = ${site.id}`, at);
    o.synthetic(indent, `${S}[0] += 1`, at);
    o.synthetic(indent, `if ${S}[0] >= ${S}[1]:`, at);
    const watched = this.options.watch?.get(fn.id);
    if (watched?.length) {
      o.synthetic(i2, `${W} = {}`, at);
      o.synthetic(i2, `${T} = {}`, at);
      for (const name of watched) this.tryRead(i2, W, name, at, T);
    }
    o.synthetic(i2, `${R} = ${PROBE_FN}${fn.level}(${site.id}, ${S}[0], ${FF}, ${FD}${watched?.length ? `, ${W}, ${T}` : ''})`, at);
    o.synthetic(i2, `if ${R} is not None:`, at);
    o.synthetic(i2 + STEP, `${S}[1] = ${R}[0]`, at);
    if (this.options.setSites?.has(site.id)) {
      const i4 = i2 + STEP + STEP;
      o.synthetic(i2 + STEP, `if ${R}[1] is not None:`, at);
      for (const name of fn.locals) {
        o.synthetic(i4, `if ${JSON.stringify(name)} in ${R}[1]:`, at);
        o.synthetic(i4 + STEP, `${name} = ${R}[1][${JSON.stringify(name)}]`, at);
        o.synthetic(i4 + STEP, `if ${JSON.stringify(name)} in ${R}[2]:`, at);
        o.synthetic(i4 + STEP + STEP, `${name} = float(${name})`, at);
      }
      // stop again, now with the new values in place
      o.synthetic(i4, `${PROBE_FN}${fn.level}(${site.id}, ${S}[0], ${FF}, ${FD})`, at);
    }
    return site;
  }

  /** `dict[name] = name` when the name is bound (and its Python type name into `types`): unbound names are skipped. */
  private tryRead(indent: string, dict: string, name: string, at: number, types?: string): void {
    const o = this.out;
    o.synthetic(indent, 'try:', at);
    o.synthetic(indent + STEP, `${dict}[${JSON.stringify(name)}] = ${name}`, at);
    if (types) o.synthetic(indent + STEP, `${types}[${JSON.stringify(name)}] = type(${name}).__name__`, at);
    o.synthetic(indent, 'except NameError:', at);
    o.synthetic(indent + STEP, 'pass', at);
  }

  private statement(s: SyntaxNode, indent: string, fn: FrameFunction): void {
    const o = this.out;
    switch (s.type) {
      case 'function_definition':
        this.probe(s, indent, fn);
        this.function(s, indent, fn.level + 1);
        return;
      case 'decorated_definition':
        this.probe(s, indent, fn);
        this.decorated(s, indent, fn.level + 1);
        return;
      case 'if_statement': {
        this.probe(s, indent, fn);
        const body = field(s, 'consequence')!;
        o.copy(indent, s.startIndex, colonEnd(s, body));
        this.block(body, indent + STEP, fn);
        for (const clause of namedChildren(s).filter(c => c.type === 'elif_clause' || c.type === 'else_clause')) this.clause(clause, indent, fn);
        return;
      }
      case 'for_statement':
      case 'while_statement': {
        // A `for` line is probed only at each iteration, its variable bound (a probe before the loop would see it unbound
        // and stop twice); a `while` line also before its first test (its condition may be false at once).
        const site = s.type === 'while_statement' ? this.probe(s, indent, fn) : this.site(s, fn, true);
        site.loop = true;
        const body = field(s, 'body')!;
        o.copy(indent, s.startIndex, colonEnd(s, body));
        this.probe(s, indent + STEP, fn, site);
        this.block(body, indent + STEP, fn);
        const alt = field(s, 'alternative');
        if (alt) this.clause(alt, indent, fn);
        return;
      }
      case 'try_statement': {
        this.probe(s, indent, fn);
        const body = field(s, 'body')!;
        o.copy(indent, s.startIndex, colonEnd(s, body));
        this.block(body, indent + STEP, fn);
        for (const clause of namedChildren(s).filter(c => c.id !== body.id && c.type !== 'comment')) this.clause(clause, indent, fn);
        return;
      }
      case 'with_statement': {
        this.probe(s, indent, fn);
        const body = field(s, 'body')!;
        o.copy(indent, s.startIndex, colonEnd(s, body));
        this.block(body, indent + STEP, fn);
        return;
      }
      default:
        // Simple statements; also class/match, which Monty refuses as it does in the uninstrumented run.
        this.probe(s, indent, fn);
        o.copy(indent, s.startIndex, s.endIndex);
    }
  }

  /** elif/else/except/finally: the header verbatim, then its block. */
  private clause(clause: SyntaxNode, indent: string, fn: FrameFunction): void {
    const body = namedChildren(clause).filter(c => c.type === 'block').at(-1);
    if (!body) throw new InstrumentError(`a ${clause.type} without a block`);
    this.out.copy(indent, clause.startIndex, colonEnd(clause, body));
    this.block(body, indent + STEP, fn);
  }

  private block(body: SyntaxNode, indent: string, fn: FrameFunction): void {
    const stmts = statements(body);
    if (!stmts.length) this.out.copy(indent, body.startIndex, body.endIndex);
    for (const s of stmts) this.statement(s, indent, fn);
  }

  private decorated(s: SyntaxNode, indent: string, level: number): void {
    for (const d of namedChildren(s).filter(c => c.type === 'decorator')) this.out.copy(indent, d.startIndex, d.endIndex);
    const def = field(s, 'definition');
    if (def?.type === 'function_definition') this.function(def, indent, level);
    else if (def) this.out.copy(indent, def.startIndex, def.endIndex);
  }

  private function(def: SyntaxNode, indent: string, level: number): void {
    const o = this.out;
    const body = field(def, 'body')!;
    const name = field(def, 'name')?.text ?? '?';
    const fn: FrameFunction = { id: this.functions.length, name, level, locals: [...codeNames(def, CN_OPTS).locals].filter(n => !n.startsWith(DBG_PREFIX)), module: false };
    this.functions.push(fn);
    o.copy(indent, def.startIndex, colonEnd(def, body));
    const i2 = indent + STEP;
    const stmts = statements(body);
    const doc = isDocstring(stmts[0]) ? stmts.shift() : undefined;
    if (doc) o.copy(i2, doc.startIndex, doc.endIndex);
    const at = (stmts[0] ?? doc ?? body).startIndex;
    o.synthetic(i2, `${S}[2] += 1`, at);
    o.synthetic(i2, `${S}[3] += 1`, at);
    o.synthetic(i2, `${FD} = ${S}[2]`, at);
    o.synthetic(i2, `${FF} = ${S}[3]`, at);
    o.synthetic(i2, `${L} = 0`, at);
    o.synthetic(i2, 'try:', at);
    if (!stmts.length) o.synthetic(i2 + STEP, 'pass', at);
    for (const s of stmts) this.statement(s, i2 + STEP, fn);
    this.handlers(i2, fn, at, true);
  }

  /** Report the frame's locals while an exception unwinds through it; Monty's own limit errors pass untouched. */
  private handlers(indent: string, fn: FrameFunction, at: number, isFunction: boolean): void {
    const o = this.out;
    const i2 = indent + STEP;
    for (const limit of ['MemoryError', 'RecursionError', 'TimeoutError']) {
      o.synthetic(indent, `except ${limit}:`, at);
      o.synthetic(i2, 'raise', at);
    }
    o.synthetic(indent, 'except BaseException:', at);
    o.synthetic(i2, `${V} = {}`, at);
    o.synthetic(i2, `${T} = {}`, at);
    for (const name of fn.locals) this.tryRead(i2, V, name, at, T);
    o.synthetic(i2, `${REPORT_FN}${fn.level}(${fn.id}, ${L}, ${FF}, ${FD}, ${S}[0], ${V}, ${T})`, at);
    o.synthetic(i2, 'raise', at);
    if (isFunction) {
      o.synthetic(indent, 'finally:', at);
      o.synthetic(i2, `${S}[2] -= 1`, at);
    }
  }

  result(): Instrumented {
    const tracked = new TrackedText(this.out.text.replace(/\n$/, ''), this.out.offsets.slice(0, this.out.text.endsWith('\n') ? -1 : undefined));
    return { code: tracked.text, sourceMap: new SourceMap(tracked, this.task.module), sites: this.sites, functions: this.functions };
  }
}

/** The instrumented copy of `task`'s code. Site and function ids do not depend on `options`. */
export async function instrument(task: SandboxTask, options: InstrumentOptions = {}): Promise<Instrumented> {
  const tree = await parsePython(task.code);
  const err = firstSyntaxError(tree.rootNode);
  if (err) throw new InstrumentError(`the task's code does not parse (offset ${err.startIndex}): the debugger cannot instrument it`);
  const ins = new Instrumenter(task, options);
  ins.module(tree.rootNode);
  return ins.result();
}
