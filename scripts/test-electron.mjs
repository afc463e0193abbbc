// The same extension suite with @vscode/test-electron, for machines that can download VS Code
// (this one cannot: `npm run test:vscode` runs it in code-server instead).
import { cpSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { runTests } from '@vscode/test-electron';

const root = resolve('.');
const workspace = join(mkdtempSync(join(tmpdir(), 'flyte-sandbox-electron-')), 'examples');
cpSync(join(root, 'examples'), workspace, { recursive: true });
await runTests({
  extensionDevelopmentPath: root,
  extensionTestsPath: join(root, 'dist-test', 'vscode-suite.cjs'),
  launchArgs: [workspace, '--disable-extensions', '--disable-workspace-trust'],
});
