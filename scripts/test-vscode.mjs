// `npm run test:vscode`: the extension's suite (test/vscode/suite.ts) in a real VS Code
// (code-server, through scripts/vscode-test.mjs), on the bundled examples folder.
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { build } from 'esbuild';

mkdirSync('dist-test', { recursive: true });
await build({
  entryPoints: ['test/vscode/suite.ts'],
  outfile: 'dist-test/vscode-suite.cjs',
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  external: ['vscode'],
  logLevel: 'warning',
});
if (process.argv.includes('--bundle-only')) process.exit(0);

// The suite writes workspace settings: it gets a copy of the examples, never the real folder.
const root = process.cwd();
const workspace = join(mkdtempSync(join(tmpdir(), 'flyte-sandbox-vscode-')), 'examples');
cpSync(join(root, 'examples'), workspace, { recursive: true });
const r = spawnSync(process.execPath, ['scripts/vscode-test.mjs', '--extension', root, '--tests', `${root}/dist-test/vscode-suite.cjs`, '--workspace', workspace, '--timeout', '420', '--ui-checks', `${root}/test/vscode/ui.mjs`], { stdio: 'inherit' });
rmSync(dirname(workspace), { recursive: true, force: true });
process.exit(r.status ?? 1);
