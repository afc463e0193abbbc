/** Command-line parsing for `flyte-sandbox`, with errors that say which option is wrong. */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError } from '../engine/index.ts';
import { parseJson } from '../engine/values/json.ts';
import { JsonSyntaxError } from '../engine/values/json.ts';
import type { ReplayMismatch } from '../engine/resolvers/cassette.ts';
import type { CassetteOptions, RecordMode } from '../engine/cassette/setup.ts';
import type { RemoteSettings } from '../engine/resolvers/remote.ts';

export const USAGE = `flyte-sandbox: run Flyte sandboxed tasks on the real Monty interpreter

Usage:
  flyte-sandbox list FILE [--json] [--python-version 3.12] [--flyte-profile 2.6] [--python PATH]
  flyte-sandbox run FILE [--task NAME] [--inputs JSON|@file.json] [--stubs FILE|JSON] [--stub-module FILE.js]
                    [--limits JSON|@file.json] [--no-limits] [--externals a,b] [--raise-in-sandbox]
                    [--forward a,b|all] [--python PATH] [--forward-timeout SECONDS]
                    [--remote a,b|all [--project P] [--domain D] [--config PATH] [--remote-max-in-flight N]]
                    [--record FILE] [--replay FILE] [--record-mode MODE]
                    [--replay-mismatch stop|fallthrough] [--redact PATH,...]
                    [--python-version 3.12] [--flyte-profile 2.6] [--json]
  flyte-sandbox test CASSETTE.json [--inputs JSON|@file.json] [--json]
  flyte-sandbox debug FILE [--task NAME] [--inputs ...] [--stubs ...] [--stop-on-calls] [run's other options]
  flyte-sandbox import-run RUN|URL --program FILE.py [--task NAME] [--python PATH]
                    [--project P] [--domain D] [--config PATH] --out CASSETTE.json
  flyte-sandbox --version

  --task              the task's Python name, or its Flyte name (<env>.<function>, or name=)
  --inputs            input values as JSON, or @path to a JSON file
  --stubs             JSON file (or inline JSON): {"fib": {"value": 55},
                      "add": {"python": "args[0] + args[1]"}, "boom": {"raise": "ValueError: bad input"}}
  --stub-module FILE  a JS file whose exported functions answer calls (isolated in QuickJS)
  --forward a,b|all   answer these calls with the real Python functions of the file
  --python PATH       the interpreter for --forward and --remote (default python3); also asked which
                      flyte is installed
  --forward-timeout S seconds a forwarded call may take before its worker is stopped (default 60; 0: no limit)
  --remote a,b|all    run these calls for real on the Flyte cluster (one run each), through
                      flyte in --python's interpreter; --project, --domain, --config choose where
  --remote-max-in-flight N  cluster runs in flight at most (default 8; flyte_map's concurrency also holds)
  --record FILE       write every external call of the run to a cassette
  --replay FILE       answer calls from a cassette (in recorded order; a mismatch stops the run)
  --record-mode       once | new_episodes | none | all (see the README)
  --replay-mismatch   stop (default) | fallthrough: let stubs answer calls the cassette does not match
  --redact            argument paths kept out of cassettes: kwargs.token,fetch.args[0]
  --limits            {"maxDurationSecs": 60, "maxMemory": 536870912, "maxRecursionDepth": 1000}
                      (the debugger's own limits: Flyte applies none; null switches one off)
  --no-limits         no limits at all, as in production (a runaway sandbox runs until stopped)
  --externals         register extra names (beyond production: Flyte would refuse them)
  --raise-in-sandbox  raise an external call's exception inside the sandbox (beyond production:
                      Flyte ends the run instead)
  --python-version    the production interpreter (3.10-3.14): decides which names Flyte registers
  --flyte-profile     the flyte-sdk release whose semantics to reproduce: 2.2, 2.6 or pooled
                      (default: the installed flyte's, asked of the Python, else 2.6)
  --json              one JSON document on stdout

  test                re-run a cassette against the current code: does the output still match?
                      (--inputs: the task's inputs, when the cassette's were redacted)
  debug               a pdb-style prompt (b, c, n, s, r, p, l, w, u, d, !return, q; h for all), stopped
                      before the first line; --stop-on-calls also stops at every external call
  import-run          read a production run (name or URL) with flyte and write it as a cassette
                      to replay with run --replay (read-only: nothing is created or changed)

Exit codes: 0 ok, 1 the sandboxed task failed, 2 bad usage, 3 an internal error of the debugger.`;

