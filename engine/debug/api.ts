/**
 * What a debugger client (the DAP session, a test) sees of a debug run. No
 * DAP types here: the adapter translates. Implemented in process by
 * `DebugRuntime` and across a process boundary by `RemoteRuntime`; values
 * are Monty values (Maps for dicts, tuples marked), as the engine has them.
 */
import type { EventEmitter } from 'node:events';
import type { ProbeResult } from '../run/probe.ts';
import type { CallRecord, Frame, SandboxFailure } from '../run/outcome.ts';
import type { BreakpointStatus, FunctionBreakpointSpec, LineBreakpointSpec } from './breakpoints.ts';
import type { DataBreakpointSpec, DataBreakpointStatus } from './dataBreakpoints.ts';

export const MAIN_THREAD = 1;

export type StopReason = 'entry' | 'step' | 'breakpoint' | 'function breakpoint' | 'data breakpoint' | 'exception' | 'pause' | 'goto' | 'external call';

export interface StoppedInfo {
  reason: StopReason;
  threadId: number;
  /** What the client shows: "fib(10)", "ValueError raised by fib(3)". */
  description: string;
  text?: string;
  hitBreakpointIds?: number[];
}

export interface ThreadInfo {
  id: number;
  name: string;
}

export interface StackFrameInfo {
  id: number;
  name: string;
  file?: string;
  line: number;
  column: number;
  /** A frame that is not Python code (the pending call, the map item). */
  label?: boolean;
}

export interface PendingCallInfo {
  threadId: number;
  seq: number;
  function: string;
  args: unknown[];
  kwargs: Record<string, unknown>;
  kind: 'call' | 'map';
  mapParent?: number;
  mapIndex?: number;
  mapSize?: number;
  /** The chain answered with this exception and the `raised` filter stopped here. */
  raised?: { type: string; message: string; traceback?: string };
  /** No stub, cassette or forward had a result. */
  needsResult?: boolean;
  /** What to pre-fill a "return a value" box with: the stub's expression, or the last result of this function. */
  suggestion?: string;
}

export interface LaunchInfo {
  task: string;
  flyteName: string;
  file: string;
  line: number;
  externals: string[];
  warnings: string[];
  /** The run's duration limit (a watchdog outside the runtime tolerates this much silence). */
  maxDurationSecs: number | null;
  /** The run's heap limit (the process hosting the runtime is bounded a little above it); null: none. */
  maxMemory?: number | null;
  /** Identifies the code a cassette was recorded from. */
  codeHash: string;
  /** Lines each external is called from (static: a call's own line is known only when it is probed). */
  callSites: Record<string, number[]>;
  inputNames: string[];
  /** The Flyte release whose semantics the run reproduces ("reproducing flyte-sdk 2.6.x"). */
  profile: { id: string; label: string; productionMonty: string; engineMonty: string; reason: string };
  /** Lines where a statement of the task starts (where a line breakpoint can stop), when the run is instrumented. */
  lines?: number[];
}

/** A sandbox frame's local variables at the current stop. */
export interface LocalsInfo {
  function: string;
  /** Bound names only, in order of binding. */
  locals: Map<string, unknown>;
  /** Their Python type names (a float that holds a whole number, a function Monty handed over as its repr). */
  types: Map<string, string>;
  /** Why the frame has no locals to show. */
  unavailable?: string;
  /** Said beside them (e.g. post-mortem). */
  note?: string;
}

export interface SetLocalResult {
  value: unknown;
  pyType: string;
  /** What the Debug Console says about it (labelled beyond production). */
  text: string;
}

export interface DataBreakpointInfo {
  dataId: string | null;
  description: string;
  accessTypes?: ['write'];
}

export interface StubInfo {
  name: string;
  kind: 'value' | 'python' | 'raise';
  /** The value's repr, the expression, or "Type: message". */
  text: string;
}

export type CallAction =
  | { action: 'return'; value?: unknown; expression?: string; remember?: boolean }
  | { action: 'raise'; exception?: string | { type: string; message: string }; expression?: string }
  | { action: 'forward'; remember?: boolean };

