/**
 * The launch configuration of a debug session, checked attribute by
 * attribute: every bad value becomes a LaunchError naming the attribute and
 * what is wrong, so a client can show it and the adapter stays up.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { checkCassetteOptions, type RecordMode } from '../cassette/setup.ts';
import type { ReplayMismatch } from '../resolvers/cassette.ts';
import { UsageError } from '../errors.ts';
import { LaunchError } from './launchError.ts';
import type { PythonVersion } from '../extract/tasks.ts';
import { profileById, profileChoices } from '../profiles.ts';
import { resolveLimits, type Limits } from '../run/limits.ts';
import { parseStubs, type StubSpec } from '../resolvers/stub.ts';
import { parseProductionAttributes, PRODUCTION_ATTRIBUTES, type ProductionLaunchConfig } from '../resolvers/launchAttributes.ts';
import { JsonSyntaxError, parseJson } from '../values/json.ts';
import { isDict } from '../values/python.ts';

export { LaunchError };

export type StopOnCall = 'all' | 'none' | string[];

export interface LaunchConfig extends ProductionLaunchConfig {
  program: string;
  cwd: string;
  task?: string;
  inputs?: unknown;
  stubs: Map<string, StubSpec>;
  /** A JS file whose exported functions answer calls (run in QuickJS). */
  stubModule?: string;
  stopOnEntry: boolean;
  stopOnExternalCall: StopOnCall;
  externals: string[];
  limits: Limits;
  record?: string;
  replay?: string;
  recordMode?: RecordMode;
  replayMismatch?: ReplayMismatch;
  redact: string[];
  forward: 'all' | string[];
  python: string;
  raiseInSandbox: boolean;
  pythonVersion?: PythonVersion;
  /** Run the instrumented copy of the code (locals, line stops); false: stop only at external calls. */
  instrument: boolean;
  /** The Flyte profile to reproduce (engine/profiles.ts); default: the installed flyte's, else the default. */
  flyteProfile?: string;
  /** `python` was set in the launch configuration (not the python3 default). */
  pythonConfigured: boolean;
}

export const LAUNCH_ATTRIBUTES = ['program', 'task', 'inputs', 'stubs', 'stubModule', 'stopOnEntry', 'stopOnExternalCall', 'externals', 'limits', 'record', 'replay', 'recordMode', 'replayMismatch', 'redact', 'forward', 'python', 'raiseInSandbox', 'pythonVersion', 'flyteProfile', 'cwd', 'instrument', ...PRODUCTION_ATTRIBUTES] as const;
/** Attributes every DAP client or VS Code adds on its own. */
const CLIENT_ATTRIBUTES = new Set(['type', 'request', 'name', '__sessionId', '__configurationTarget', 'noDebug', '__restart', 'presentation', 'preLaunchTask', 'postDebugTask', 'internalConsoleOptions', 'debugServer', 'suppressMultipleSessionWarning']);

function isStringList(v: unknown): v is string[] {
  return Array.isArray(v) && v.every(x => typeof x === 'string');
}

/** An object, or a path (relative to cwd) to a JSON file holding one. */
function objectOrFile(attribute: string, value: unknown, cwd: string): unknown {
  if (typeof value !== 'string') {
    // A dict already read with the engine's JSON reader (the terminal debugger) keeps its key order and big ints.
    if (value instanceof Map) return value;
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) return parseJson(JSON.stringify(value));
    throw new LaunchError(attribute, `expected an object or the path of a JSON file, got ${JSON.stringify(value)}`);
  }
  const path = resolve(cwd, value);
  if (!existsSync(path)) throw new LaunchError(attribute, `no such file: ${path}`);
  try {
    return parseJson(readFileSync(path, 'utf8'));
  } catch (e) {
    if (e instanceof JsonSyntaxError) throw new LaunchError(attribute, `${path}:${e.line}:${e.column}: malformed JSON: ${e.message}`);
    throw new LaunchError(attribute, `cannot read ${path}: ${(e as Error).message}`);
  }
}

