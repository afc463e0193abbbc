/**
 * JS stubs: a `stubs.js` file (one ES module) answers external calls, each
 * exported function the calls to the external of its name. It runs in QuickJS
 * (wasm) with no host access: no require, process, fs, fetch, timers or
 * imports; `console.log` / `print` only reach the `output` option.
 *
 *   export function fib(n) { return n < 2 ? n : fib(n - 1) + fib(n - 2); }
 *   export function load(path) { return { __flyte_io_type__: "File", path, format: this.kwargs.format ?? "" }; }
 *   export function boom() { throw new ValueError("bad input"); }
 *
 * Calling convention: positional arguments are the JS arguments; keyword
 * arguments are always `this.kwargs` (an object, empty without kwargs), so
 * positions never shift whether or not a call passed kwargs. Use `function`,
 * not an arrow function, when a stub reads `this.kwargs`. A stub runs
 * synchronously: returning a Promise (an `async function`) raises TypeError.
 *
 * Values (through the wire encoding, values/wire.ts), Python -> JS -> Python:
 *   None -> null (undefined returns None); bool, str, float -> themselves;
 *   int -> number, or BigInt beyond 2**53 (a BigInt returns an int);
 *   nan/inf -> NaN/Infinity; list -> Array; tuple -> Array remembered as a
 *   tuple: returned unchanged it is a tuple again, `tuple([...])` makes one;
 *   dict with string keys -> plain object (JS orders integer-like keys first),
 *   other dict -> Map (a Map returns a dict); set -> Set; bytes -> Uint8Array;
 *   File/Dir/DataFrame -> their tagged dict, a plain object; an exception
 *   value -> an instance of its class below (an Error returned, not thrown,
 *   is an exception value).
 *
 * Exceptions: `throw new ValueError("...")` raises ValueError. Exception and
 * the classes in PYTHON_EXCEPTIONS (ValueError, KeyError, IndexError,
 * RuntimeError, NotImplementedError, FileNotFoundError, ...) are globals in
 * the stubs, with Python's hierarchy (KeyError is a LookupError); JS's own
 * TypeError stands for Python's. Anything else thrown raises Exception with
 * its message ("RangeError: ..." for JS error classes other than Error).
 *
 * Limits, per call and for loading the file: running time (TimeoutError),
 * QuickJS heap (MemoryError) and QuickJS stack (RecursionError).
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { QuickJSContext, QuickJSHandle, QuickJSRuntime, QuickJSWASMModule } from 'quickjs-emscripten';
import { UsageError } from '../errors.ts';
import { fromWire, toWire, type Wire } from '../values/wire.ts';
import type { CallOutcome, ExternalCall } from '../run/outcome.ts';
import type { Resolver } from '../run/resolvers.ts';

export interface JsStubOptions {
  /** How far the QuickJS heap may grow past its 16 MB start, in bytes (default 32 MB). */
  memoryLimitBytes?: number;
  /** Running time of one call, and of loading the file, in ms (default 1000). */
  timeLimitMs?: number;
  /**
   * QuickJS's stack (default 256 KB, at most 4 MB). QuickJS recurses on
   * Node's own stack too, and overflowing Node's stack under the interpreter
   * wrecks it for good: the default stops JS recursion at about half of it.
   */
  stackLimitBytes?: number;
  /** Receives what `console.log` / `print` write (a line each); without it they write nothing. */
  output?: (text: string) => void;
}

const DEFAULTS = { memoryLimitBytes: 32 * 1024 * 1024, timeLimitMs: 1000, stackLimitBytes: 256 * 1024 };
const MAX_STACK_LIMIT_BYTES = 4 * 1024 * 1024;

const PRELUDE_FILE = 'flyte-js-stubs-prelude.js';
const MAX_TRACEBACK_LINES = 20;

const PYTHON_EXCEPTIONS: [name: string, parent: string][] = [
  ['ArithmeticError', 'Exception'], ['ZeroDivisionError', 'ArithmeticError'], ['OverflowError', 'ArithmeticError'],
  ['LookupError', 'Exception'], ['KeyError', 'LookupError'], ['IndexError', 'LookupError'],
  ['ValueError', 'Exception'], ['AttributeError', 'Exception'], ['AssertionError', 'Exception'], ['NameError', 'Exception'],
  ['RuntimeError', 'Exception'], ['NotImplementedError', 'RuntimeError'], ['RecursionError', 'RuntimeError'],
  ['OSError', 'Exception'], ['FileNotFoundError', 'OSError'], ['FileExistsError', 'OSError'], ['PermissionError', 'OSError'], ['TimeoutError', 'OSError'],
];

