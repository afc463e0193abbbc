/** `flyte-sandbox`: the headless runner, a thin client of the engine. */
import { relative, resolve } from 'node:path';
import { buildInputs, loadProgram, loadStubs, pyRepr, resolveLimits, SandboxProcess, UsageError, type PythonVersion } from '../engine/index.ts';
import { jsonArgument, parseCli, USAGE, type CliArgs } from './args.ts';
import { callLine, describeProgram, formatFailure, programJson, runJson } from './format.ts';

async function run(args: CliArgs, out: (s: string) => void): Promise<number> {
  const program = await loadProgram(args.file!, args.pythonVersion ? { pythonVersion: args.pythonVersion as PythonVersion } : {});
  if (args.command === 'list') {
    out(args.json ? programJson(program) : describeProgram(program));
    return 0;
  }
  const task = program.findTask(args.task);
  if (program.syntaxWarning) {
    const w = program.syntaxWarning;
    process.stderr.write(`warning: ${relative(process.cwd(), w.file)}:${w.line}: Python cannot parse this line, so importing the module would fail in production and Flyte would never run ${task.name}\n`);
  }
  const inputs = args.inputs !== undefined ? await jsonArgument(args.inputs, '--inputs') : undefined;
  if (inputs === undefined && task.inputs.length) {
    throw new UsageError(`${task.name} takes ${task.inputs.map(i => i.name).join(', ')}: pass them with --inputs '{${task.inputs.map(i => `"${i.name}": ...`).join(', ')}}' or --inputs @inputs.json`);
  }
  buildInputs(task, inputs, args.inputs?.startsWith('@') ? args.inputs.slice(1) : '--inputs');
  const limits = resolveLimits(args.limits !== undefined ? await jsonArgument(args.limits, '--limits') : undefined, '--limits');
  if (args.stubs !== undefined) {
    const stubs = await loadStubs(args.stubs);
    const unknown = [...stubs.keys()].filter(n => !task.registry.get(n) && !args.externals.includes(n));
    if (unknown.length) process.stderr.write(`warning: ${args.stubs}: stub${unknown.length > 1 ? 's' : ''} for ${unknown.join(', ')} will never be used: ${task.name} may call only ${task.registry.names().join(', ') || '(nothing)'}\n`);
  }
  // The sandbox runs in a child process the CLI can always kill (see ARCHITECTURE.md).
  const sandboxRun = new SandboxProcess({
    file: program.file,
    task: task.name,
    inputs,
    limits,
    raiseInSandbox: args.raiseInSandbox,
    externals: args.externals,
    ...(args.stubs !== undefined ? { stubs: resolve(args.stubs) } : {}),
    ...(args.pythonVersion ? { pythonVersion: args.pythonVersion } : {}),
  });
  if (!args.json) {
    out(`${task.name} (${relative(process.cwd(), task.module.path)}:${task.at.line})${args.raiseInSandbox ? '  [raiseInSandbox: exceptions from calls are raised inside the sandbox; production ends the run]' : ''}`);
    sandboxRun.on('result', r => out(callLine(r)));
    sandboxRun.on('output', text => process.stdout.write(text));
  }
  const result = await sandboxRun.execute();
  if (args.json) out(runJson(result));
  else if (result.status === 'ok') out(`result: ${pyRepr(result.output)}`);
  else out(formatFailure(result.error!));
  return result.status === 'ok' ? 0 : 1;
}

export async function main(argv: string[]): Promise<number> {
  const out = (s: string) => process.stdout.write(s + '\n');
  try {
    const args = parseCli(argv);
    if (args.command === 'help') {
      out(USAGE);
      return 0;
    }
    return await run(args, out);
  } catch (e) {
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

process.exitCode = await main(process.argv.slice(2));
