// Runs every test/**/*.test.ts with node's test runner (TypeScript through tsx); `--stress` runs
// the long ones in test/stress/ instead (`npm run test:stress`). Fails when no test file is
// found, so a broken glob cannot pass silently, and when a process the tests started is still
// running after them (see leftovers.mjs).
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { newRunId, reapLeftovers, RUN_VARIABLE } from './leftovers.mjs';

const stress = process.argv.includes('--stress');

function find(dir) {
  return readdirSync(dir).flatMap(name => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return name === 'fixtures' || (name === 'stress' && !stress) ? [] : find(p);
    return p.endsWith('.test.ts') ? [p] : [];
  });
}

const only = process.argv.slice(2).filter(a => a !== '--stress');
const files = only.length ? only : find(stress ? join('test', 'stress') : 'test').sort();
if (files.length === 0) {
  console.error('run-tests: no test files found under test/');
  process.exit(1);
}
const run = newRunId();
const r = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-reporter=spec', `--test-concurrency=${stress ? 1 : 2}`, ...files], { stdio: 'inherit', env: { ...process.env, [RUN_VARIABLE]: run } });
const left = await reapLeftovers(RUN_VARIABLE, run);
if (left.length) {
  console.error(`run-tests: ${left.length} process(es) started by the tests were still running after them (now killed):`);
  for (const p of left) console.error(`  ${p.pid} ${p.cmd.slice(0, 200)}`);
  process.exit(1);
}
process.exit(r.status ?? 1);
