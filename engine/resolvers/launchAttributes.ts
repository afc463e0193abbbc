/** The launch attributes of the production features: forwarding to the cluster, and where a replay pauses. */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { LaunchError } from '../debug/launchError.ts';

export const PRODUCTION_ATTRIBUTES = ['remote', 'project', 'domain', 'flyteConfig', 'remoteMaxInFlight', 'stopAtCall'] as const;

export interface ProductionLaunchConfig {
  /** Calls that become real runs on the cluster (never, unless asked). */
  remote: 'all' | string[];
  project?: string;
  domain?: string;
  /** A Flyte config file (default: flyte's own lookup). */
  flyteConfig?: string;
  remoteMaxInFlight?: number;
  /** Pause before this call (by number), e.g. the call that failed in production. */
  stopAtCall?: number;
}

export function parseProductionAttributes(args: Record<string, unknown>, cwd: string): ProductionLaunchConfig {
  const out: ProductionLaunchConfig = { remote: [] };
  const r = args.remote;
  if (r !== undefined) {
    if (r === 'all' || (Array.isArray(r) && r.every(x => typeof x === 'string'))) out.remote = r as 'all' | string[];
    else throw new LaunchError('remote', `expected "all" or a list of function names, got ${JSON.stringify(r)}`);
  }
  for (const name of ['project', 'domain', 'flyteConfig'] as const) {
    const v = args[name];
    if (v === undefined) continue;
    if (typeof v !== 'string' || !v) throw new LaunchError(name, `expected a non-empty string, got ${JSON.stringify(v)}`);
    if (name === 'flyteConfig') {
      const path = resolve(cwd, v);
      if (!existsSync(path)) throw new LaunchError('flyteConfig', `no such file: ${path}`);
      out.flyteConfig = path;
    } else {
      out[name] = v;
    }
  }
  for (const name of ['remoteMaxInFlight', 'stopAtCall'] as const) {
    const v = args[name];
    if (v === undefined) continue;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) throw new LaunchError(name, `expected a whole number of 1 or more, got ${JSON.stringify(v)}`);
    out[name] = v;
  }
  const asksRemote = out.remote === 'all' || out.remote.length > 0;
  if (!asksRemote) {
    const stray = (['project', 'domain', 'flyteConfig', 'remoteMaxInFlight'] as const).find(n => args[n] !== undefined);
    if (stray) throw new LaunchError(stray, `only applies to calls forwarded to the cluster: add "remote": ["fn", ...] or "remote": "all"`);
  }
  return out;
}
