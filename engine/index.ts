/** The engine's public surface: what the CLI, the debug adapter and the extension use. */
export { UsageError } from './errors.ts';
export type { CallSite, DefinitionError, PythonVersion, SandboxTask, TaskInput } from './extract/tasks.ts';
export { fromMonty, hostResultToMonty, IO_TYPE_KEY, IoHandle, ioProblems, ioView, toMonty, type IoView } from './marshal.ts';
export { ForwardResolver, type ForwardedCall, type ForwardOptions } from './resolvers/forward.ts';
export { SandboxProcess, type ProcessRunOptions } from './host/sandboxProcess.ts';
export { loadProgram, type Program, type ProgramOptions } from './program.ts';
export type { FilePosition } from './python/module.ts';
export { Registry, type RegistryEntry } from './registry.ts';
export { buildInputs } from './run/inputs.ts';
export { DEFAULT_LIMITS, resolveLimits, type Limits } from './run/limits.ts';
export type { CallOutcome, CallRecord, ExternalCall, FailureOrigin, Frame, ResultSource, SandboxFailure } from './run/outcome.ts';
export type { Resolver } from './run/resolvers.ts';
export { SandboxRun, type History, type RunEvents, type RunOptions, type RunResult } from './run/sandboxRun.ts';
export { loadStubs, parseStubs, StubResolver, type StubSpec } from './resolvers/stub.ts';
export { JsStubResolver, type JsStubOptions } from './resolvers/jsStub.ts';
export { parseJson, toJson } from './values/json.ts';
export { pyRepr, pyStr } from './values/python.ts';