/**
 * Evaluated first in every context; its value is a function that installs the
 * globals and returns the bridge ({register, loaded, call}) the host talks to.
 * Users cannot reach the bridge: it is never stored on globalThis.
 */
const PRELUDE = String.raw`(output) => {
  'use strict';
  const { parse, stringify } = JSON;
  const define = (name, value) => Object.defineProperty(globalThis, name, { value, writable: true, configurable: true });

  const PyException = class Exception extends Error {};
  Object.defineProperty(PyException.prototype, 'name', { value: 'Exception', writable: true, configurable: true });
  define('Exception', PyException);
  const pyClasses = new Map([['Exception', PyException]]);
  for (const [name, parent] of ${JSON.stringify(PYTHON_EXCEPTIONS)}) {
    const Parent = pyClasses.get(parent);
    const C = { [name]: class extends Parent {} }[name];
    Object.defineProperty(C.prototype, 'name', { value: name, writable: true, configurable: true });
    pyClasses.set(name, C);
    define(name, C);
  }

  const tuples = new WeakSet();
  define('tuple', items => { const t = Array.from(items); tuples.add(t); return t; });

  const show = v => { if (typeof v === 'string') return v; try { return stringify(v) ?? String(v); } catch { return String(v); } };
  const log = (...values) => { if (output) output(values.map(show).join(' ')); };
  define('print', log);
  define('console', { log, info: log, warn: log, error: log, debug: log });

  const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
  const toBase64 = bytes => {
    let out = '';
    for (let i = 0; i < bytes.length; i += 3) {
      const n = (bytes[i] << 16) | ((bytes[i + 1] ?? 0) << 8) | (bytes[i + 2] ?? 0);
      out += B64[n >> 18] + B64[(n >> 12) & 63] + (i + 1 < bytes.length ? B64[(n >> 6) & 63] : '=') + (i + 2 < bytes.length ? B64[n & 63] : '=');
    }
    return out;
  };
  const fromBase64 = text => {
    const digits = text.replace(/=+$/, '');
    const out = new Uint8Array((digits.length * 3) >> 2);
    let value = 0, bits = 0, j = 0;
    for (const ch of digits) {
      value = ((value << 6) | B64.indexOf(ch)) & 0xffffff;
      bits += 6;
      if (bits >= 8) { bits -= 8; out[j++] = (value >> bits) & 255; }
    }
    return out;
  };

  // {type, message} as Python will see it, plus what the host needs to spot its own limits.
  const describe = e => {
    if (!(e instanceof Error)) return { type: 'Exception', message: show(e) };
    const name = String(e.name), message = String(e.message), stack = String(e.stack ?? '');
    if (e instanceof PyException) return { type: name, message, stack };
    if (name === 'TypeError') return { type: name, message, jsName: name, stack };
    return { type: 'Exception', message: name === 'Error' ? message : name + ': ' + message, jsName: name, stack };
  };
  const pyError = (type, message) => {
    const e = new (pyClasses.get(type) ?? PyException)(message);
    if (!pyClasses.has(type)) e.name = type;
    return e;
  };

  const decode = w => {
    if (w === null || typeof w !== 'object') return w;
    if (Array.isArray(w)) return w.map(decode);
    const keys = Object.keys(w);
    if (keys.length === 1 || (keys.length === 2 && '$exception' in w)) {
      const v = w[keys[0]];
      switch (keys[0]) {
        case '$tuple': { const t = v.map(decode); tuples.add(t); return t; }
        case '$set': return new Set(v.map(decode));
        case '$bytes': return fromBase64(v);
        case '$int': return BigInt(v);
        case '$float': return v === 'nan' ? NaN : v === 'inf' ? Infinity : -Infinity;
        case '$dict': {
          const entries = v.map(([k, x]) => [decode(k), decode(x)]);
          return entries.every(([k]) => typeof k === 'string') ? Object.fromEntries(entries) : new Map(entries);
        }
        case '$exception': return pyError(v, w.message ?? '');
      }
    }
    return Object.fromEntries(keys.map(k => [k, decode(w[k])]));
  };

  const INTEGER_LIKE = /^(0|-?[1-9]\d*)$/;
  const encodeEntries = (entries, seen) => {
    if (entries.every(([k]) => typeof k === 'string' && !INTEGER_LIKE.test(k) && !k.startsWith('$'))) {
      const out = Object.create(null);
      for (const [k, v] of entries) out[k] = encode(v, seen);
      return out;
    }
    return { $dict: entries.map(([k, v]) => [encode(k, seen), encode(v, seen)]) };
  };
  const encode = (v, seen) => {
    switch (typeof v) {
      case 'undefined': return null;
      case 'boolean': case 'string': return v;
      case 'number': return Number.isFinite(v) ? v : { $float: v !== v ? 'nan' : v > 0 ? 'inf' : '-inf' };
      case 'bigint': return { $int: String(v) };
      case 'object': break;
      default: throw new TypeError('a JS stub cannot return a ' + typeof v + ' to Python');
    }
    if (v === null) return null;
    if (seen.has(v)) throw new ValueError('a JS stub returned a value that contains itself');
    seen.add(v);
    try {
      if (Array.isArray(v)) { const items = v.map(x => encode(x, seen)); return tuples.has(v) ? { $tuple: items } : items; }
      if (v instanceof Uint8Array) return { $bytes: toBase64(v) };
      if (v instanceof Set) return { $set: Array.from(v, x => encode(x, seen)) };
      if (v instanceof Map) return encodeEntries(Array.from(v), seen);
      if (v instanceof Error) { const d = describe(v); return { $exception: d.type, message: d.message }; }
      const proto = Object.getPrototypeOf(v);
      if (proto === Object.prototype || proto === null) return encodeEntries(Object.entries(v), seen);
      throw new TypeError('a JS stub cannot return a ' + (v.constructor?.name ?? 'object') + ' to Python (use plain objects, arrays, Map, Set, Uint8Array or tuple([...]))');
    } finally {
      seen.delete(v);
    }
  };

  let exported, settled = { state: 'pending' };
  return {
    register(moduleResult) {
      Promise.resolve(moduleResult).then(ns => { exported = ns; settled = { state: 'ok' }; }, error => { settled = { state: 'failed', error }; });
    },
    loaded() {
      if (settled.state === 'failed') throw settled.error;
      if (settled.state === 'pending') throw new Error('the module never finished loading: its top-level await waits for something that cannot happen here (JS stubs have no timers or I/O)');
      return stringify(Object.keys(exported).filter(k => k !== 'default' && typeof exported[k] === 'function'));
    },
    call(request) {
      const [name, args, kwargs] = parse(request);
      try {
        const result = exported[name].apply({ kwargs: decode(kwargs) }, decode(args));
        if (result !== null && typeof result === 'object' && typeof result.then === 'function') throw new TypeError(name + '() returned a Promise: JS stubs run synchronously (no async function, no await)');
        return stringify({ ok: true, value: encode(result, new Set()) });
      } catch (e) {
        return stringify({ ok: false, error: describe(e) });
      }
    },
  };
}`;

