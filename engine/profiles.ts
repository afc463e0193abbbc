/**
 * Flyte version profiles: every choice in which production's sandbox
 * semantics depend on the flyte-sdk release, as data. Extraction and the
 * engine loop consult the selected profile; nothing else branches on a Flyte
 * version.
 *
 * What each profile says was read from flyte-sdk's source at the releases
 * named (git tags of flyteorg/flyte-sdk), except `pooled`, which follows the
 * description of PR #1539 (merged after the newest release read here).
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export type ProfileId = '2.2' | '2.6' | 'pooled';

export interface FlyteMapDefaults {
  concurrency: number | null;
  returnExceptions: boolean;
}

export interface FlyteProfile {
  id: ProfileId;
  /** What the run output says: "reproducing flyte-sdk 2.6.x". */
  label: string;
  /** The releases it covers, inclusive ("2.5.6" to "2.6.x"); none for a profile chosen only by name. */
  versions?: { from: string; to: string };
  /** The pydantic-monty version production pins (pyproject `sandbox` extra). */
  montyPin: string;
  /** Where the semantics were read. */
  source: string;
  /**
   * `await ext(...)` on an external call: 'fails' when the bridge resumes Monty
   * with a plain value (Monty raises "TypeError: 'dict' object can't be
   * awaited"); 'awaits' when the bridge resolves the call as a future.
   */
  awaitExternal: 'fails' | 'awaits';
  /** Code-string tasks without inputs get a dummy `_unused` input (Monty 0.0.17 refuses empty inputs). */
  dummyInput: boolean;
  /** Monty refuses `start(inputs={})` when no input is declared (a decorated task without parameters). */
  emptyInputsRefused: boolean;
  /** `flyte.run` fills in declared parameter defaults before the sandbox starts. */
  interfaceDefaults: boolean;
  /** No external discovered: `Monty.run()` without the bridge (no marshaling, no flyte_map, NameError). */
  fastPath: boolean;
  /** Resource limits Flyte passes to Monty (none: SandboxedConfig is stored, never applied). */
  appliesLimits: boolean;
  flyteMap: {
    /** Defaults of `flyte.map` over a TaskTemplate. */
    task: FlyteMapDefaults;
    /**
     * How other registered callables are mapped: '_map_callable' (its own
     * defaults; asyncio.gather when concurrency > 0) or 'flyte.map' (as a task:
     * a plain function has no `.aio`, so each item fails).
     */
    callables: '_map_callable' | 'flyte.map';
    callable: FlyteMapDefaults;
  };
}

const COMMON = {
  dummyInput: true,
  emptyInputsRefused: true,
  interfaceDefaults: true,
  fastPath: true,
  appliesLimits: false,
  awaitExternal: 'fails' as const,
};

export const PROFILES: readonly FlyteProfile[] = [
  {
    id: '2.2',
    label: 'flyte-sdk 2.2.1 – 2.5.5',
    versions: { from: '2.2.1', to: '2.5.5' },
    montyPin: '0.0.17',
    source: 'flyte-sdk v2.2.1 and v2.5.5 (src/flyte/sandbox, src/flyte/_map.py)',
    ...COMMON,
    flyteMap: { task: { concurrency: 0, returnExceptions: true }, callables: 'flyte.map', callable: { concurrency: 0, returnExceptions: true } },
  },
  {
    id: '2.6',
    label: 'flyte-sdk 2.6.x',
    versions: { from: '2.5.6', to: '2.6.x' },
    montyPin: '0.0.17',
    source: 'flyte-sdk v2.6.5 (src/flyte/sandbox, src/flyte/_map.py, src/flyte/io)',
    ...COMMON,
    flyteMap: { task: { concurrency: 0, returnExceptions: true }, callables: '_map_callable', callable: { concurrency: null, returnExceptions: false } },
  },
  {
    id: 'pooled',
    label: 'flyte-sdk with the pooled AsyncMonty bridge (PR #1539)',
    montyPin: '0.0.22',
    source: 'the description of flyteorg/flyte-sdk PR #1539 (not in any release read here): pooled AsyncMonty, async feed_start/resume, no dummy input',
    ...COMMON,
    awaitExternal: 'awaits',
    dummyInput: false,
    emptyInputsRefused: false,
    flyteMap: { task: { concurrency: 0, returnExceptions: true }, callables: '_map_callable', callable: { concurrency: null, returnExceptions: false } },
  },
];

