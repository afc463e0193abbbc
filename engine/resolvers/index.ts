/**
 * The resolver chain, built in one place for the CLI's sandbox process and
 * the debug runtime. Every external call is offered to each resolver in
 * turn; the first that answers wins:
 *
 *   interactive (the debugger's controller, or the parent process)
 *   → stub → JS stub → cassette → forward (local Python) → remote (cluster)
 *
 * The interactive step is the caller's (it sits in front of this chain);
 * everything after it is built here. One module per resolver, beside this
 * file. Remote runs happen only for the calls named in `remote`.
 */
import { existsSync } from 'node:fs';
import { dirname } from 'node:path';
import { readCassette } from '../cassette/format.ts';
import { setUpCassette, type CassetteOptions, type CassetteSetup } from '../cassette/setup.ts';
import { externalsOf } from '../cassette/signatures.ts';
import type { Signature } from '../cassette/signatures.ts';
import { LaunchError } from '../debug/launchError.ts';
import type { LaunchConfig } from '../debug/launchConfig.ts';
import { UsageError } from '../errors.ts';
import type { SandboxTask } from '../extract/tasks.ts';
import type { CallOutcome, ExternalCall } from '../run/outcome.ts';
import type { Resolver } from '../run/resolvers.ts';
import { pyRepr } from '../values/python.ts';
import { fromWire } from '../values/wire.ts';
import { ForwardResolver } from './forward.ts';
import { JsStubResolver } from './jsStub.ts';
import { RemoteResolver, type RemoteSettings } from './remote.ts';
import { StubResolver, type StubSpec } from './stub.ts';

/** Resolves calls the client chose to forward, and owns the processes of the chain (dispose stops them). */
export interface Forwarder extends Resolver {
  forward(call: ExternalCall): PromiseLike<CallOutcome>;
  /** Resolves when the chain's processes have exited. */
  dispose?(): Promise<void>;
}

export interface ChainSpec {
  task: SandboxTask;
  inputs: Record<string, unknown>;
  stubs?: Map<string, StubSpec>;
  stubModule?: string;
  cassette?: CassetteOptions;
  forward?: 'all' | string[];
  python?: string;
  pythonSettingName?: string;
  /** Per forwarded call (0: no limit), and how messages name that setting. */
  forwardTimeoutMs?: number;
  forwardTimeoutSettingName?: string;
  remote?: RemoteSettings;
  /** Where flyte looks for ./config.yaml (the user's working folder); default: the program's folder. */
  cwd?: string;
  /** Things the user should know (cassette and remote notices). */
  notice(text: string): void;
  /** What forwarded Python functions print. */
  output?(text: string, stream: 'stdout' | 'stderr'): void;
  /** Build the local forwarder even when no call is forwarded by name (a debugger forwards calls by hand). */
  alwaysForwarder?: boolean;
  /** Replaces forward and remote (tests). */
  extra?: () => { after: Resolver[]; forwarder?: Forwarder };
  /** Where option names come from in messages (`--remote` or `remote`). */
  optionName?(name: 'remote' | 'forward' | 'stubModule'): string;
}

export interface BuiltChain {
  stub: StubResolver;
  /** stub → JS stub → cassette → forward → remote, without the interactive step. */
  resolvers: Resolver[];
  cassette: CassetteSetup;
  remote?: RemoteResolver;
  /** The explicit forwarder (when there is one); its dispose stops every process of the chain. */
  forwarder?: Forwarder;
  /** Stops the chain's processes; resolves when they have exited. */
  dispose(): Promise<void>;
}

/** A bad setting found while building the chain, with the stage it belongs to (the attribute a debugger names). */
export class ChainSetupError extends UsageError {
  constructor(readonly stage: 'stubModule' | 'cassette' | 'remote', readonly original: UsageError) {
    super(original.message);
  }
}

async function stage<T>(name: ChainSetupError['stage'], work: () => T | Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (e) {
    if (e instanceof UsageError && !(e instanceof ChainSetupError)) throw new ChainSetupError(name, e);
    throw e;
  }
}

function namesText(names: 'all' | string[]): string {
  return names === 'all' ? 'all' : names.join(', ');
}

/** Remote names must be tasks the sandbox may call: a trace runs inside the orchestrator in production. */
function checkRemoteNames(task: SandboxTask, names: 'all' | string[], forward: 'all' | string[] | undefined, option: string, notice: (t: string) => void): void {
  if (names === 'all') return;
  if (!names.length) throw new UsageError(`needs function names (a,b) or 'all'`, option);
  for (const n of names) {
    const entry = task.registry.get(n);
    if (!entry) throw new UsageError(`${n}: not an external ${task.name} may call (registered: ${task.registry.names().join(', ') || '(none)'})`, option);
    if (entry.category !== 'task') throw new UsageError(`${n} is a ${entry.what}: in production it runs inside the orchestrator, not as a run of its own; forward it locally instead`, option);
  }
  const both = forward === 'all' ? names : names.filter(n => forward?.includes(n));
  if (both.length) notice(`${both.join(', ')}: asked for both forward and remote; forward (local Python) comes first in the chain and answers ${both.length === 1 ? 'it' : 'them'}`);
}