/** A JS exception as the bridge describes it, or as QuickJS hands it over when it escapes the bridge. */
interface Thrown {
  type: string;
  message: string;
  jsName?: string;
  stack?: string;
}

type Reply = { ok: true; value: Wire } | { ok: false; error: Thrown };

/** The slice of the WebAssembly API used here: the project's lib (ES2022, no DOM) has no WebAssembly types. */
interface WasmApi {
  compile(bytes: Uint8Array): Promise<object>;
  Memory: new (descriptor: { initial: number; maximum: number }) => object;
}
const { WebAssembly: wasm } = globalThis as unknown as { WebAssembly: WasmApi };

/** The compiled wasm and the glue around it: loaded once per process, from the file in node_modules (no fetch: works offline and bundled). */
let quickjsCode: Promise<{ compiled: object; glue: typeof import('quickjs-emscripten') }> | undefined;

function loadQuickJSCode(): NonNullable<typeof quickjsCode> {
  quickjsCode ??= (async () => {
    const glue = await import('quickjs-emscripten');
    // beside the bundle in dist/ (a packaged extension has no node_modules for it), else from node_modules
    const bundled = join(dirname(fileURLToPath(import.meta.url)), 'quickjs.wasm');
    const file = existsSync(bundled) ? bundled : createRequire(createRequire(import.meta.url).resolve('quickjs-emscripten')).resolve('@jitl/quickjs-wasmfile-release-sync/wasm');
    const compiled = await wasm.compile(await readFile(file));
    return { compiled, glue };
  })().catch((e: unknown) => {
    quickjsCode = undefined;
    throw e;
  });
  return quickjsCode;
}