export const DEFAULT_PROFILE_ID: ProfileId = '2.6';

export function profileById(id: string): FlyteProfile | undefined {
  return PROFILES.find(p => p.id === id);
}

export function defaultProfile(): FlyteProfile {
  return profileById(DEFAULT_PROFILE_ID)!;
}

/** `--flyte-profile` / `flyteProfile`: the known ids, for error messages. */
export function profileChoices(): string {
  return PROFILES.map(p => `${p.id} (${p.label})`).join(', ');
}

/** "2.6.5" → [2, 6, 5]; an "x" patch (a range's end) is every patch release. */
function parseVersion(v: string): number[] | undefined {
  const m = /^(\d+)\.(\d+)(?:\.(\d+|x))?/.exec(v.trim());
  if (!m) return undefined;
  return [Number(m[1]), Number(m[2]), m[3] === 'x' ? Infinity : Number(m[3] ?? 0)];
}

function compare(a: number[], b: number[]): number {
  for (let i = 0; i < 3; i++) if (a[i]! !== b[i]!) return a[i]! - b[i]!;
  return 0;
}

export interface ProfileChoice {
  profile: FlyteProfile;
  /** Why this profile: "chosen", "flyte 2.6.5 is installed", "default". */
  reason: string;
  /** Something the user should know (an installed flyte newer than any profile). */
  warning?: string;
}

/** The profile for an installed flyte version, with a warning when no profile covers it exactly. */
export function profileForVersion(version: string): ProfileChoice {
  const v = parseVersion(version);
  const fallback = defaultProfile();
  if (!v) return { profile: fallback, reason: 'default', warning: `cannot read the installed flyte version '${version}'; reproducing ${fallback.label}` };
  const ranged = PROFILES.filter(p => p.versions);
  const exact = ranged.find(p => compare(v, parseVersion(p.versions!.from)!) >= 0 && compare(v, parseVersion(p.versions!.to)!) <= 0);
  if (exact) return { profile: exact, reason: `flyte ${version} is installed` };
  const newest = ranged.reduce((a, b) => (compare(parseVersion(a.versions!.to)!, parseVersion(b.versions!.to)!) >= 0 ? a : b));
  if (compare(v, parseVersion(newest.versions!.to)!) > 0) {
    return {
      profile: newest,
      reason: `flyte ${version} is installed`,
      warning: `flyte ${version} is installed, newer than any profile the debugger has (newest: ${newest.label}); reproducing ${newest.label}. If that release has the pooled AsyncMonty bridge of PR #1539, choose the 'pooled' profile`,
    };
  }
  const oldest = ranged.reduce((a, b) => (compare(parseVersion(a.versions!.from)!, parseVersion(b.versions!.from)!) <= 0 ? a : b));
  return { profile: oldest, reason: `flyte ${version} is installed`, warning: `flyte ${version} is installed, older than any profile the debugger has (oldest: ${oldest.label}); reproducing ${oldest.label}` };
}

const here = dirname(fileURLToPath(import.meta.url));

function readJson(path: string): { name?: string; version?: string } | undefined {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as { name?: string; version?: string };
  } catch {
    return undefined;
  }
}

let montyVersion: string | undefined;

/** The @pydantic/monty version the engine runs (its package.json; read once, it is this process's Monty). */
export function engineMontyVersion(): string {
  if (montyVersion) return montyVersion;
  try {
    const entry = createRequire(import.meta.url).resolve('@pydantic/monty');
    montyVersion = readJson(join(dirname(entry), 'package.json'))?.version ?? 'unknown';
  } catch {
    montyVersion = 'unknown';
  }
  return montyVersion;
}

/** This debugger's own version (the package.json above the source tree or the bundle). */
export function debuggerVersion(): string {
  for (let dir = here, i = 0; i < 4; i++, dir = dirname(dir)) {
    const pkg = readJson(join(dir, 'package.json'));
    if (pkg?.name === 'flyte-sandbox-debugger') return pkg.version ?? 'unknown';
  }
  return 'unknown';
}

/** One line for the run output: "reproducing flyte-sdk 2.6.x (pydantic-monty 0.0.17; engine @pydantic/monty 0.0.18)". */
export function profileLine(choice: ProfileChoice): string {
  const p = choice.profile;
  return `reproducing ${p.label} (production pins pydantic-monty ${p.montyPin}; the engine runs @pydantic/monty ${engineMontyVersion()})${choice.reason !== 'default' ? `; ${choice.reason}` : ''}`;
}
