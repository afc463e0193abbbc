/**
 * Everything a debug launch builds before the run: the checked
 * configuration, the program and its task, the inputs, breakpoints, and the
 * resolver chain behind the interactive controller (stubs, JS stubs,
 * cassette, forwarding). Each bad value is a LaunchError naming its attribute.
 */
import { dirname } from 'node:path';
import { codeHash } from '../cassette/format.ts';
import type { CassetteRecorder } from '../cassette/recorder.ts';
import { UsageError } from '../errors.ts';
import type { SandboxTask } from '../extract/tasks.ts';
import { loadFailure } from '../extract/moduleImport.ts';
import { chooseProfile } from '../forward/flyteVersion.ts';
import { engineMontyVersion, profileLine } from '../profiles.ts';
import { bridgePlan } from '../run/bridgePlan.ts';
import { loadProgram } from '../program.ts';
import type { Registry } from '../registry.ts';
import { buildInputs } from '../run/inputs.ts';
import { buildDebugResolvers, replayInputs, type Forwarder } from '../resolvers/index.ts';
import type { StubResolver } from '../resolvers/stub.ts';
import { ResolverChain, type Resolver } from '../run/resolvers.ts';
import type { LaunchInfo } from './api.ts';
import { Breakpoints } from './breakpoints.ts';
import { LaunchError, resolveLaunchConfig, type LaunchConfig } from './launchConfig.ts';

export type { Forwarder };

export interface RuntimeHooks {
  /** Replaces the resolvers after the cassette (forward, remote) and the explicit forwarder (the chain is built in engine/resolvers). */
  resolvers?(config: LaunchConfig, task: SandboxTask, output: (text: string) => void): { after: Resolver[]; forwarder?: Forwarder };
}

export interface LaunchSetup {
  config: LaunchConfig;
  task: SandboxTask;
  registry: Registry;
  inputValues: Record<string, unknown>;
  breakpoints: Breakpoints;
  stubResolver: StubResolver;
  downstream: ResolverChain;
  forwarder: Forwarder | undefined;
  recorder: CassetteRecorder | undefined;
  warnings: string[];
  info: LaunchInfo;
}

export async function prepareLaunch(args: Record<string, unknown>, hooks: RuntimeHooks, notice: (text: string) => void): Promise<LaunchSetup> {
  const { config, warnings } = resolveLaunchConfig(args);
  // The installed flyte is asked of the configured interpreter (VS Code always sets one); none configured: the default profile.
  const choice = await chooseProfile({ ...(config.flyteProfile ? { explicit: config.flyteProfile } : {}), python: config.python, pythonConfigured: config.pythonConfigured, detect: config.pythonConfigured, cwd: dirname(config.program) });
  if (choice.warning) warnings.push(choice.warning);
  let program;
  try {
    program = await loadProgram(config.program, { ...(config.pythonVersion ? { pythonVersion: config.pythonVersion } : {}), profile: choice.profile });
  } catch (e) {
    if (e instanceof UsageError) throw new LaunchError('program', e.message);
    throw e;
  }
  let task: SandboxTask;
  try {
    task = program.findTask(config.task);
  } catch (e) {
    if (e instanceof UsageError) throw new LaunchError('task', e.message.replace(/^[^:]*: /, ''));
    throw e;
  }
  const unloadable = loadFailure(task);
  if (unloadable) throw new LaunchError('program', unloadable);
  const registry = config.externals.length ? task.registry.withExtra(config.externals) : task.registry;
  let inputValues: Record<string, unknown>;
  try {
    inputValues = buildInputs(task, config.inputs ?? replayInputs(config.replay, notice), 'inputs', { marshal: !bridgePlan(task, registry).fastPath });
  } catch (e) {
    if (e instanceof UsageError) throw new LaunchError('inputs', e.message.replace(/^inputs: /, ''));
    throw e;
  }
  if (Array.isArray(config.stopOnExternalCall)) {
    const unknown = config.stopOnExternalCall.filter(n => n !== 'flyte_map' && !registry.get(n));
    if (unknown.length) throw new LaunchError('stopOnExternalCall', `${unknown.map(n => `'${n}'`).join(', ')} ${unknown.length > 1 ? 'are' : 'is'} not an external ${task.name} may call (registered: ${registry.names().join(', ') || '(none)'})`);
  }
  const unusedStubs = [...config.stubs.keys()].filter(n => !registry.get(n));
  if (unusedStubs.length) warnings.push(`stubs for ${unusedStubs.join(', ')} will never be used: ${task.name} may call only ${registry.names().join(', ') || '(nothing)'}`);
  if (program.syntaxWarning) warnings.push(`${program.syntaxWarning.file}:${program.syntaxWarning.line}: Python cannot parse this line, so importing the module would fail in production`);
  const breakpoints = new Breakpoints(task, registry);
  const chain = await buildDebugResolvers(config, task, inputValues, notice, hooks.resolvers);
  const downstream = new ResolverChain(chain.resolvers);
  const callSites: Record<string, number[]> = {};
  for (const site of task.callSites) if (site.name === 'flyte_map' || registry.get(site.name)) (callSites[site.name] ??= []).push(site.file.line);
  notice(profileLine(choice));
  const info: LaunchInfo = {
    task: task.name, flyteName: task.flyteName, file: task.module.path, line: task.at.line, externals: registry.names(), warnings,
    maxDurationSecs: config.limits.maxDurationSecs, codeHash: codeHash(task.code), callSites, inputNames: task.inputNames,
    profile: { id: choice.profile.id, label: choice.profile.label, productionMonty: choice.profile.montyPin, engineMonty: engineMontyVersion(), reason: choice.reason },
  };
  return { config, task, registry, inputValues, breakpoints, stubResolver: chain.stub, downstream, forwarder: chain.forwarder, recorder: chain.cassette.recorder, warnings, info };
}
