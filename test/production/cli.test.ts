/**
 * `flyte-sandbox import-run` and `run --replay` from the command line: the
 * built CLI, real python3, the stand-in flyte (not a cluster).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { cluster, ROOT, STANDIN } from './cluster.ts';

const BIN = join(ROOT, 'bin', 'flyte-sandbox.js');

before(() => {
  if (!existsSync(join(ROOT, 'dist', 'cli.js'))) spawnSync(process.execPath, [join(ROOT, 'scripts', 'build.mjs')], { cwd: ROOT, stdio: 'inherit' });
});

function cli(args: string[], cwd: string, env: Record<string, string | undefined> = { PYTHONPATH: STANDIN }) {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd, encoding: 'utf8', env: { ...process.env, CI: 'true', ...env } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('import-run then run --replay without --inputs: the cassette\'s inputs (it says so), each call from the cassette beside its production action', () => {
  const c = cluster();
  const imported = cli(['import-run', 'https://flyte.example.com/v2/domain/development/project/shop/runs/rb5n8c1qd', '--program', 'orders.py', '--out', 'bad.json'], c.dir);
  assert.equal(imported.code, 0, imported.stderr);
  assert.match(imported.stdout, /^imported run rb5n8c1qd \(failed, shop\/development\) of orders\.checkout: 4 calls to bad\.json$/m);
  assert.match(imported.stdout, /replay it: flyte-sandbox run orders\.py --task checkout --replay bad\.json/);
  assert.match(imported.stderr, /^reading calls: 4\/4$/m, 'a progress counter');
  const r = cli(['run', 'orders.py', '--replay', 'bad.json'], c.dir);
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /^inputs from the cassette \(production run rb5n8c1qd\): \{'cart': \{'apple': 3, 'melon': 4\}, 'code': 'BAD'\}$/m);
  assert.match(r.stdout, /#2 price\('apple', 3\) -> 1\.5 {2}\[cassette production action d2f4g6h8, /);
  assert.match(r.stdout, /#4 discount\(15\.5, code='BAD'\) raised RuntimeUserError: bad code {2}\[cassette production action t6y2u8i4, /);
  assert.match(r.stdout, /exception's own type \(its \.code in production, e\.g\. ValueError\) and its traceback cannot be recovered/);
  assert.match(r.stdout, /^RuntimeUserError: bad code$/m);
});

test('clear errors with exit 2 and no cassette: unknown run, no flyte, no configuration, no permission, a bad URL', () => {
  const c = cluster();
  const cases: [string, string[], Record<string, string | undefined>, RegExp][] = [
    ['unknown run', ['nope'], { PYTHONPATH: STANDIN }, /^flyte-sandbox: cannot import run nope: run nope was not found \(run nope not found in project shop, domain development\)$/m],
    ['no flyte', ['rq7w2k9xb'], { PYTHONPATH: '' }, /^flyte-sandbox: cannot import run rq7w2k9xb: flyte is not importable in .*python.* \(ModuleNotFoundError: No module named 'flyte'\): set --python to the interpreter where flyte is installed$/m],
    ['no configuration', ['rq7w2k9xb', '--config', 'missing.yaml'], { PYTHONPATH: STANDIN }, /^flyte-sandbox: cannot import run rq7w2k9xb: Configuration file '.*missing\.yaml' does not exist/m],
    ['no permission', ['https://flyte.example.com/v2/domain/development/project/finance/runs/rfin00001'], { PYTHONPATH: STANDIN }, /^flyte-sandbox: cannot import run rfin00001: no permission to read run rfin00001 \(permission denied: the caller may not read project 'finance'\)$/m],
    ['a URL that is not a run', ['https://flyte.example.com/v2/tasks/x'], { PYTHONPATH: STANDIN }, /^flyte-sandbox: https:\/\/flyte\.example\.com\/v2\/tasks\/x: not a run URL/m],
  ];
  for (const [what, args, env, message] of cases) {
    const r = cli(['import-run', ...args, '--program', 'orders.py', '--out', 'out.json'], c.dir, env);
    assert.equal(r.code, 2, `${what}: ${r.stderr}`);
    assert.match(r.stderr, message, what);
    assert.equal(existsSync(join(c.dir, 'out.json')), false, `${what}: no cassette written`);
  }
  // no config file at all (flyte finds none from this folder): no client, so nothing can be read
  const bare = cluster({ config: false });
  const r = cli(['import-run', 'rq7w2k9xb', '--program', 'orders.py', '--out', 'out.json'], bare.dir, { PYTHONPATH: STANDIN, HOME: bare.dir, FLYTECTL_CONFIG: undefined, UCTL_CONFIG: undefined });
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /cannot import run rq7w2k9xb: flyte has no cluster configured: no config file was found/);
  assert.equal(existsSync(join(bare.dir, 'out.json')), false);
});

test('import-run usage errors name what is missing', () => {
  const c = cluster();
  assert.match(cli(['import-run', 'r1', '--out', 'x.json'], c.dir).stderr, /import-run needs --program FILE\.py/);
  assert.match(cli(['import-run', 'r1', '--program', 'orders.py'], c.dir).stderr, /import-run needs --out CASSETTE\.json/);
  assert.match(cli(['import-run', '--program', 'orders.py', '--out', 'x.json'], c.dir).stderr, /import-run needs a run name or the run's URL/);
  assert.match(cli(['import-run', 'r1', '--program', 'nope.py', '--out', 'x.json'], c.dir).stderr, /^flyte-sandbox: nope\.py: no such file$/m);
});
