// Bundles the CLI, the debug adapter, the sandbox child processes and the
// VS Code extension into dist/ with esbuild. Monty is a native addon: it
// stays external and is loaded from node_modules (never by the extension host).
import { copyFileSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { build } from 'esbuild';

const require = createRequire(import.meta.url);
mkdirSync('dist/codicons', { recursive: true });
copyFileSync(require.resolve('web-tree-sitter/tree-sitter.wasm'), 'dist/tree-sitter.wasm');
copyFileSync(require.resolve('tree-sitter-python/tree-sitter-python.wasm'), 'dist/tree-sitter-python.wasm');
copyFileSync('python/forward_worker.py', 'dist/forward_worker.py');
copyFileSync('python/flyte_worker.py', 'dist/flyte_worker.py');
copyFileSync(createRequire(require.resolve('quickjs-emscripten')).resolve('@jitl/quickjs-wasmfile-release-sync/wasm'), 'dist/quickjs.wasm');
for (const f of ['codicon.css', 'codicon.ttf']) copyFileSync(require.resolve(`@vscode/codicons/dist/${f}`), `dist/codicons/${f}`);

const common = { bundle: true, platform: 'node', target: 'node20', sourcemap: true, logLevel: 'warning' };

// Node programs: ESM, as the package is.
await build({
  ...common,
  entryPoints: { cli: 'cli/boot.ts', cliMain: 'cli/main.ts', sandboxHost: 'engine/host/child.ts', debugAdapter: 'debug-adapter/boot.ts', debugAdapterMain: 'debug-adapter/main.ts', runtimeHost: 'engine/host/runtimeChild.ts', languageServer: 'language-server/main.ts' },
  outdir: 'dist',
  format: 'esm',
  external: ['@pydantic/monty'],
  // jsonc-parser's default (UMD) build requires its parts at run time, which a bundle cannot: use its ESM build.
  alias: { 'jsonc-parser': './node_modules/jsonc-parser/lib/esm/main.js' },
  banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
});

// The extension: CommonJS for every VS Code; import.meta.url points at the bundle itself.
const result = await build({
  ...common,
  entryPoints: { extension: 'extension/extension.ts' },
  outdir: 'dist',
  outExtension: { '.js': '.cjs' },
  format: 'cjs',
  external: ['vscode', '@pydantic/monty'],
  define: { 'import.meta.url': '__bundleUrl' },
  banner: { js: "const __bundleUrl = require('node:url').pathToFileURL(__filename).href;" },
  metafile: true,
});
const inputs = Object.values(result.metafile.outputs).flatMap(o => Object.keys(o.inputs));
const monty = Object.values(result.metafile.outputs).flatMap(o => o.imports ?? []).filter(i => i.path.includes('@pydantic/monty'));
if (monty.length) throw new Error(`the extension bundle must not load Monty (it would run native code in the extension host): ${monty.map(i => i.path).join(', ')}; inputs: ${inputs.filter(i => i.includes('engine')).join(', ')}`);
