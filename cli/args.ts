/** Command-line parsing for `flyte-sandbox`, with errors that say which option is wrong. */
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { UsageError } from '../engine/index.ts';
import { parseJson } from '../engine/values/json.ts';
import { JsonSyntaxError } from '../engine/values/json.ts';
import type { ReplayMismatch } from '../engine/cassette/replay.ts';
import type { CassetteOptions, RecordMode } from '../engine/cassette/setup.ts';

export const USAGE = `flyte-sandbox: run Flyte sandboxed tasks on the real Monty interpreter

Usage:
  flyte-sandbox list FILE [--json] [--python-version 3.12]
  flyte-sandbox run FILE [--task NAME] [--inputs JSON|@file.json] [--stubs FILE|JSON] [--stub-module FILE.js]
                    [--limits JSON|@file.json] [--externals a,b] [--raise-in-sandbox]
                    [--forward a,b|all] [--python PATH] [--forward-timeout SECONDS]
                    [--record FILE] [--replay FILE] [--record-mode MODE]
                    [--replay-mismatch stop|fallthrough] [--redact PATH,...]
                    [--python-version 3.12] [--json]
  flyte-sandbox test CASSETTE.json [--inputs JSON|@file.json] [--json]

  --task              the task's Python name, or its Flyte name (<env>.<function>, or name=)
  --inputs            input values as JSON, or @path to a JSON file
  --stubs             JSON file (or inline JSON): {"fib": {"value": 55},
                      "add": {"python": "args[0] + args[1]"}, "boom": {"raise": "ValueError: bad input"}}
  --stub-module FILE  a JS file whose exported functions answer calls (isolated in QuickJS)
  --forward a,b|all   answer these calls with the real Python functions of the file
  --python PATH       the interpreter for --forward (default python3)
  --forward-timeout S seconds a forwarded call may take before its worker is stopped (default 60; 0: no limit)
  --record FILE       write every external call of the run to a cassette
  --replay FILE       answer calls from a cassette (in recorded order; a mismatch stops the run)
  --record-mode       once | new_episodes | none | all (see the README)
  --replay-mismatch   stop (default) | fallthrough: let stubs answer calls the cassette does not match
  --redact            argument paths kept out of cassettes: kwargs.token,fetch.args[0]
  --limits            {"maxDurationSecs": 60, "maxMemory": 536870912, "maxRecursionDepth": 1000}
                      (the debugger's own limits: Flyte applies none)
  --externals         register extra names (beyond production: Flyte would refuse them)
  --raise-in-sandbox  raise an external call's exception inside the sandbox (beyond production:
                      Flyte ends the run instead)
  --python-version    the production interpreter (3.10-3.14): decides which names Flyte registers
  --json              one JSON document on stdout

  test                re-run a cassette against the current code: does the output still match?
                      (--inputs: the task's inputs, when the cassette's were redacted)

Exit codes: 0 ok, 1 the sandboxed task failed, 2 bad usage, 3 an internal error of the debugger.`;

export interface CliArgs {
  command: 'list' | 'run' | 'test' | 'help';
  file?: string;
  task?: string;
  inputs?: string;
  stubs?: string;
  stubModule?: string;
  forward?: 'all' | string[];
  python?: string;
  forwardTimeout?: number;
  limits?: string;
  externals: string[];
  raiseInSandbox: boolean;
  pythonVersion?: string;
  json: boolean;
  cassette: CassetteOptions;
}

export function parseCli(argv: string[]): CliArgs {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
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
        record: { type: 'string' },
        replay: { type: 'string' },
        'record-mode': { type: 'string' },
        'replay-mismatch': { type: 'string' },
        redact: { type: 'string' },
        json: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (e) {
    throw new UsageError((e as Error).message.replace(/\. To specify .*$/s, ''));
  }
  const [command, file, ...rest] = parsed.positionals;
  if (parsed.values.help || command === undefined || command === 'help') return { command: 'help', externals: [], raiseInSandbox: false, json: false, cassette: {} };
  if (command !== 'list' && command !== 'run' && command !== 'test') throw new UsageError(`unknown command '${command}' (expected list, run or test)`);
  if (!file) throw new UsageError(command === 'test' ? 'test needs a cassette (.json)' : `${command} needs a Python file`);
  if (rest.length) throw new UsageError(`unexpected argument '${rest[0]}'`);
  const v = parsed.values;
  if (v['python-version'] !== undefined && !/^3\.1[0-4]$/.test(v['python-version'])) throw new UsageError(`--python-version must be one of 3.10, 3.11, 3.12, 3.13, 3.14; got '${v['python-version']}'`);
  if (v.python !== undefined && v.forward === undefined) throw new UsageError('--python only chooses the interpreter for --forward; add --forward a,b or --forward all');
  if (v.forward !== undefined && !v.forward.split(',').some(x => x.trim())) throw new UsageError("--forward needs function names (a,b) or 'all'");
  let forwardTimeout: number | undefined;
  if (v['forward-timeout'] !== undefined) {
    if (v.forward === undefined) throw new UsageError('--forward-timeout only applies to forwarded calls; add --forward a,b or --forward all');
    forwardTimeout = Number(v['forward-timeout']);
    if (!/^\s*\d+(\.\d*)?\s*$/.test(v['forward-timeout']) || !Number.isFinite(forwardTimeout) || forwardTimeout > 1e9) throw new UsageError(`--forward-timeout must be a number of seconds (0 for no limit), got '${v['forward-timeout']}'`);
  }
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
    externals: v.externals ? v.externals.split(',').map(s => s.trim()).filter(Boolean) : [],
    raiseInSandbox: v['raise-in-sandbox'] ?? false,
    ...(v['python-version'] !== undefined ? { pythonVersion: v['python-version'] } : {}),
    json: v.json ?? false,
    cassette: {
      ...(v.record !== undefined ? { record: v.record } : {}),
      ...(v.replay !== undefined ? { replay: v.replay } : {}),
      ...(v['record-mode'] !== undefined ? { recordMode: v['record-mode'] as RecordMode } : {}),
      ...(v['replay-mismatch'] !== undefined ? { replayMismatch: v['replay-mismatch'] as ReplayMismatch } : {}),
      ...(v.redact !== undefined ? { redact: v.redact.split(',').map(x => x.trim()).filter(Boolean) } : {}),
    },
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