const WASM_PAGE = 64 * 1024;
/** What the wasm starts with (its static data, C stack and QuickJS's own start-up heap): emscripten's INITIAL_MEMORY. */
const WASM_INITIAL_BYTES = 16 * 1024 * 1024;

/**
 * A QuickJS instance of its own, whose linear memory cannot grow past the
 * limit. QuickJS's own `setMemoryLimit` does not hold under emscripten: it
 * counts 8 bytes per allocation instead of its size (quickjs-emscripten issues
 * #255, #271), so a stub could grow the wasm to 2 GB. A capped memory makes
 * malloc fail instead, which QuickJS raises as "out of memory"; and a stub
 * that wrecks its instance spoils no other.
 */
async function newQuickJS(memoryLimitBytes: number): Promise<QuickJSWASMModule> {
  const { compiled, glue } = await loadQuickJSCode();
  const maximum = Math.ceil((WASM_INITIAL_BYTES + memoryLimitBytes) / WASM_PAGE);
  const wasmMemory = new wasm.Memory({ initial: WASM_INITIAL_BYTES / WASM_PAGE, maximum });
  return glue.newQuickJSWASMModule(glue.newVariant(glue.RELEASE_SYNC, { wasmModule: compiled, wasmMemory }));
}

function asThrown(dumped: unknown): Thrown {
  if (dumped !== null && typeof dumped === 'object' && 'message' in dumped) {
    const { name, message, stack } = dumped as { name?: unknown; message?: unknown; stack?: unknown };
    return { type: 'Exception', message: String(message), jsName: String(name ?? 'Error'), stack: typeof stack === 'string' ? stack : '' };
  }
  return { type: 'Exception', message: String(dumped) };
}

const isOutOfMemory = (t: Thrown) => t.jsName === 'InternalError' && t.message.endsWith('out of memory');
const isStackOverflow = (t: Thrown) => t.jsName !== undefined && /stack overflow/.test(t.message);

type JsStubLimits = Required<Omit<JsStubOptions, 'output'>>;

function limitsOf(options: JsStubOptions): JsStubLimits {
  const limits: JsStubLimits = {
    memoryLimitBytes: options.memoryLimitBytes ?? DEFAULTS.memoryLimitBytes,
    timeLimitMs: options.timeLimitMs ?? DEFAULTS.timeLimitMs,
    stackLimitBytes: options.stackLimitBytes ?? DEFAULTS.stackLimitBytes,
  };
  for (const [key, value] of Object.entries(limits)) {
    if (!(Number.isFinite(value) && value > 0)) throw new UsageError(`JS stubs: '${key}' must be a positive number, got ${String(value)}`);
  }
  // QuickJS measures its stack down from the top of the wasm's C stack (about 5 MB): a larger limit wraps around and fails every call.
  if (limits.stackLimitBytes > MAX_STACK_LIMIT_BYTES) throw new UsageError(`JS stubs: 'stackLimitBytes' can be at most ${MAX_STACK_LIMIT_BYTES / (1024 * 1024)} MB, got ${limits.stackLimitBytes}`);
  return limits;
}

function megabytes(bytes: number): string {
  return `${Math.round((bytes / (1024 * 1024)) * 10) / 10} MB`;
}

export class JsStubResolver implements Resolver {
  readonly source = 'stub' as const;
  private readonly runtime: QuickJSRuntime;
  private readonly context: QuickJSContext;
  private readonly bridge: QuickJSHandle;
  private readonly callBridge: QuickJSHandle;
  private functions = new Set<string>();
  private deadline = Infinity;
  private interrupted = false;
  /** Set when the host failed under the interpreter: its state is lost and the stubs answer no more. */
  private broken: string | undefined;
  private disposed = false;

