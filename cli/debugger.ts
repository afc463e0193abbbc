/**
 * `flyte-sandbox debug FILE`: a pdb-style prompt on the debug runtime (the
 * same one the DAP adapter drives, in its own child process), for a
 * terminal with no editor. Commands are read line by line from stdin, so a
 * script can be piped in; each waits until the run is stopped.
 */
import { readFileSync } from 'node:fs';
import { relative, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import type { EndInfo, RuntimeApi, StackFrameInfo, StoppedInfo } from '../engine/debug/api.ts';
import { MAIN_THREAD } from '../engine/debug/api.ts';
import { RemoteRuntime } from '../engine/host/remoteRuntime.ts';
import { UsageError } from '../engine/index.ts';
import { typedRepr } from '../engine/values/python.ts';
import { jsonArgument, type CliArgs } from './args.ts';

const HELP = `Commands (as pdb):
  b                    list breakpoints
  b LINE [, COND]      break before line LINE of the file (any statement of the task)
  b FUNC [, COND]      break at calls to the external FUNC
  cl [LINE|FUNC]       clear one breakpoint, or all
  c                    continue          n   next line (over calls)
  s                    step into          r   return (step out)
  back                 step back (by line at a line, by call at a call)
  p EXPR               evaluate in the selected frame (EXPR alone works too)
  a                    the selected frame's locals
  l                    the source around the current line
  w                    where: the stack (> marks the selected frame)
  u / d                select the frame above / below
  !return EXPR         answer the pending external call with a value
  !raise EXC           make it raise (as in Flyte, the run then ends)
  !forward             run the real Python function
  !stub EXPR           answer it, and later calls to it, with EXPR
  q                    quit (the run is stopped)`;

interface Breakpoint {
  kind: 'line' | 'function';
  at: string;
  condition?: string;
}

export class TerminalDebugger {
  private frames: StackFrameInfo[] = [];
  private selected = 0;
  private stop: StoppedInfo | undefined;
  private ended: EndInfo | undefined;
  private readonly breakpoints: Breakpoint[] = [];
  private wake: (() => void) | undefined;
  private file = '';
  private source: string[] = [];

  constructor(private readonly runtime: RuntimeApi, private readonly out: (s: string) => void) {
    runtime.on('stopped', s => {
      this.stop = s;
      this.wake?.();
    });
    runtime.on('continued', () => {
      this.stop = undefined;
    });
    runtime.on('output', o => {
      if (o.category === 'stdout') process.stdout.write(o.text);
      else if (o.category === 'stderr') process.stderr.write(o.text);
      else this.out(o.text.replace(/\n$/, ''));
    });
    runtime.on('ended', e => {
      this.ended = e;
      this.wake?.();
    });
  }

  /** Wait until the run is stopped (or over). */
  private settled(): Promise<void> {
    if (this.stop || this.ended) return Promise.resolve();
    return new Promise(resolve => {
      this.wake = () => {
        this.wake = undefined;
        resolve();
      };
    });
  }

  async start(launch: Record<string, unknown>): Promise<void> {
    const info = await this.runtime.launch(launch);
    this.file = info.file;
    this.source = readFileSync(info.file, 'utf8').split('\n');
    this.out(`debugging ${info.task} (${relative(process.cwd(), info.file)}:${info.line}); h for help`);
    await this.runtime.setExceptionFilters([{ filterId: 'uncaught' }]);
    await this.runtime.configurationDone();
  }

  private async where(): Promise<void> {
    this.frames = await this.runtime.stack(this.stop?.threadId ?? MAIN_THREAD);
    this.selected = 0;
  }

  private frameLine(f: StackFrameInfo, marker = '>'): string {
    const bare = f.label || f.name.includes('  [');
    return `${marker} ${f.file ? relative(process.cwd(), f.file) : '?'}(${f.line})${bare ? ` ${f.name}` : `${f.name}()`}`;
  }

  /** What pdb prints at each stop: where, and the line about to run. */
  private async showStop(): Promise<void> {
    const s = this.stop!;
    await this.where();
    if (s.reason === 'exception') this.out(`*** ${s.description}`);
    else if (s.reason === 'data breakpoint') this.out(`data breakpoint: ${s.description}`);
    else if (s.reason === 'external call' || s.reason === 'function breakpoint') this.out(`external call ${s.description}${s.reason === 'function breakpoint' ? ' (breakpoint)' : ''}: !return EXPR, !raise EXC, !forward, or c to let stubs answer`);
    else if (s.text && s.reason === 'breakpoint' && s.description.startsWith('breakpoint()')) this.out(s.text);
    const f = this.frames[0];
    if (!f) return;
    this.out(this.frameLine(f));
    this.out(`-> ${this.source[f.line - 1]?.trim() ?? ''}`);
  }

  /** One command; false when the session is over. */
  async command(line: string): Promise<boolean> {
    const text = line.trim();
    if (!text) return true;
    const [verb, ...restParts] = text.split(/\s+/);
    const rest = text.slice(verb!.length).trim();
    void restParts;
    const thread = this.stop?.threadId ?? MAIN_THREAD;
    const resume = async (action: () => Promise<void>): Promise<boolean> => {
      if (this.ended) {
        this.out('the run has ended');
        return false;
      }
      this.stop = undefined;
      await action();
      await this.settled();
      if (this.ended) return false;
      await this.showStop();
      return true;
    };
    try {
      switch (verb) {
        case 'h': case 'help': this.out(HELP); return true;
        case 'c': case 'cont': case 'continue': return await resume(() => this.runtime.continue(thread));
        case 'n': case 'next': return await resume(() => this.runtime.next(thread));
        case 's': case 'step': return await resume(() => this.runtime.stepIn(thread));
        case 'r': case 'return': return await resume(() => this.runtime.stepOut(thread));
        case 'back': return await resume(() => this.runtime.stepBack(thread));
        case 'q': case 'quit': case 'exit':
          await this.runtime.terminate();
          return false;
        case 'b': case 'break': await this.break(rest); return true;
        case 'cl': case 'clear': await this.clear(rest); return true;
        case 'w': case 'where': case 'bt':
          await this.where();
          this.frames.forEach((f, i) => this.out(this.frameLine(f, i === this.selected ? '>' : ' ')));
          return true;
        case 'u': case 'up': case 'd': case 'down': {
          const next = this.selected + (verb.startsWith('u') ? 1 : -1);
          if (next < 0 || next >= this.frames.length) this.out(verb.startsWith('u') ? '*** Oldest frame' : '*** Newest frame');
          else {
            this.selected = next;
            this.out(this.frameLine(this.frames[next]!));
          }
          return true;
        }
        case 'l': case 'list': this.list(); return true;
        case 'a': case 'args': case 'locals': await this.locals(); return true;
        case 'p': case 'pp': await this.print(rest); return true;
        default:
          if (text.startsWith('!')) {
            // An answer resumes the run: its next stop may arrive before the reply does.
            const resumes = /^!(return|stub|raise|forward)\b/.test(text);
            const before = this.stop;
            if (resumes) this.stop = undefined;
            let r;
            try {
              r = await this.runtime.evaluate(text, thread);
            } catch (e) {
              if (resumes && !this.stop) this.stop = before;
              throw e;
            }
            this.out(r.result);
            if (!resumes) return true;
            await this.settled();
            if (this.ended) return false;
            await this.showStop();
            return true;
          }
          await this.print(text);
          return true;
      }
    } catch (e) {
      this.out(`*** ${(e as Error).message}`);
      return true;
    }
  }

  private async print(expression: string): Promise<void> {
    if (!expression) throw new Error('p needs an expression');
    const frame = this.frames[this.selected];
    const r = await this.runtime.evaluate(expression, this.stop?.threadId ?? MAIN_THREAD, frame?.id);
    this.out(r.result);
  }

  private async locals(): Promise<void> {
    const frame = this.frames[this.selected];
    const info = frame ? await this.runtime.frameLocals(frame.id) : undefined;
    if (!info) {
      this.out('*** no locals in this frame');
      return;
    }
    if (info.unavailable) this.out(`*** ${info.unavailable}`);
    for (const [k, v] of info.locals) this.out(`${k} = ${typedRepr(v, info.types.get(k))}`);
  }

  private list(): void {
    const frame = this.frames[this.selected];
    const at = frame?.line ?? 1;
    for (let n = Math.max(1, at - 5); n <= Math.min(this.source.length, at + 5); n++) {
      this.out(`${String(n).padStart(4)}${n === at ? ' ->' : '   '} ${this.source[n - 1]}`);
    }
  }

  private async break(spec: string): Promise<void> {
    if (!spec) {
      if (!this.breakpoints.length) this.out('no breakpoints');
      this.breakpoints.forEach((b, i) => this.out(`${i + 1}  ${b.kind} ${b.at}${b.condition ? `, ${b.condition}` : ''}`));
      return;
    }
    const [where, ...cond] = spec.split(',');
    const at = where!.trim();
    const condition = cond.join(',').trim() || undefined;
    this.breakpoints.push({ kind: /^\d+$/.test(at) ? 'line' : 'function', at, ...(condition ? { condition } : {}) });
    const added = await this.sync();
    const status = added.find(s => s.at === at);
    if (status && !status.verified) {
      this.breakpoints.splice(this.breakpoints.findIndex(b => b.at === at), 1);
      this.out(`*** ${status.message}`);
    } else this.out(`Breakpoint ${this.breakpoints.length} at ${/^\d+$/.test(at) ? `${relative(process.cwd(), this.file)}:${status?.line ?? at}` : `calls to ${at}`}`);
  }

  private async clear(spec: string): Promise<void> {
    const before = this.breakpoints.length;
    for (let i = this.breakpoints.length - 1; i >= 0; i--) if (!spec || this.breakpoints[i]!.at === spec || String(i + 1) === spec) this.breakpoints.splice(i, 1);
    await this.sync();
    this.out(`cleared ${before - this.breakpoints.length} breakpoint(s)`);
  }

  /** Send the breakpoint list; statuses by what was asked. */
  private async sync(): Promise<{ at: string; verified: boolean; message?: string; line?: number }[]> {
    const lines = this.breakpoints.filter(b => b.kind === 'line');
    const fns = this.breakpoints.filter(b => b.kind === 'function');
    const ls = await this.runtime.setLineBreakpoints(this.file, lines.map(b => ({ line: Number(b.at), ...(b.condition ? { condition: b.condition } : {}) })));
    const fs = await this.runtime.setFunctionBreakpoints(fns.map(b => ({ name: b.at, ...(b.condition ? { condition: b.condition } : {}) })));
    return [...lines.map((b, i) => ({ at: b.at, ...ls[i]! })), ...fns.map((b, i) => ({ at: b.at, ...fs[i]! }))];
  }

  /** Read commands until the session ends; the exit code. */
  async loop(input: NodeJS.ReadableStream): Promise<number> {
    const rl = createInterface({ input, terminal: false });
    const lines: string[] = [];
    let closed = false;
    let more: (() => void) | undefined;
    rl.on('line', l => {
      lines.push(l);
      more?.();
    });
    rl.on('close', () => {
      closed = true;
      more?.();
    });
    await this.settled();
    if (!this.ended) await this.showStop();
    const prompt = process.stdout.isTTY ? '(flyte) ' : '';
    while (!this.ended) {
      if (prompt) process.stdout.write(prompt);
      while (!lines.length && !closed) await new Promise<void>(r => (more = () => { more = undefined; r(); }));
      if (!lines.length) {
        await this.runtime.terminate();
        break;
      }
      const line = lines.shift()!;
      if (!prompt) this.out(`(flyte) ${line}`);
      if (!(await this.command(line))) break;
    }
    rl.close();
    // The runtime has printed the result (console) or the traceback (stderr) already.
    const end = this.ended as EndInfo | undefined;
    if (end?.status === 'ok') return 0;
    if (!end?.error || end.error.origin === 'stopped') this.out('(the run was stopped)');
    return 1;
  }
}

export async function debugCommand(args: CliArgs, out: (s: string) => void): Promise<number> {
  const inputs = args.inputs !== undefined ? await jsonArgument(args.inputs, '--inputs') : undefined;
  let stubs: unknown;
  if (args.stubs !== undefined) stubs = args.stubs.trimStart().startsWith('{') ? await jsonArgument(args.stubs, '--stubs') : resolve(args.stubs);
  const limits = args.limits !== undefined ? await jsonArgument(args.limits, '--limits') : undefined;
  const launch: Record<string, unknown> = {
    program: resolve(args.file!),
    cwd: process.cwd(),
    stopOnEntry: true,
    stopOnExternalCall: args.stopOnCalls ? 'all' : 'none',
    ...(args.task !== undefined ? { task: args.task } : {}),
    ...(inputs !== undefined ? { inputs } : {}),
    ...(stubs !== undefined ? { stubs } : {}),
    ...(args.stubModule !== undefined ? { stubModule: resolve(args.stubModule) } : {}),
    ...(args.forward !== undefined ? { forward: args.forward } : {}),
    ...(args.python !== undefined ? { python: args.python } : {}),
    ...(limits !== undefined ? { limits } : {}),
    ...(args.externals.length ? { externals: args.externals } : {}),
    ...(args.raiseInSandbox ? { raiseInSandbox: true } : {}),
    ...(args.pythonVersion !== undefined ? { pythonVersion: args.pythonVersion } : {}),
    ...(args.cassette.record ? { record: resolve(args.cassette.record) } : {}),
    ...(args.cassette.replay ? { replay: resolve(args.cassette.replay) } : {}),
  };
  const runtime = new RemoteRuntime();
  const dbg = new TerminalDebugger(runtime, out);
  try {
    await dbg.start(launch);
  } catch (e) {
    await runtime.terminate();
    // "inputs: expected ..." names the attribute; as an option it is --inputs
    throw new UsageError((e as Error).message.replace(/^(\w+): /, (_m, a: string) => `--${a.replace(/[A-Z]/g, c => `-${c.toLowerCase()}`)}: `));
  }
  try {
    return await dbg.loop(process.stdin);
  } finally {
    await runtime.terminate();
  }
}