export interface EvaluateResult {
  /** The value's Python type name, when known. */
  pyType?: string;
  result: string;
  value?: unknown;
  type?: string;
}

export interface ExceptionDetails {
  type: string;
  message: string;
  /** Python-style traceback text. */
  stackTrace: string;
  breakMode: 'always' | 'unhandled';
}

export interface EndInfo {
  status: 'ok' | 'error';
  output?: unknown;
  error?: SandboxFailure;
}

export interface RuntimeEvents {
  stopped: [StoppedInfo];
  continued: [{ threadId: number; allThreadsContinued: boolean }];
  thread: [{ reason: 'started' | 'exited'; threadId: number }];
  output: [{ category: 'stdout' | 'stderr' | 'console'; text: string }];
  /** A call started or finished (the same record object, updated). */
  call: [CallRecord];
  /** Where calls were made, found after the fact: [seq, line, column] in the program's file. */
  sites: [[number, number, number][]];
  /** Time travel dropped every call from `seq` on. */
  rewound: [{ seq: number }];
  ended: [EndInfo];
}

export interface RuntimeApi extends EventEmitter<RuntimeEvents> {
  /** A client is about to launch: get ready (a runtime in a child process starts it, and it warms up meanwhile). */
  prepare?(): void;
  launch(args: Record<string, unknown>): Promise<LaunchInfo>;
  setFunctionBreakpoints(specs: FunctionBreakpointSpec[]): Promise<BreakpointStatus[]>;
  setLineBreakpoints(file: string, specs: LineBreakpointSpec[]): Promise<BreakpointStatus[]>;
  setExceptionFilters(filters: { filterId: string; condition?: string }[]): Promise<string[]>;
  configurationDone(): Promise<void>;
  threads(): Promise<ThreadInfo[]>;
  stack(threadId: number): Promise<StackFrameInfo[]>;
  pending(threadId: number): Promise<PendingCallInfo | undefined>;
  inputs(): Promise<Record<string, unknown>>;
  calls(): Promise<CallRecord[]>;
  stdout(): Promise<string>;
  /** `frameId`: evaluate in that frame (its locals shadow inputs, args, kwargs). */
  evaluate(expression: string, threadId?: number, frameId?: number): Promise<EvaluateResult>;
  continue(threadId: number, singleThread?: boolean): Promise<void>;
  next(threadId: number): Promise<void>;
  stepIn(threadId: number): Promise<void>;
  stepOut(threadId: number): Promise<void>;
  pause(): Promise<void>;
  stepBack(threadId: number): Promise<void>;
  reverseContinue(threadId: number): Promise<void>;
  restartFrame(threadId: number, frameId?: number): Promise<void>;
  /** The locals of a frame of the current stop (undefined: a frame without locals, e.g. `<module>` or a label). */
  frameLocals(frameId: number): Promise<LocalsInfo | undefined>;
  /** Beyond production: assign a local of the innermost frame at a line stop. */
  setLocal(frameId: number, name: string, expression: string): Promise<SetLocalResult>;
  dataBreakpointInfo(frameId: number, name: string): Promise<DataBreakpointInfo>;
  setDataBreakpoints(specs: DataBreakpointSpec[]): Promise<DataBreakpointStatus[]>;
  rewindTo(seq: number): Promise<void>;
  resolveCall(threadId: number, action: CallAction): Promise<void>;
  exceptionInfo(threadId: number): Promise<ExceptionDetails | undefined>;
  where(threadId: number): Promise<ProbeResult | undefined>;
  /** A client follows every call (the IO panel): give each call its line before the run ends. */
  follow(on: boolean): Promise<void>;
  /** Stubs in effect, including those remembered during the session. */
  stubs(): Promise<StubInfo[]>;
  /** Remember (expression) or forget (undefined) a stub for later calls. */
  setStub(name: string, expression: string | undefined): Promise<void>;
  terminate(): Promise<void>;
}

export type { Frame };