export interface CliArgs {
  command: 'list' | 'run' | 'test' | 'debug' | 'help' | 'version';
  file?: string;
  task?: string;
  inputs?: string;
  stubs?: string;
  stubModule?: string;
  forward?: 'all' | string[];
  python?: string;
  forwardTimeout?: number;
  limits?: string;
  noLimits?: boolean;
  flyteProfile?: string;
  externals: string[];
  raiseInSandbox: boolean;
  pythonVersion?: string;
  json: boolean;
  cassette: CassetteOptions;
  /** debug: stop at every external call too. */
  stopOnCalls?: boolean;
  remote?: RemoteSettings;
}

/** node's parseArgs with positionals allowed, its errors as usage errors (without its hint about `--`). */
export function parseOptions<O extends NonNullable<ParseArgsConfig['options']>>(argv: string[], options: O) {
  try {
    return parseArgs({ args: argv, allowPositionals: true, options });
  } catch (e) {
    throw new UsageError((e as Error).message.replace(/\. To specify .*$/s, ''));
  }
}

export function parseCli(argv: string[]): CliArgs {
  const parsed = parseOptions(argv, {
    task: { type: 'string' },
    inputs: { type: 'string' },
    stubs: { type: 'string' },
    limits: { type: 'string' },
    externals: { type: 'string' },
    'raise-in-sandbox': { type: 'boolean', default: false },
    'python-version': { type: 'string' },
    'stub-module': { type: 'string' },
    forward: { type: 'string' },
    python: { type: 'string' },
    'forward-timeout': { type: 'string' },
    remote: { type: 'string' },
    project: { type: 'string' },
    domain: { type: 'string' },
    config: { type: 'string' },
    'remote-max-in-flight': { type: 'string' },
    record: { type: 'string' },
    replay: { type: 'string' },
    'record-mode': { type: 'string' },
    'replay-mismatch': { type: 'string' },
    redact: { type: 'string' },
    json: { type: 'boolean', default: false },
    'stop-on-calls': { type: 'boolean', default: false },
    'no-limits': { type: 'boolean', default: false },
    'flyte-profile': { type: 'string' },
    version: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  });
  const [command, file, ...rest] = parsed.positionals;
  if (parsed.values.version) return { command: 'version', externals: [], raiseInSandbox: false, json: false, cassette: {} };
  if (parsed.values.help || command === undefined || command === 'help') return { command: 'help', externals: [], raiseInSandbox: false, json: false, cassette: {} };
  if (command !== 'list' && command !== 'run' && command !== 'test' && command !== 'debug') throw new UsageError(`unknown command '${command}' (expected list, run, test or debug)`);
  if (!file) throw new UsageError(command === 'test' ? 'test needs a cassette (.json)' : `${command} needs a Python file`);
  if (rest.length) throw new UsageError(`unexpected argument '${rest[0]}'`);
  const v = parsed.values;
  if (v['python-version'] !== undefined && !/^3\.1[0-4]$/.test(v['python-version'])) throw new UsageError(`--python-version must be one of 3.10, 3.11, 3.12, 3.13, 3.14; got '${v['python-version']}'`);
  if (v.forward !== undefined && !v.forward.split(',').some(x => x.trim())) throw new UsageError("--forward needs function names (a,b) or 'all'");
  let forwardTimeout: number | undefined;
  if (v['forward-timeout'] !== undefined) {
    if (v.forward === undefined) throw new UsageError('--forward-timeout only applies to forwarded calls; add --forward a,b or --forward all');
    forwardTimeout = Number(v['forward-timeout']);
    if (!/^\s*\d+(\.\d*)?\s*$/.test(v['forward-timeout']) || !Number.isFinite(forwardTimeout) || forwardTimeout > 1e9) throw new UsageError(`--forward-timeout must be a number of seconds (0 for no limit), got '${v['forward-timeout']}'`);
  }
  const remote = remoteSettings(v);
  return {
    command,
    file,
    ...(v.task !== undefined ? { task: v.task } : {}),
    ...(v.inputs !== undefined ? { inputs: v.inputs } : {}),
    ...(v.stubs !== undefined ? { stubs: v.stubs } : {}),
    ...(v['stub-module'] !== undefined ? { stubModule: v['stub-module'] } : {}),
    ...(v.forward !== undefined ? { forward: v.forward === 'all' ? 'all' as const : v.forward.split(',').map(x => x.trim()).filter(Boolean) } : {}),
    ...(v.python !== undefined ? { python: v.python } : {}),
    ...(forwardTimeout !== undefined ? { forwardTimeout } : {}),
    ...(v.limits !== undefined ? { limits: v.limits } : {}),
    ...(v['no-limits'] ? { noLimits: true } : {}),
    ...(v['flyte-profile'] !== undefined ? { flyteProfile: v['flyte-profile'] } : {}),
    externals: v.externals ? v.externals.split(',').map(s => s.trim()).filter(Boolean) : [],
    raiseInSandbox: v['raise-in-sandbox'] ?? false,
    ...(v['python-version'] !== undefined ? { pythonVersion: v['python-version'] } : {}),
    json: v.json ?? false,
    ...(v['stop-on-calls'] ? { stopOnCalls: true } : {}),
    cassette: {
      ...(v.record !== undefined ? { record: v.record } : {}),
      ...(v.replay !== undefined ? { replay: v.replay } : {}),
      ...(v['record-mode'] !== undefined ? { recordMode: v['record-mode'] as RecordMode } : {}),
      ...(v['replay-mismatch'] !== undefined ? { replayMismatch: v['replay-mismatch'] as ReplayMismatch } : {}),
      ...(v.redact !== undefined ? { redact: v.redact.split(',').map(x => x.trim()).filter(Boolean) } : {}),
    },
    ...(remote ? { remote } : {}),
  };
}