export async function buildResolvers(spec: ChainSpec): Promise<BuiltChain> {
  const option = spec.optionName ?? (n => n);
  const stub = new StubResolver(spec.stubs ?? new Map());
  const resolvers: Resolver[] = [stub];
  if (spec.stubModule) resolvers.push(await stage('stubModule', () => JsStubResolver.load(spec.stubModule!, { output: text => spec.notice(`[stubs.js] ${text}`) })));
  let signatures: Map<string, Signature | undefined> | undefined;
  if (spec.cassette?.replay || spec.cassette?.recordMode === 'new_episodes' || spec.cassette?.recordMode === 'once') {
    const identities = await externalsOf(spec.task);
    signatures = new Map([...identities].map(([k, v]) => [k, v.signature]));
  }
  const cassette = spec.cassette ? await stage('cassette', () => setUpCassette(spec.cassette!, spec.task, spec.inputs, spec.notice, signatures ? fn => signatures!.get(fn) : undefined)) : {};
  if (cassette.resolver) resolvers.push(cassette.resolver);
  const disposers: (() => Promise<void>)[] = [];
  let forwarder: Forwarder | undefined;
  let remote: RemoteResolver | undefined;
  if (spec.extra) {
    const extra = spec.extra();
    resolvers.push(...extra.after);
    forwarder = extra.forwarder;
  } else {
    const forwardNames = spec.forward ?? [];
    const forwarding = forwardNames === 'all' || forwardNames.length > 0;
    if (forwarding || spec.alwaysForwarder) {
      const local = new ForwardResolver({
        module: spec.task.module.path,
        names: forwardNames,
        ...(spec.python ? { python: spec.python } : {}),
        ...(spec.pythonSettingName ? { pythonSettingName: spec.pythonSettingName } : {}),
        ...(spec.forwardTimeoutMs !== undefined ? { timeoutMs: spec.forwardTimeoutMs } : {}),
        ...(spec.forwardTimeoutSettingName ? { timeoutSettingName: spec.forwardTimeoutSettingName } : {}),
        onOutput: (text, stream) => (spec.output ? spec.output(text, stream) : spec.notice(text.replace(/\n$/, ''))),
        onNotice: text => spec.notice(text),
      });
      if (forwarding) resolvers.push(local);
      disposers.push(() => local.dispose());
      forwarder = local;
    }
    const r = spec.remote;
    if (r && (r.names === 'all' || r.names.length)) {
      await stage('remote', () => checkRemoteNames(spec.task, r.names, spec.forward, option('remote'), spec.notice));
      remote = new RemoteResolver({
        ...r,
        ...(spec.python && !r.python ? { python: spec.python } : {}),
        ...(spec.pythonSettingName && !r.pythonSettingName ? { pythonSettingName: spec.pythonSettingName } : {}),
        module: spec.task.module.path,
        // flyte's root_dir: the worker imports the file as a top-level module from its own folder, so the bundle starts there.
        rootDir: dirname(spec.task.module.path),
        cwd: spec.cwd ?? dirname(spec.task.module.path),
        onNotice: text => spec.notice(text),
        onOutput: (text, stream) => (spec.output ? spec.output(text, stream) : spec.notice(text.replace(/\n$/, ''))),
      });
      resolvers.push(remote);
      spec.notice(`remote: ${namesText(r.names)} ${r.names === 'all' || r.names.length > 1 ? 'run' : 'runs'} on the cluster${r.project || r.domain ? ` (${r.project ?? 'default project'}/${r.domain ?? 'default domain'})` : ''}: each call is a real run, and costs one`);
      disposers.push(() => remote!.dispose());
    }
  }
  const dispose = async (): Promise<void> => {
    await Promise.all(disposers.map(d => d()));
  };
  const local = forwarder;
  const owner: Forwarder | undefined = local && !spec.extra ? { source: local.source, resolve: c => local.resolve(c), forward: c => local.forward(c), dispose } : forwarder;
  return { stub, resolvers, cassette, ...(remote ? { remote } : {}), ...(owner ? { forwarder: owner } : {}), dispose };
}

/** A replay started without inputs runs with the cassette's (when the cassette exists). */
export function replayInputs(replay: string | undefined, notice: (text: string) => void): unknown {
  return replay && existsSync(replay) ? cassetteInputs(replay, notice) : undefined;
}

/** The cassette's inputs, for a replay started without inputs ("and says so"). */
export function cassetteInputs(path: string, notice: (text: string) => void): unknown {
  const cassette = readCassette(path);
  const inputs = fromWire(cassette.inputs);
  notice(`inputs from the cassette${cassette.production ? ` (production run ${cassette.production.run})` : ''}: ${pyRepr(inputs)}`);
  return inputs;
}

/** The debug runtime's chain: launch attributes in, errors as LaunchErrors naming the attribute. */
export async function buildDebugResolvers(config: LaunchConfig, task: SandboxTask, inputs: Record<string, unknown>, notice: (text: string) => void, extra?: (config: LaunchConfig, task: SandboxTask, output: (text: string) => void) => { after: Resolver[]; forwarder?: Forwarder }): Promise<BuiltChain> {
  try {
    return await buildResolvers({
      task,
      inputs,
      stubs: new Map(config.stubs),
      ...(config.stubModule ? { stubModule: config.stubModule } : {}),
      cassette: config,
      forward: config.forward,
      python: config.python,
      ...(config.forwardTimeout !== undefined ? { forwardTimeoutMs: config.forwardTimeout * 1000 } : {}),
      cwd: config.cwd,
      remote: { names: config.remote, ...(config.project ? { project: config.project } : {}), ...(config.domain ? { domain: config.domain } : {}), ...(config.flyteConfig ? { config: config.flyteConfig } : {}), ...(config.remoteMaxInFlight ? { maxInFlight: config.remoteMaxInFlight } : {}) },
      notice,
      alwaysForwarder: true,
      ...(extra ? { extra: () => extra(config, task, notice) } : {}),
    });
  } catch (e) {
    if (!(e instanceof ChainSetupError)) throw e;
    if (e.stage === 'remote') throw new LaunchError('remote', e.original.message.replace(/^remote: /, ''));
    throw new LaunchError(e.stage === 'stubModule' ? 'stubModule' : config.replay ? 'replay' : 'record', e.message);
  }
}
