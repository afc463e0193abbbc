// Bundles the CLI (and later the adapter and the extension) into dist/ with esbuild.
// Monty is a native addon: it stays external and is loaded from node_modules.
import { copyFileSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { build } from 'esbuild';

const require = createRequire(import.meta.url);
mkdirSync('dist', { recursive: true });
copyFileSync(require.resolve('web-tree-sitter/tree-sitter.wasm'), 'dist/tree-sitter.wasm');
copyFileSync(require.resolve('tree-sitter-python/tree-sitter-python.wasm'), 'dist/tree-sitter-python.wasm');
copyFileSync('python/forward_worker.py', 'dist/forward_worker.py');

await build({
  entryPoints: { cli: 'cli/main.ts', sandboxHost: 'engine/host/child.ts', debugAdapter: 'debug-adapter/main.ts', runtimeHost: 'engine/host/runtimeChild.ts' },
  outdir: 'dist',
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  sourcemap: true,
  external: ['@pydantic/monty'],
  banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
  logLevel: 'warning',
});
