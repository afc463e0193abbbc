/**
 * Which flyte the user has: asked of their Python (the interpreter that
 * forwarding uses), so the run reproduces the matching Flyte profile. The
 * installed distribution's version is read first (no import); a `flyte`
 * module without one (a stand-in on the path) is imported for `__version__`.
 */
import { spawn } from 'node:child_process';
import { UsageError } from '../errors.ts';
import { defaultProfile, profileById, profileChoices, profileForVersion, type ProfileChoice } from '../profiles.ts';
import { DEFAULT_PYTHON } from './pythonWorker.ts';

const PROBE = [
  'import json, sys',
  'out = {"python": "%d.%d.%d" % sys.version_info[:3]}',
  'try:',
  '    from importlib.metadata import version',
  '    out["flyte"] = version("flyte")',
  'except Exception:',
  '    try:',
  '        import flyte',
  '        v = getattr(flyte, "__version__", None)',
  '        if v is not None: out["flyte"] = str(v)',
  '        else: out["flyteWithoutVersion"] = True',
  '    except Exception:',
  '        pass',
  'print(json.dumps(out))',
].join('\n');

export interface InstalledFlyte {
  python?: string;
  /** The installed flyte's version, when there is one. */
  flyte?: string;
  /** A `flyte` module that says no version (a stand-in). */
  flyteWithoutVersion?: boolean;
  /** Why the interpreter could not be asked. */
  error?: string;
}

/** Ask `python` (run in `cwd`, as the user's project would import) which flyte it has. Never rejects. */
export function detectFlyte(python: string = DEFAULT_PYTHON, cwd?: string, timeoutMs = 20_000): Promise<InstalledFlyte> {
  return new Promise(resolve => {
    let out = '';
    let settled = false;
    const done = (r: InstalledFlyte) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(r);
    };
    let child;
    try {
      child = spawn(python, ['-c', PROBE], { stdio: ['ignore', 'pipe', 'ignore'], ...(cwd ? { cwd } : {}) });
    } catch (e) {
      resolve({ error: (e as Error).message });
      return;
    }
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      done({ error: `'${python}' did not answer within ${timeoutMs / 1000} s` });
    }, timeoutMs);
    timer.unref();
    child.stdout.on('data', (d: Buffer) => (out += d.toString('utf8')));
    child.on('error', e => done({ error: (e as NodeJS.ErrnoException).code === 'ENOENT' ? `the Python interpreter '${python}' was not found` : e.message }));
    child.on('close', code => {
      try {
        const parsed = JSON.parse(out.trim().split('\n').at(-1) ?? '') as InstalledFlyte;
        done(parsed);
      } catch {
        done({ error: `'${python}' exited with code ${code} without saying its version` });
      }
    });
  });
}

export interface ProfileRequest {
  /** `--flyte-profile` / `flyteProfile`: chosen by name, no detection. */
  explicit?: string;
  /** The interpreter to ask (the one forwarding uses); default python3. */
  python?: string;
  /** Whether `python` was set by the user (then a failure to ask it is worth a warning). */
  pythonConfigured?: boolean;
  /** The program's folder. */
  cwd?: string;
  /** Ask Python at all (default true). */
  detect?: boolean;
}

/** Where `explicit` is set, for error messages (`--flyte-profile`). */
export function checkProfileName(name: string, where: string): void {
  if (!profileById(name)) throw new UsageError(`unknown Flyte profile '${name}' (known: ${profileChoices()})`, where);
}

/** The profile a run reproduces: the one named, else the one matching the installed flyte, else the default. */
export async function chooseProfile(request: ProfileRequest): Promise<ProfileChoice> {
  if (request.explicit !== undefined) {
    const p = profileById(request.explicit);
    if (!p) throw new UsageError(`unknown Flyte profile '${request.explicit}' (known: ${profileChoices()})`);
    return { profile: p, reason: 'chosen' };
  }
  if (request.detect === false) return { profile: defaultProfile(), reason: 'default' };
  const installed = await detectFlyte(request.python ?? DEFAULT_PYTHON, request.cwd);
  if (installed.flyte) return profileForVersion(installed.flyte);
  if (installed.error && request.pythonConfigured) return { profile: defaultProfile(), reason: 'default', warning: `could not ask ${installed.error.startsWith('the Python') ? installed.error : `'${request.python}' (${installed.error})`} which flyte it has; reproducing ${defaultProfile().label}` };
  return { profile: defaultProfile(), reason: 'default' };
}
