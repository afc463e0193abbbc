/**
 * Files the engine loads at run time (the tree-sitter wasm binaries, the
 * Python worker): beside the running bundle in `dist/`, else in the source
 * tree's node_modules when running from TypeScript.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);

export function assetPath(fileName: string, packageSpecifier: string): string {
  const beside = join(here, fileName);
  if (existsSync(beside)) return beside;
  return require.resolve(packageSpecifier);
}
