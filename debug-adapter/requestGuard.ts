/**
 * Every request gets exactly one response and none takes the adapter down,
 * whatever the order or the arguments (a DAP client sends whatever its user
 * clicks). Three layers, none of which needs to know the handlers:
 *
 * - the session's phase (initialized, launching, configuring, running, ended)
 *   decides which requests make sense now; the others are refused with why
 *   (`configurationDone` before `launch`, a second `launch`);
 * - each request's arguments are checked against the protocol's shape first
 *   (`requestArgs.ts`);
 * - every `*Request` handler the session defines is wrapped so that a throw or
 *   a rejected promise becomes an error response (or, after the response was
 *   sent, an output event), never an unhandled error.
 *
 * Requests the session does not implement are refused rather than answered
 * with the library's empty success.
 */
import { DebugSession, OutputEvent } from '@vscode/debugadapter';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { argumentProblem } from './requestArgs.ts';

export type Phase = 'new' | 'initialized' | 'launching' | 'configuring' | 'running' | 'ended' | 'disconnected';

/** Handler method of each standard request (the library's names, with its spelling of BreakPoints). */
function handlerName(command: string): string {
  if (command === 'setBreakpoints') return 'setBreakPointsRequest';
  if (command === 'setFunctionBreakpoints') return 'setFunctionBreakPointsRequest';
  if (command === 'setExceptionBreakpoints') return 'setExceptionBreakPointsRequest';
  return `${command}Request`;
}

const STANDARD = new Set(['initialize', 'launch', 'attach', 'disconnect', 'terminate', 'restart', 'setBreakpoints', 'setFunctionBreakpoints', 'setExceptionBreakpoints', 'configurationDone', 'continue', 'next', 'stepIn', 'stepOut', 'stepBack', 'reverseContinue', 'restartFrame', 'goto', 'pause', 'stackTrace', 'scopes', 'variables', 'setVariable', 'setExpression', 'source', 'threads', 'terminateThreads', 'evaluate', 'stepInTargets', 'gotoTargets', 'completions', 'exceptionInfo', 'loadedSources', 'dataBreakpointInfo', 'setDataBreakpoints', 'readMemory', 'writeMemory', 'disassemble', 'cancel', 'breakpointLocations', 'setInstructionBreakpoints']);

/** Requests that configure the session: allowed once the launch has sent the initialized event, and during the run. */
const CONFIGURATION = new Set(['setBreakpoints', 'setFunctionBreakpoints', 'setExceptionBreakpoints', 'setDataBreakpoints', 'dataBreakpointInfo', 'breakpointLocations']);

/** Requests answered the same in every phase. */
const ALWAYS = new Set(['disconnect', 'terminate', 'cancel']);

interface Session {
  sendResponse(response: DebugProtocol.Response): void;
  sendEvent(event: DebugProtocol.Event): void;
}

type Responder = (response: DebugProtocol.Response, message: string, id: number) => void;

export class RequestGuard {
  phase: Phase = 'new';
  private program = '';
  private handlers: Set<string> | undefined;
  /** Requests answered so far (a second response to one is dropped: exactly one each). */
  private readonly answered = new Set<number>();
  /** A launch whose response waits for configurationDone. */
  private pendingLaunch: DebugProtocol.Request | undefined;

  constructor(private readonly session: DebugSession & Session, private readonly log: (text: string) => void = text => process.stderr.write(text)) {}

  /** Wrap the session's handlers and watch what it sends; call once, from its constructor. */
  install(): void {
    const s = this.session as unknown as Record<string, unknown>;
    const sendEvent = this.session.sendEvent.bind(this.session);
    s.sendEvent = (event: DebugProtocol.Event) => {
      if (event.event === 'initialized' && this.phase === 'launching') this.phase = 'configuring';
      if (event.event === 'terminated' && this.phase !== 'disconnected') this.phase = 'ended';
      sendEvent(event);
      if (event.event === 'terminated' && this.pendingLaunch) {
        const launch = this.pendingLaunch;
        this.pendingLaunch = undefined;
        refusal(this.session)(launch as unknown as DebugProtocol.Response, 'launch: the run ended before configurationDone', 1018);
      }
    };
    const sendResponse = this.session.sendResponse.bind(this.session);
    s.sendResponse = (response: DebugProtocol.Response) => {
      if (this.answered.has(response.request_seq)) {
        this.log(`flyte-sandbox debug adapter: a second response to request ${response.request_seq} (${response.command}) was dropped\n`);
        return;
      }
      this.answered.add(response.request_seq);
      if (response.command === 'launch') {
        if (this.pendingLaunch?.seq === response.request_seq) this.pendingLaunch = undefined;
        if (!response.success && this.phase === 'launching') this.phase = 'initialized';
      }
      sendResponse(response);
    };
    for (const name of this.ownHandlers()) {
      const original = s[name] as (...a: unknown[]) => unknown;
      const responseAt = name === 'customRequest' ? 1 : 0;
      s[name] = (...args: unknown[]) => {
        const response = args[responseAt] as DebugProtocol.Response;
        try {
          const r = original.apply(this.session, args);
          if (r && typeof (r as Promise<unknown>).then === 'function') (r as Promise<unknown>).then(undefined, (e: unknown) => this.internalError(response, e));
        } catch (e) {
          this.internalError(response, e);
        }
      };
    }
  }

