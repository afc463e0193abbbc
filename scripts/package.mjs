// `npm run package`: the .vsix. Monty is a native addon esbuild cannot bundle,
// so its two packages are staged beside the bundles (dist/node_modules), where
// the adapter's `import '@pydantic/monty'` finds them; one .vsix per platform.
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';

const target = 'linux-x64';
rmSync('dist/node_modules', { recursive: true, force: true });
for (const pkg of ['@pydantic/monty', '@pydantic/monty-linux-x64-gnu']) cpSync(join('node_modules', pkg), `dist/node_modules/${pkg}`, { recursive: true });
mkdirSync('dist-vsix', { recursive: true });
const out = `dist-vsix/flyte-sandbox-debugger-${target}.vsix`;
execFileSync(process.execPath, [join('node_modules', '@vscode', 'vsce', 'vsce'), 'package', '--target', target, '--no-dependencies', '--allow-missing-repository', '--out', out], { stdio: 'inherit' });
console.log(`packaged ${out}`);