  static async load(path: string, options: JsStubOptions = {}): Promise<JsStubResolver> {
    let source: string;
    try {
      source = await readFile(path, 'utf8');
    } catch (e) {
      throw new UsageError(`cannot read the JS stubs file: ${(e as Error).message}`, path);
    }
    const limits = limitsOf(options);
    const resolver = new JsStubResolver(path, await newQuickJS(limits.memoryLimitBytes), limits, options.output);
    try {
      resolver.evaluate(source);
    } catch (e) {
      resolver.dispose();
      throw e;
    }
    return resolver;
  }

  private constructor(readonly path: string, quickjs: QuickJSWASMModule, private readonly limits: JsStubLimits, output: JsStubOptions['output']) {
    this.runtime = quickjs.newRuntime();
    this.runtime.setMemoryLimit(this.limits.memoryLimitBytes); // only bounds single allocations here: the wasm memory is the real cap
    this.runtime.setMaxStackSize(this.limits.stackLimitBytes);
    this.runtime.setInterruptHandler(() => {
      if (performance.now() < this.deadline) return false;
      this.interrupted = true;
      return true;
    });
    this.context = this.runtime.newContext();
    const ctx = this.context;
    const install = ctx.evalCode(PRELUDE, PRELUDE_FILE, { type: 'global' }).unwrap();
    const sink = output ? ctx.newFunction('output', text => void output(ctx.getString(text))) : ctx.undefined;
    this.bridge = ctx.callFunction(install, ctx.undefined, sink).unwrap();
    install.dispose();
    sink.dispose();
    this.callBridge = ctx.getProp(this.bridge, 'call');
  }

  /** The exported functions: the externals these stubs answer. */
  names(): string[] {
    return [...this.functions];
  }

  resolve(call: ExternalCall): CallOutcome | undefined {
    if (!this.functions.has(call.function)) return undefined;
    if (this.disposed) throw new Error(`the JS stubs in ${this.path} were disposed`);
    const fn = call.function;
    if (this.broken) return { kind: 'raise', type: 'RuntimeError', message: `the JS stubs in ${this.path} stopped working after ${this.broken}: load them again`, source: 'stub' };
    const request = this.context.newString(JSON.stringify([fn, toWire(call.args), toWire(call.kwargs)]));
    let reply: Reply;
    try {
      reply = this.withinTimeLimit(() => this.readReply(this.context.callFunction(this.callBridge, this.context.undefined, request)));
    } catch (e) {
      // Node's stack overflowed inside the wasm (or the wasm aborted): QuickJS never unwound and its state is lost.
      this.broken = `JS stub ${fn}() failed in the host (${(e as Error).message})`;
      return { kind: 'raise', type: (e as Error).name === 'RangeError' ? 'RecursionError' : 'RuntimeError', message: `${this.broken}: the JS stubs answer no more calls`, source: 'stub' };
    }
    request.dispose();
    if (reply.ok) return { kind: 'return', value: fromWire(reply.value), source: 'stub' };
    const { type, message } = this.explain(fn, reply.error);
    const traceback = this.jsTraceback(reply.error);
    return { kind: 'raise', type, message, ...(traceback ? { traceback } : {}), source: 'stub' };
  }

