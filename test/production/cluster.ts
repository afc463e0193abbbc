/**
 * A stand-in Flyte cluster for the production tests: the stand-in flyte
 * package (test/fixtures/flyte-standin, built from flyte-sdk's source, not a
 * real cluster) on PYTHONPATH, a copy of the recorded backend, orders.py and
 * a config.yaml pointing at it, in a fresh folder.
 */
import { cpSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const ROOT = join(import.meta.dirname, '..', '..');
export const STANDIN = join(ROOT, 'test', 'fixtures', 'flyte-standin');
export const FIXTURE = join(ROOT, 'test', 'fixtures', 'production');

/** Python workers started by this process find the stand-in flyte. */
export function useStandin(): void {
  process.env.PYTHONPATH = STANDIN;
}

export interface Cluster {
  dir: string;
  backend: string;
  config: string;
  program: string;
  /** Every RPC the stand-in answered so far. */
  rpcs(): { rpc: string; [k: string]: unknown }[];
}

export interface ClusterOptions {
  flavor?: 'oss' | 'union';
  runs?: object[];
  /** Replace orders.py. */
  program?: string;
  /** Extra files in the folder (name -> text). */
  files?: Record<string, string>;
  config?: boolean;
}

export function cluster(o: ClusterOptions = {}): Cluster {
  const dir = mkdtempSync(join(tmpdir(), 'flyte-sandbox-cluster-'));
  const backend = join(dir, 'backend');
  cpSync(join(FIXTURE, 'backend'), backend, { recursive: true });
  if (o.flavor) {
    const settings = JSON.parse(readFileSync(join(backend, 'backend.json'), 'utf8')) as Record<string, unknown>;
    writeFileSync(join(backend, 'backend.json'), JSON.stringify({ ...settings, flavor: o.flavor }));
  }
  for (const run of o.runs ?? []) writeFileSync(join(backend, 'runs', `${(run as { name: string }).name}.json`), JSON.stringify(run));
  const program = join(dir, 'orders.py');
  writeFileSync(program, o.program ?? readFileSync(join(FIXTURE, 'orders.py'), 'utf8'));
  for (const [name, text] of Object.entries(o.files ?? {})) writeFileSync(join(dir, name), text);
  const config = join(dir, 'config.yaml');
  if (o.config !== false) writeFileSync(config, 'admin:\n  endpoint: dns:///flyte.example.com\ntask:\n  project: shop\n  domain: development\nstandin:\n  backend: ./backend\n');
  return {
    dir, backend, config, program,
    rpcs: () => {
      const log = join(backend, 'rpc.log');
      return existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n').filter(Boolean).map(l => JSON.parse(l) as { rpc: string }) : [];
    },
  };
}

const at = (base: number, ms: number) => new Date(base + ms).toISOString();

/** A succeeded run of orders.checkout with `n` direct price() calls, stored newest first (only the created_at sort gives the call order). */
export function bigRun(name: string, n: number): object {
  const base = Date.parse('2026-08-20T10:00:00Z');
  const children = Array.from({ length: n }, (_, i) => ({
    name: `c${(i * 7919 % 1_000_003).toString(36)}x${i.toString(36)}`, parent: 'a0', kind: 'task', task: 'orders.price', version: 'v1',
    created_at: at(base, 1000 + i * 100), start: at(base, 1000 + i * 100 + 10), end: at(base, 1000 + i * 100 + 60), phase: 'succeeded',
    inputs: { item: 'apple', qty: i + 1 }, outputs: [0.5 * (i + 1)],
  }));
  return {
    name, project: 'shop', domain: 'development',
    actions: [
      ...children.reverse(),
      { name: 'a0', parent: '', kind: 'task', task: 'orders.many', version: 'v1', created_at: at(base, 0), start: at(base, 0), end: at(base, 1000 + n * 100), phase: 'succeeded', inputs: { n }, outputs: [n * (n + 1) / 4] },
    ],
  };
}

/** A program whose orchestrator makes `n` price() calls (for bigRun). */
export const MANY = `import flyte

env = flyte.TaskEnvironment(name="orders")


@env.task
def price(item: str, qty: int = 1) -> float:
    return 0.5 * qty


@env.sandbox.orchestrator
def many(n: int) -> float:
    total = 0.0
    for i in range(n):
        total += price("apple", i + 1)
    return total
`;

export async function until<T>(what: string, probe: () => T | undefined | false, timeoutMs = 30_000): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const v = probe();
    if (v) return v;
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise(r => setTimeout(r, 50));
  }
}