/** --remote and the options that only make sense with it. */
function remoteSettings(v: Record<string, string | boolean | undefined>): RemoteSettings | undefined {
  const given = (['project', 'domain', 'config', 'remote-max-in-flight'] as const).filter(n => v[n] !== undefined);
  if (v.remote === undefined) {
    if (given.length) throw new UsageError(`--${given[0]} only applies to calls run on the cluster: add --remote a,b or --remote all`);
    return undefined;
  }
  const names = String(v.remote).split(',').map(x => x.trim()).filter(Boolean);
  if (!names.length) throw new UsageError("--remote needs function names (a,b) or 'all'");
  if (typeof v.config === 'string' && !existsSync(v.config)) throw new UsageError('no such Flyte config file', v.config);
  const cap = v['remote-max-in-flight'];
  if (cap !== undefined && !/^[1-9]\d*$/.test(String(cap))) throw new UsageError(`--remote-max-in-flight must be a whole number of 1 or more, got '${String(cap)}'`);
  return {
    names: names.length === 1 && names[0] === 'all' ? 'all' : names,
    ...(typeof v.python === 'string' ? { python: v.python, pythonSettingName: '--python' } : { pythonSettingName: '--python' }),
    ...(typeof v.project === 'string' ? { project: v.project } : {}),
    ...(typeof v.domain === 'string' ? { domain: v.domain } : {}),
    ...(typeof v.config === 'string' ? { config: resolve(v.config) } : {}),
    ...(cap !== undefined ? { maxInFlight: Number(cap) } : {}),
  };
}

/** `--inputs '{"n": 3}'` or `--inputs @inputs.json`. */
export async function jsonArgument(value: string, option: string): Promise<unknown> {
  let text = value;
  let where = option;
  if (value.startsWith('@')) {
    where = value.slice(1);
    try {
      text = await readFile(where, 'utf8');
    } catch (e) {
      throw new UsageError(`cannot read ${option} file: ${(e as Error).message}`, where);
    }
  }
  try {
    return parseJson(text);
  } catch (e) {
    if (e instanceof JsonSyntaxError) throw new UsageError(`malformed JSON: ${e.message}`, value.startsWith('@') ? `${where}:${e.line}:${e.column}` : option);
    throw e;
  }
}
