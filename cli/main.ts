/** `flyte-sandbox`: the headless runner, a thin client of the engine. */
import { existsSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import { readCassette } from '../engine/cassette/format.ts';
import { same } from '../engine/cassette/matcher.ts';
import { redactedParts } from '../engine/cassette/redact.ts';
import { checkCassetteOptions, type CassetteOptions } from '../engine/cassette/setup.ts';
import { buildInputs, cassetteInputs, chooseProfile, DEFAULT_LIMITS, loadProgram, NO_LIMITS, profileLine, pyRepr, resolveLimits, SandboxProcess, UsageError, type ProcessRunOptions, type ProfileChoice, type PythonVersion, type RunResult } from '../engine/index.ts';
import { checkWritableFile } from '../engine/outputFile.ts';
import { dictEntries, isDict } from '../engine/values/python.ts';
import { fromWire, toWire } from '../engine/values/wire.ts';
import { killAllChildren } from '../engine/host/lifetime.ts';
import { versionText } from './version.ts';
import { jsonArgument, parseCli, USAGE, type CliArgs } from './args.ts';
import { debugCommand } from './debugger.ts';
import { callLine, describeProgram, formatFailure, profileJson, programJson } from './format.ts';
import { stdout } from './output.ts';
import { RunDocument } from './runDocument.ts';
import { importRun } from './importRun.ts';

/** The Flyte profile of this run: --flyte-profile, else the installed flyte's (asked of --python), else the default. */
async function profileOf(args: CliArgs): Promise<ProfileChoice> {
  const choice = await chooseProfile({
    ...(args.flyteProfile !== undefined ? { explicit: args.flyteProfile } : {}),
    ...(args.python !== undefined ? { python: args.python, pythonConfigured: true } : {}),
    // Only a configured interpreter is asked (as in the debugger): a Python start per run would cost every run its latency.
    detect: args.python !== undefined,
    cwd: dirname(resolve(args.file!)),
  });
  if (choice.warning) process.stderr.write(`warning: ${choice.warning}\n`);
  return choice;
}

async function list(args: CliArgs, out: (s: string) => void): Promise<number> {
  const choice = await profileOf(args);
  const program = await loadProgram(args.file!, { ...(args.pythonVersion ? { pythonVersion: args.pythonVersion as PythonVersion } : {}), profile: choice.profile });
  out(args.json ? programJson(program, profileJson(choice)) : `${describeProgram(program)}\n\n${profileLine(choice)}`);
  return 0;
}

/**
 * The names a stubs file or object answers, read without compiling its Python: that happens in the
 * sandbox child, where a native crash of the interpreter (a hostile expression) is contained.
 */
async function stubNames(stubs: unknown): Promise<string[]> {
  const value = typeof stubs === 'string' ? await jsonArgument(`@${stubs}`, '--stubs') : stubs;
  return isDict(value) ? dictEntries(value).map(([k]) => String(k)) : [];
}

/** The run in progress, and the signal that interrupted it (Ctrl-C). */
let running: SandboxProcess | undefined;
let interrupted: number | undefined;
const SIGNALS = { SIGINT: 2, SIGTERM: 15, SIGHUP: 1 } as const;

/**
 * A first Ctrl-C (or SIGTERM) stops the run the way a debug session is stopped: the sandbox
 * child ends its run (a cassette being recorded is written, status incomplete) and is killed if
 * it cannot answer; the CLI then exits with 128 + the signal. A second one ends everything now.
 * Either way no child outlives the CLI (see engine/host/lifetime.ts).
 */
for (const [name, number] of Object.entries(SIGNALS)) {
  process.on(name, () => {
    if (interrupted !== undefined || !running) {
      stdout.flush();
      killAllChildren();
      process.exit(128 + number);
    }
    interrupted = number;
    process.stderr.write(`flyte-sandbox: ${name}: stopping the run\n`);
    running.stop();
  });
}

/**
 * Run the sandbox in a child process the CLI can always kill (see
 * ARCHITECTURE.md), printing as it goes. Calls are followed, not kept
 * (`RunResult.calls` is empty): `--json` builds its document as they finish.
 */
async function execute(options: ProcessRunOptions, args: CliArgs, out: (s: string) => void, doc: RunDocument | undefined): Promise<{ result: RunResult; answered: number }> {
  const sandboxRun = new SandboxProcess({ ...options, keepCalls: false, onNotice: text => stdout.error(`${text}\n`) });
  running = sandboxRun;
  let answered = 0;
  if (doc) sandboxRun.on('call', r => doc.started(r));
  sandboxRun.on('result', r => {
    if (r.status === 'returned' || r.status === 'raised') answered++;
    if (doc) doc.finished(r);
    else out(callLine(r));
  });
  if (!args.json) sandboxRun.on('output', text => stdout.write(text));
  return { result: await sandboxRun.execute(), answered };
}

const CASSETTE_FLAGS: Record<string, string> = { record: '--record', replay: '--replay', recordMode: '--record-mode', replayMismatch: '--replay-mismatch', redact: '--redact' };

function cassetteOptions(o: CassetteOptions): CassetteOptions {
  checkCassetteOptions(o, name => CASSETTE_FLAGS[name] ?? name);
  // Checked now: found only when the run is over, the recording would be lost.
  const recordTo = o.record ?? (o.recordMode === 'once' || o.recordMode === 'new_episodes' || o.recordMode === 'all' ? o.replay : undefined);
  if (recordTo !== undefined) checkWritableFile(resolve(recordTo), o.record !== undefined ? '--record' : '--replay');
  return { ...o, ...(o.record ? { record: resolve(o.record) } : {}), ...(o.replay ? { replay: resolve(o.replay) } : {}) };
}

async function run(args: CliArgs, out: (s: string) => void): Promise<number> {
  const choice = await profileOf(args);
  const program = await loadProgram(args.file!, { ...(args.pythonVersion ? { pythonVersion: args.pythonVersion as PythonVersion } : {}), profile: choice.profile });
  const task = program.findTask(args.task);
  if (program.syntaxWarning) {
    const w = program.syntaxWarning;
    process.stderr.write(`warning: ${relative(process.cwd(), w.file)}:${w.line}: Python cannot parse this line, so importing the module would fail in production and Flyte would never run ${task.name}\n`);
  }
  if (program.encodingWarning) {
    const w = program.encodingWarning;
    process.stderr.write(`warning: ${relative(process.cwd(), w.file)}:${w.line}:${w.column}: ${w.message}\n`);
  }
  const inputs = args.inputs !== undefined ? await jsonArgument(args.inputs, '--inputs') : args.cassette.replay && (args.cassette.recordMode === undefined || args.cassette.recordMode === 'none' || existsSync(resolve(args.cassette.replay))) ? cassetteInputs(resolve(args.cassette.replay), text => process.stderr.write(`${text}\n`)) : undefined;
  const needed = task.inputs.filter(i => !(i.default && 'value' in i.default && task.profile.interfaceDefaults));
  if (inputs === undefined && needed.length) {
    throw new UsageError(`${task.name} takes ${needed.map(i => i.name).join(', ')}: pass them with --inputs '{${needed.map(i => `"${i.name}": ...`).join(', ')}}' or --inputs @inputs.json`);
  }
  buildInputs(task, inputs, args.inputs?.startsWith('@') ? args.inputs.slice(1) : '--inputs');
  const limits = resolveLimits(args.limits !== undefined ? await jsonArgument(args.limits, '--limits') : undefined, '--limits', args.noLimits ? NO_LIMITS : DEFAULT_LIMITS);
  let stubs: unknown;
  if (args.stubs !== undefined) {
    const inline = args.stubs.trimStart().startsWith('{');
    stubs = inline ? await jsonArgument(args.stubs, '--stubs') : resolve(args.stubs);
    const unknown = (await stubNames(stubs)).filter(n => !task.registry.get(n) && !args.externals.includes(n));
    if (unknown.length) process.stderr.write(`warning: ${inline ? '--stubs' : args.stubs}: stub${unknown.length > 1 ? 's' : ''} for ${unknown.join(', ')} will never be used: ${task.name} may call only ${task.registry.names().join(', ') || '(nothing)'}\n`);
  }
  if (args.stubModule !== undefined && !existsSync(args.stubModule)) throw new UsageError('no such file', args.stubModule);
  if (Array.isArray(args.forward)) {
    const unknown = args.forward.filter(n => !task.registry.get(n) && !args.externals.includes(n));
    if (unknown.length) throw new UsageError(`${unknown.join(', ')}: not an external ${task.name} may call (registered: ${task.registry.names().join(', ') || '(none)'})`, '--forward');
  }
  const cassette = cassetteOptions(args.cassette);
  if (!args.json) {
    out(`${task.name} (${relative(process.cwd(), task.module.path)}:${task.at.line})${args.raiseInSandbox ? '  [raiseInSandbox: exceptions from calls are raised inside the sandbox; production ends the run]' : ''}`);
    out(`  ${profileLine(choice)}${limits.maxDurationSecs === null && limits.maxMemory === null ? '; no limits, as in production' : ''}`);
  }
  const doc = args.json ? new RunDocument() : undefined;
  const { result, answered } = await execute({
    file: program.file,
    task: task.name,
    inputs,
    limits,
    raiseInSandbox: args.raiseInSandbox,
    externals: args.externals,
    ...(stubs !== undefined ? { stubs } : {}),
    ...(args.stubModule !== undefined ? { stubModule: resolve(args.stubModule) } : {}),
    ...(args.forward !== undefined ? { forward: args.forward } : {}),
    ...(args.python !== undefined ? { python: args.python } : {}),
    ...(args.forward !== undefined ? { pythonSettingName: '--python', forwardTimeoutSettingName: '--forward-timeout' } : {}),
    ...(args.forwardTimeout !== undefined ? { forwardTimeout: args.forwardTimeout } : {}),
    ...(args.pythonVersion ? { pythonVersion: args.pythonVersion } : {}),
    profile: choice.profile.id,
    ...(Object.keys(cassette).length ? { cassette } : {}),
    ...(args.remote ? { remote: args.remote } : {}),
  }, args, out, doc);
  if (doc) {
    doc.write(result, stdout, profileJson(choice));
    stdout.write('\n');
  } else if (result.status === 'ok') out(`result: ${pyRepr(result.output)}`);
  else out(formatFailure(result.error!));
  if (cassette.record && !args.json) stdout.error(`recorded ${answered} calls to ${relative(process.cwd(), cassette.record)}\n`);
  return result.status === 'ok' ? 0 : 1;
}

/** `test CASSETTE`: replay a cassette against the current code; does it still produce the recorded output? */
async function test(args: CliArgs, out: (s: string) => void): Promise<number> {
  const path = resolve(args.file!);
  const cassette = readCassette(path);
  if (cassette.status !== 'ok' && cassette.status !== 'error') {
    throw new UsageError(`this cassette is ${cassette.status === 'incomplete' ? 'incomplete: the run it recorded was stopped before it ended (Ctrl-C, a closed debug session, or a recording still in progress)' : `of unknown status ${JSON.stringify(cassette.status)}`}, so it holds no result to compare with (${cassette.calls.length} calls recorded); record it again from a run that finishes`, path);
  }
  const program = resolve(dirname(path), cassette.file);
  const hidden = redactedParts(cassette.inputs);
  if (hidden.length && args.inputs === undefined) throw new UsageError(`the inputs ${hidden.join(', ')} were redacted when this cassette was recorded: give all the inputs again with --inputs`, path);
  const inputs = args.inputs !== undefined ? await jsonArgument(args.inputs, '--inputs') : fromWire(cassette.inputs);
  let notReplayed = 0;
  const result = await new SandboxProcess({
    file: program,
    task: cassette.task,
    inputs,
    cassette: { replay: path, recordMode: 'none', replayMismatch: 'stop' },
    onNotice: text => {
      const m = /(\d+) recorded call\(s\) were not replayed/.exec(text);
      if (m) notReplayed = Number(m[1]);
      else if (!args.json) process.stderr.write(`${text}\n`);
    },
  }).execute();
  const recordedOutput = cassette.status === 'ok' ? pyRepr(fromWire(cassette.output)) : undefined;
  const problems: string[] = [];
  if (result.status !== (cassette.status === 'ok' ? 'ok' : 'error')) problems.push(`status: recorded ${cassette.status}, now ${result.status}${result.error ? ` (${result.error.type}: ${result.error.message})` : ''}`);
  else if (result.status === 'ok' && !same(cassette.output, toWire(result.output))) problems.push(`output: recorded ${recordedOutput}, now ${pyRepr(result.output)}`);
  else if (result.status === 'error' && (result.error!.type !== cassette.error?.type || result.error!.message !== cassette.error?.message)) problems.push(`error: recorded ${cassette.error?.type}: ${cassette.error?.message}, now ${result.error!.type}: ${result.error!.message}`);
  if (notReplayed) problems.push(`${notReplayed} recorded call(s) were not made`);
  const replayed = result.calls.filter(c => c.source === 'cassette').length;
  if (args.json) out(JSON.stringify({ cassette: path, ok: problems.length === 0, problems, replayed }, null, 2));
  else if (problems.length) out(`FAIL ${relative(process.cwd(), path)} (${cassette.task})\n  ${problems.join('\n  ')}`);
  else out(`ok ${relative(process.cwd(), path)} (${cassette.task}): ${replayed} calls replayed, same ${result.status === 'ok' ? 'output' : 'error'}`);
  return problems.length ? 1 : 0;
}

export async function main(argv: string[]): Promise<number> {
  const out = (s: string) => stdout.line(s);
  try {
    if (argv[0] === 'import-run') return await importRun(argv.slice(1), out);
    const args = parseCli(argv);
    if (args.command === 'help') {
      out(USAGE);
      return 0;
    }
    if (args.command === 'version') {
      out(versionText());
      return 0;
    }
    if (args.command === 'list') return await list(args, out);
    if (args.command === 'test') return await test(args, out);
    // the terminal debugger writes prompts and program output itself: its lines go out at once
    if (args.command === 'debug') return await debugCommand(args, line => stdout.lineNow(line));
    return await run(args, out);
  } catch (e) {
    stdout.flush();
    if (e instanceof UsageError) {
      process.stderr.write(`flyte-sandbox: ${e.message}\n`);
      return 2;
    }
    // Our own bug: say so in one line; the stack only on request.
    process.stderr.write(`flyte-sandbox: internal error: ${e instanceof Error ? e.message : String(e)} (set FLYTE_SANDBOX_DEBUG=1 for the stack; please report it)\n`);
    if (process.env.FLYTE_SANDBOX_DEBUG) process.stderr.write(`${e instanceof Error ? e.stack : ''}\n`);
    return 3;
  }
}

const code = await main(process.argv.slice(2));
stdout.flush();
process.exitCode = interrupted !== undefined ? 128 + interrupted : code;
