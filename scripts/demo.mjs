// `npm run demo`: the CLI on every bundled example, with its stubs and inputs.
import { spawnSync } from 'node:child_process';

const examples = [
  ['examples/pipeline/pipeline.py', 'examples/pipeline'],
  ['examples/io/io_pipeline.py', 'examples/io'],
  ['examples/fanout/fanout.py', 'examples/fanout'],
];
let failed = 0;
for (const [file, dir] of examples) {
  console.log(`\n$ flyte-sandbox run ${file} --inputs @${dir}/inputs.json --stubs ${dir}/stubs.json`);
  const r = spawnSync(process.execPath, ['bin/flyte-sandbox.js', 'run', file, '--inputs', `@${dir}/inputs.json`, '--stubs', `${dir}/stubs.json`], { stdio: 'inherit' });
  if (r.status !== 0) failed++;
}
process.exit(failed ? 1 : 0);