  /** Handlers defined by the session's own classes (not the library's defaults). */
  private ownHandlers(): string[] {
    const names = new Set<string>();
    for (let p = Object.getPrototypeOf(this.session) as object | null; p && p !== DebugSession.prototype; p = Object.getPrototypeOf(p) as object | null) {
      for (const n of Object.getOwnPropertyNames(p)) if (n.endsWith('Request') && typeof (p as Record<string, unknown>)[n] === 'function') names.add(n);
    }
    return [...names];
  }

  private implemented(command: string): boolean {
    if (command === 'initialize' || command === 'cancel') return true;
    this.handlers ??= new Set(this.ownHandlers());
    return this.handlers.has(STANDARD.has(command) ? handlerName(command) : 'customRequest');
  }

  /**
   * Decide whether `request` goes to its handler. When it does not, it has
   * been answered here; `request.arguments` may be normalised in place.
   */
  admit(request: DebugProtocol.Request, refuse: Responder): boolean {
    const command = request.command;
    if (!this.implemented(command)) {
      refuse(request as unknown as DebugProtocol.Response, `'${command}' is not supported by the Flyte sandbox debugger`, 1014);
      return false;
    }
    const problem = argumentProblem(command, request.arguments);
    if (problem) {
      refuse(request as unknown as DebugProtocol.Response, problem, 1015);
      return false;
    }
    const why = this.outOfOrder(request);
    if (why) {
      refuse(request as unknown as DebugProtocol.Response, why, 1016);
      return false;
    }
    this.advance(request);
    return true;
  }

  /** Why `request` makes no sense in this phase, or undefined. */
  private outOfOrder(request: DebugProtocol.Request): string | undefined {
    const { command } = request;
    const phase = this.phase;
    if (ALWAYS.has(command)) return undefined;
    if (phase === 'disconnected') return `${command}: the session has been disconnected`;
    if (command === 'initialize') {
      if (phase !== 'new') return 'initialize: the session is already initialized (initialize is sent once, first)';
      const args = request.arguments as DebugProtocol.InitializeRequestArguments;
      // The protocol's default is "path"; the library refuses a missing pathFormat.
      args.pathFormat ??= 'path';
      if (args.pathFormat !== 'path') return `initialize: only pathFormat "path" is supported, got ${JSON.stringify(args.pathFormat)}`;
      return undefined;
    }
    if (phase === 'new') return `${command}: send initialize first`;
    if (command === 'launch' || command === 'attach') {
      if (command === 'attach') return 'attach is not supported: the Flyte sandbox debugger starts the run itself (use "request": "launch")';
      if (phase === 'launching') return 'launch: a launch is already in progress in this session';
      if (phase !== 'initialized') return `launch: this session has already launched ${this.program || 'a program'}; start a new debug session to launch again`;
      return undefined;
    }
    if (command === 'configurationDone') {
      if (phase === 'initialized' || phase === 'launching') return 'configurationDone: no program has been launched yet (send launch, wait for the initialized event, then configurationDone)';
      if (phase === 'running') return 'configurationDone: the configuration is already done';
      if (phase === 'ended') return 'configurationDone: the run has ended';
      return undefined;
    }
    if (phase === 'initialized' || phase === 'launching') {
      if (CONFIGURATION.has(command)) return `${command}: no program is being debugged yet (breakpoints are set after launch, once the initialized event came)`;
      if (command === 'threads') return undefined;
      return `${command}: no program is being debugged yet (send launch first)`;
    }
    return undefined;
  }

  private advance(request: DebugProtocol.Request): void {
    const { command } = request;
    if (command === 'initialize') this.phase = 'initialized';
    else if (command === 'launch') {
      this.pendingLaunch = request;
      this.phase = 'launching';
      const program = (request.arguments as { program?: unknown } | undefined)?.program;
      this.program = typeof program === 'string' ? program : '';
    } else if (command === 'configurationDone') this.phase = 'running';
    else if (command === 'disconnect') {
      this.phase = 'disconnected';
      // A launch still waiting for configurationDone would never be answered now.
      const launch = this.pendingLaunch;
      this.pendingLaunch = undefined;
      if (launch) refusal(this.session)(launch as unknown as DebugProtocol.Response, 'launch: the session was disconnected before configurationDone', 1018);
    }
  }

  /** A handler failed: answer its request if it has not been answered, else say so in the debug console. */
  private internalError(response: DebugProtocol.Response, e: unknown): void {
    const message = e instanceof Error ? e.message : String(e);
    const text = `internal error of the debug adapter in '${response.command}': ${message} (please report it)`;
    this.log(`flyte-sandbox debug adapter: ${text}\n${e instanceof Error && process.env.FLYTE_SANDBOX_DEBUG ? `${e.stack}\n` : ''}`);
    if (!response.seq) {
      response.success = false;
      response.message = text;
      response.body = { error: { id: 1099, format: text, showUser: true } };
      this.session.sendResponse(response);
    } else {
      this.session.sendEvent(new OutputEvent(`${text}\n`, 'stderr'));
    }
  }
}

/** An error response for a request that never reached its handler. */
export function refusal(session: Session): Responder {
  return (request, message, id) => {
    const response: DebugProtocol.Response = { seq: 0, type: 'response', request_seq: request.seq, command: request.command, success: false, message, body: { error: { id, format: message, showUser: true } } };
    session.sendResponse(response);
  };
}