export function resolveLaunchConfig(args: Record<string, unknown>): { config: LaunchConfig; warnings: string[] } {
  const warnings: string[] = [];
  for (const key of Object.keys(args)) {
    if (!(LAUNCH_ATTRIBUTES as readonly string[]).includes(key) && !CLIENT_ATTRIBUTES.has(key)) {
      warnings.push(`unknown launch attribute '${key}' is ignored (known: ${LAUNCH_ATTRIBUTES.join(', ')})`);
    }
  }
  const program = args.program;
  if (typeof program !== 'string' || !program) throw new LaunchError('program', 'the Python file to debug is required, e.g. "program": "${file}"');
  const cwd = typeof args.cwd === 'string' ? args.cwd : isAbsolute(program) ? dirname(program) : process.cwd();
  const programPath = resolve(cwd, program);
  if (!existsSync(programPath) || !statSync(programPath).isFile()) throw new LaunchError('program', `no such file: ${programPath}`);
  if (!programPath.endsWith('.py')) throw new LaunchError('program', `expected a Python (.py) file, got ${programPath}`);

  const bool = (name: string, fallback: boolean): boolean => {
    const v = args[name];
    if (v === undefined) return fallback;
    if (typeof v !== 'boolean') throw new LaunchError(name, `expected true or false, got ${JSON.stringify(v)}`);
    return v;
  };
  const optionalString = (name: string): string | undefined => {
    const v = args[name];
    if (v === undefined) return undefined;
    if (typeof v !== 'string' || !v) throw new LaunchError(name, `expected a non-empty string, got ${JSON.stringify(v)}`);
    return v;
  };

  let stopOnExternalCall: StopOnCall = 'all';
  const stop = args.stopOnExternalCall;
  if (stop !== undefined) {
    if (stop === 'all' || stop === 'none' || isStringList(stop)) stopOnExternalCall = stop;
    else throw new LaunchError('stopOnExternalCall', `expected "all", "none" or a list of function names, got ${JSON.stringify(stop)}`);
  }
  let forward: 'all' | string[] = [];
  if (args.forward !== undefined) {
    if (args.forward === 'all' || isStringList(args.forward)) forward = args.forward;
    else throw new LaunchError('forward', `expected "all" or a list of function names, got ${JSON.stringify(args.forward)}`);
  }
  const externals = args.externals ?? [];
  if (!isStringList(externals)) throw new LaunchError('externals', `expected a list of function names, got ${JSON.stringify(externals)}`);

  let limits: Limits;
  try {
    limits = resolveLimits(args.limits === undefined ? undefined : objectOrFile('limits', args.limits, cwd), 'limits');
  } catch (e) {
    if (e instanceof UsageError) throw new LaunchError('limits', e.message.replace(/^limits: /, ''));
    throw e;
  }
  let stubs = new Map<string, StubSpec>();
  if (args.stubs !== undefined) {
    const value = objectOrFile('stubs', args.stubs, cwd);
    try {
      stubs = parseStubs(value, typeof args.stubs === 'string' ? resolve(cwd, args.stubs) : 'stubs');
    } catch (e) {
      if (e instanceof UsageError) throw new LaunchError('stubs', e.message);
      throw e;
    }
  }
  const inputs = args.inputs === undefined ? undefined : objectOrFile('inputs', args.inputs, cwd);
  if (inputs !== undefined && !isDict(inputs)) throw new LaunchError('inputs', 'expected an object mapping input names to values');
  const pythonVersion = optionalString('pythonVersion');
  if (pythonVersion !== undefined && !/^3\.1[0-4]$/.test(pythonVersion)) throw new LaunchError('pythonVersion', `expected one of 3.10, 3.11, 3.12, 3.13, 3.14, got ${JSON.stringify(pythonVersion)}`);
  const flyteProfile = optionalString('flyteProfile');
  if (flyteProfile !== undefined && !profileById(flyteProfile)) throw new LaunchError('flyteProfile', `unknown Flyte profile ${JSON.stringify(flyteProfile)} (known: ${profileChoices()})`);
  const stubModule = optionalString('stubModule');
  if (stubModule !== undefined && !existsSync(resolve(cwd, stubModule))) throw new LaunchError('stubModule', `no such file: ${resolve(cwd, stubModule)}`);
  const record = optionalString('record');
  const replay = optionalString('replay');
  const recordMode = optionalString('recordMode') as RecordMode | undefined;
  const replayMismatch = optionalString('replayMismatch') as ReplayMismatch | undefined;
  const redact = args.redact ?? [];
  if (!isStringList(redact)) throw new LaunchError('redact', `expected a list of paths like "kwargs.token" or "fetch.args[0]", got ${JSON.stringify(redact)}`);
  try {
    checkCassetteOptions({ ...(record ? { record } : {}), ...(replay ? { replay } : {}), ...(recordMode ? { recordMode } : {}), ...(replayMismatch ? { replayMismatch } : {}), redact });
  } catch (e) {
    if (e instanceof UsageError) {
      const attribute = e.where ?? 'record';
      throw new LaunchError(attribute, e.message.slice(attribute.length + 2));
    }
    throw e;
  }
  if (replay !== undefined && recordMode !== 'once' && recordMode !== 'new_episodes' && !existsSync(resolve(cwd, replay))) throw new LaunchError('replay', `no such cassette: ${resolve(cwd, replay)}`);

  const config: LaunchConfig = {
    program: programPath,
    cwd,
    stubs,
    stopOnEntry: bool('stopOnEntry', false),
    stopOnExternalCall,
    externals,
    limits,
    forward,
    python: optionalString('python') ?? 'python3',
    pythonConfigured: optionalString('python') !== undefined,
    ...(flyteProfile !== undefined ? { flyteProfile } : {}),
    raiseInSandbox: bool('raiseInSandbox', false),
    instrument: bool('instrument', true),
    ...(optionalString('task') !== undefined ? { task: optionalString('task') } : {}),
    ...(inputs !== undefined ? { inputs } : {}),
    ...(stubModule !== undefined ? { stubModule: resolve(cwd, stubModule) } : {}),
    ...(record !== undefined ? { record: resolve(cwd, record) } : {}),
    ...(replay !== undefined ? { replay: resolve(cwd, replay) } : {}),
    ...(recordMode !== undefined ? { recordMode } : {}),
    ...(replayMismatch !== undefined ? { replayMismatch } : {}),
    redact,
    ...(pythonVersion !== undefined ? { pythonVersion: pythonVersion as PythonVersion } : {}),
    ...parseProductionAttributes(args, cwd),
  };
  return { config, warnings };
}
