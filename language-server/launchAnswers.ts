/**
 * How the run the user would start answers an external call: the
 * flyte-sandbox configuration of `.vscode/launch.json` for this program, else
 * what F5 and "Run with stubs" do without one (pause at every call; the
 * stubs file beside the program). Read from the files, so any LSP client
 * gets the same answer.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import { parse as parseJsonc } from 'jsonc-parser';
import { readCassette } from '../engine/cassette/format.ts';
import { parseStubs, type StubSpec } from '../engine/resolvers/stub.ts';
import { parseJson } from '../engine/values/json.ts';
import { pyRepr } from '../engine/values/python.ts';

interface LaunchConfig {
  name?: string;
  type?: string;
  request?: string;
  program?: string;
  task?: string;
  stubs?: unknown;
  forward?: string | string[];
  replay?: string;
  stopOnExternalCall?: string | string[];
  externals?: string[];
  cwd?: string;
}

export interface Answers {
  /** Where the answers come from: "launch.json "Debug x"", or "no launch configuration". */
  origin: string;
  describe(fn: string): string[];
}

function launchFiles(file: string, roots: string[]): string[] {
  const out: string[] = [];
  for (let dir = dirname(file); ; dir = dirname(dir)) {
    const candidate = join(dir, '.vscode', 'launch.json');
    if (existsSync(candidate)) out.push(candidate);
    if (roots.includes(dir) || dirname(dir) === dir) break;
  }
  return out;
}

function substitute(value: string, folder: string, file: string): string {
  return value.replace(/\$\{workspaceFolder\}/g, folder).replace(/\$\{file\}/g, file).replace(/\$\{fileDirname\}/g, dirname(file)).replace(/\$\{fileBasename\}/g, basename(file));
}

function stubsFrom(value: unknown, base: string): { stubs: Map<string, StubSpec>; where: string } | undefined {
  try {
    if (typeof value === 'string') {
      const path = isAbsolute(value) ? value : resolve(base, value);
      return { stubs: parseStubs(parseJson(readFileSync(path, 'utf8')), path), where: path };
    }
    if (value && typeof value === 'object') return { stubs: parseStubs(value, 'launch.json stubs'), where: 'the launch configuration' };
  } catch {
    // A broken stubs file is the debugger's to report when it launches.
  }
  return undefined;
}

function describeStub(spec: StubSpec): string {
  if (spec.kind === 'value') return `returns ${pyRepr(spec.value)}`;
  if (spec.kind === 'python') return `returns the Python expression \`${spec.expression}\``;
  return `raises ${spec.type}${spec.message ? `: ${spec.message}` : ''}`;
}

const cache = new Map<string, { mtime: number; configs: LaunchConfig[] }>();

function configurations(path: string): LaunchConfig[] {
  const mtime = statSync(path).mtimeMs;
  const hit = cache.get(path);
  if (hit?.mtime === mtime) return hit.configs;
  const parsed = parseJsonc(readFileSync(path, 'utf8')) as { configurations?: LaunchConfig[] } | undefined;
  const configs = Array.isArray(parsed?.configurations) ? parsed.configurations : [];
  cache.set(path, { mtime, configs });
  return configs;
}

export function launchAnswers(file: string, task: { name: string; flyteName: string }, roots: string[]): Answers {
  for (const launch of launchFiles(file, roots)) {
    const folder = dirname(dirname(launch));
    let configs: LaunchConfig[];
    try {
      configs = configurations(launch);
    } catch {
      continue;
    }
    const config = configs.find(c => c.type === 'flyte-sandbox' && (c.request ?? 'launch') === 'launch' && typeof c.program === 'string' && resolve(folder, substitute(c.program, folder, file)) === file && (!c.task || c.task === task.name || c.task === task.flyteName));
    if (config) return fromConfig(config, `launch.json "${config.name ?? 'flyte-sandbox'}"`, config.cwd ? resolve(folder, substitute(config.cwd, folder, file)) : folder);
  }
  return withoutLaunchJson(file);
}

function fromConfig(config: LaunchConfig, origin: string, base: string): Answers {
  const stubs = stubsFrom(config.stubs, base);
  const forward = config.forward === 'all' ? 'all' : Array.isArray(config.forward) ? config.forward : [];
  const stop = config.stopOnExternalCall ?? 'all';
  let replay: { path: string; counts: Map<string, number> } | undefined;
  if (config.replay) {
    const path = resolve(base, config.replay);
    try {
      const counts = new Map<string, number>();
      for (const c of readCassette(path).calls) counts.set(c.function, (counts.get(c.function) ?? 0) + 1);
      replay = { path, counts };
    } catch {
      replay = undefined;
    }
  }
  return {
    origin,
    describe(fn) {
      const lines: string[] = [];
      const stub = stubs?.stubs.get(fn);
      if (replay) lines.push(`replayed from the cassette ${replay.path} (${replay.counts.get(fn) ?? 0} recorded call${replay.counts.get(fn) === 1 ? '' : 's'} of it)`);
      if (stub) lines.push(`stub (${stubs!.where}): ${describeStub(stub)}`);
      if (forward === 'all' || forward.includes(fn)) lines.push('forwarded to the real Python function');
      if (stop === 'all' || (Array.isArray(stop) && stop.includes(fn))) lines.push('pauses at the call so you can answer it');
      if (!lines.length) lines.push('nothing answers it: the run stops with "no stub, cassette or forward"');
      return lines;
    },
  };
}

function withoutLaunchJson(file: string): Answers {
  const stubsPath = [`${basename(file, '.py')}.stubs.json`, 'stubs.json'].map(n => join(dirname(file), n)).find(existsSync);
  const stubs = stubsPath ? stubsFrom(stubsPath, dirname(file)) : undefined;
  return {
    origin: 'no launch configuration for this file',
    describe(fn) {
      const stub = stubs?.stubs.get(fn);
      return [
        'F5 pauses at the call so you can answer it',
        stub ? `"Run with stubs" (${stubsPath}): ${describeStub(stub)}` : stubsPath ? `"Run with stubs" (${stubsPath}): no stub for it, so the run pauses there` : '"Run with stubs": no stubs.json beside the file',
      ];
    },
  };
}
