/**
 * `npm run bench`: runs every `bench/*.bench.ts` (or those whose name
 * contains an argument: `npm run bench -- cli dap`), prints one table and
 * writes bench/results.json. A bench file exports `title` and `run()`, and
 * reports its figures with `figure()` from ./table.ts. Exit code 1 when a
 * goal is missed.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { formatTable, reported, writeResults } from './table.ts';

/** Run first, in this order; any other bench file follows alphabetically. */
const ORDER = ['engine', 'cli', 'dap', 'resolvers'];

const filters = process.argv.slice(2);
const names = readdirSync(import.meta.dirname)
  .filter(f => f.endsWith('.bench.ts'))
  .map(f => f.slice(0, -'.bench.ts'.length))
  .filter(n => !filters.length || filters.some(f => n.includes(f)))
  .sort((a, b) => (ORDER.indexOf(a) + 1 || 99) - (ORDER.indexOf(b) + 1 || 99) || a.localeCompare(b));

const started = performance.now();
const failed: string[] = [];
for (const name of names) {
  const t0 = performance.now();
  const mod = (await import(join(import.meta.dirname, `${name}.bench.ts`))) as { title?: string; run: () => Promise<void> };
  process.stderr.write(`bench: ${mod.title ?? name}...`);
  try {
    await mod.run();
    process.stderr.write(` ${((performance.now() - t0) / 1000).toFixed(0)} s\n`);
  } catch (e) {
    failed.push(name);
    process.stderr.write(` FAILED\n${e instanceof Error ? e.stack : String(e)}\n`);
  }
}
console.log(formatTable());
const path = join(import.meta.dirname, 'results.json');
writeResults(path, { benches: names, failed, seconds: Math.round((performance.now() - started) / 1000) });
console.log(`\nwritten to ${path} (${((performance.now() - started) / 1000).toFixed(0)} s)`);
process.exitCode = failed.length || reported().some(r => r.pass === false) ? 1 : 0;