  /** Frees the QuickJS runtime. A broken one is left to the garbage collector with its wasm instance: freeing it could abort. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    if (this.broken) return;
    this.callBridge.dispose();
    this.bridge.dispose();
    this.context.dispose();
    this.runtime.dispose();
  }

  private evaluate(source: string): void {
    const ctx = this.context;
    const evaluated = this.withinTimeLimit(() => ctx.evalCode(source, this.path, { type: 'module' }));
    if (evaluated.error) throw this.loadError(this.consume(evaluated.error));
    const register = ctx.getProp(this.bridge, 'register');
    ctx.callFunction(register, ctx.undefined, evaluated.value).unwrap().dispose();
    register.dispose();
    evaluated.value.dispose();
    const jobs = this.withinTimeLimit(() => this.runtime.executePendingJobs());
    if (jobs.error) throw this.loadError(this.consume(jobs.error));
    const loaded = ctx.getProp(this.bridge, 'loaded');
    const names = ctx.callFunction(loaded, ctx.undefined);
    loaded.dispose();
    if (names.error) throw this.loadError(this.consume(names.error));
    this.functions = new Set(JSON.parse(ctx.getString(names.value)) as string[]);
    names.value.dispose();
    if (this.functions.size === 0) throw new UsageError('exports no function: each exported function answers the calls to the external of its name (export function fib(n) { ... })', this.path);
  }

  private withinTimeLimit<T>(run: () => T): T {
    this.interrupted = false;
    this.deadline = performance.now() + this.limits.timeLimitMs;
    try {
      return run();
    } finally {
      this.deadline = Infinity;
    }
  }

  private readReply(result: ReturnType<QuickJSContext['callFunction']>): Reply {
    if (result.error) return { ok: false, error: this.consume(result.error) };
    const text = this.context.getString(result.value);
    result.value.dispose();
    return JSON.parse(text) as Reply;
  }

  private consume(error: QuickJSHandle): Thrown {
    const thrown = asThrown(this.context.dump(error));
    error.dispose();
    return thrown;
  }

  /** The exception Python sees: the stub's own, or the limit that stopped it. */
  private explain(fn: string, thrown: Thrown): { type: string; message: string } {
    if (this.interrupted) return { type: 'TimeoutError', message: `JS stub ${fn}() ran longer than ${this.limits.timeLimitMs} ms and was stopped` };
    if (isOutOfMemory(thrown)) return { type: 'MemoryError', message: `JS stub ${fn}() ran out of memory (limit ${megabytes(this.limits.memoryLimitBytes)}) and was stopped` };
    if (isStackOverflow(thrown)) return { type: 'RecursionError', message: `JS stub ${fn}() overflowed the JS stack (${Math.round(this.limits.stackLimitBytes / 1024)} KB): recursion too deep` };
    return { type: thrown.type, message: thrown.message };
  }

  /** The JS stack of the stubs file, runs of one frame (deep recursion) folded as Python folds them. */
  private jsTraceback(thrown: Thrown): string | undefined {
    const frames = (thrown.stack ?? '').split('\n').map(l => l.trim()).filter(l => l && !l.includes(PRELUDE_FILE));
    if (frames.at(-1) === 'at apply (native)') frames.pop(); // the bridge calling the stub
    const lines: string[] = [];
    for (let i = 0; i < frames.length && lines.length < MAX_TRACEBACK_LINES; ) {
      let last = i;
      while (frames[last + 1] === frames[i]) last++;
      lines.push(`  ${frames[i]}`);
      if (last > i) lines.push(`  [previous line repeated ${last - i} more times]`);
      i = last + 1;
    }
    return lines.length ? `JS stub traceback (most recent call first):\n${lines.join('\n')}` : undefined;
  }

  private loadError(thrown: Thrown): UsageError {
    if (this.interrupted) return new UsageError(`loading the JS stubs ran longer than ${this.limits.timeLimitMs} ms and was stopped`, this.path);
    if (isOutOfMemory(thrown)) return new UsageError(`loading the JS stubs ran out of memory (limit ${megabytes(this.limits.memoryLimitBytes)})`, this.path);
    const imported = /could not load module '([^']*)'/.exec(thrown.message);
    if (imported) return new UsageError(`JS stubs cannot import modules (import '${imported[1]}'): a stubs file is one self-contained module without host access`, this.path);
    const at = this.positionIn(thrown.stack ?? '');
    const where = at ? `${this.path}:${at}` : this.path;
    if (thrown.jsName === 'SyntaxError') return new UsageError(`syntax error: ${thrown.message}`, where);
    return new UsageError(`loading the JS stubs failed: ${thrown.jsName ? `${thrown.jsName}: ` : ''}${thrown.message}`, where);
  }

  /** "line:column" of the first stack frame in the stubs file. */
  private positionIn(stack: string): string | undefined {
    for (const line of stack.split('\n')) {
      const i = line.lastIndexOf(`${this.path}:`);
      if (i < 0) continue;
      const m = /^(\d+):(\d+)/.exec(line.slice(i + this.path.length + 1));
      if (m) return `${m[1]}:${m[2]}`;
    }
    return undefined;
  }
}
