/**
 * `npm run bench` (language server): the built server spoken to over LSP, on
 * a 500-line file with 20 sandboxed tasks. Diagnostics after an edit, from
 * the didChange to the publish of that version (goal <= 200 ms, the
 * server's 75 ms debounce included; also without it), and the server's
 * memory after opening the file and after 200 edits.
 */
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LspClient, SERVER } from '../test/languageServer/lspClient.ts';
import { median } from './shared.ts';

if (!existsSync(SERVER)) throw new Error('dist/languageServer.js is missing: npm run build');
const TASKS = 20;
const EDITS = Number(process.env.BENCH_LSP_EDITS ?? 40);

/** A module of helpers and 20 sandboxed tasks, each with calls, a loop, a flyte_map, and one problem of its own. */
function source(): string {
  const lines = ['"""Benchmark: 20 sandboxed tasks in one module."""', 'import flyte', '', 'env = flyte.TaskEnvironment(name="bench")', '', 'LIMIT = 10', ''];
  for (let i = 0; i < TASKS; i++) lines.push('', `@env.task`, `def step${i}(x: int, y: int) -> int:`, `    return x + y * ${i}`, '');
  for (let i = 0; i < TASKS; i++) {
    lines.push(
      '', '@env.sandbox.orchestrator', `def flow${i}(n: int, names: list[str]) -> dict:`,
      `    """Task ${i}: a few calls, a loop, a map."""`,
      '    total = 0',
      '    seen = []',
      `    for i in range(n):`,
      `        total += step${i}(i, ${i})`,
      `        seen.append(step${(i + 1) % TASKS}(total, i))`,
      `    mapped = flyte_map("step${i}", seen, seen, concurrency=4)`,
      `    squares = [v * v for v in mapped if v > ${i}]`,
      '    label = ""',
      '    for name in names:',
      '        label = label + name',
      `    extra = step${i}(len(label), n) if n > 0 else 0`,
      i % 4 === 0 ? `    bad = stepp${i}(n, 1)` : `    bad = step${i}("x", n)`,
      `    ratio = total / max(1, len(squares))`,
      '    count = len(seen) + len(squares)',
      '    return {"total": total, "squares": squares, "extra": extra, "bad": bad, "ratio": ratio, "count": count}',
      '',
    );
  }
  return lines.join('\n');
}

const dir = mkdtempSync(join(tmpdir(), 'flyte-sandbox-lsp-bench-'));
const file = join(dir, 'flows.py');
const text = source();
writeFileSync(file, text);
const lineCount = text.split('\n').length;

/** The text with task k's loop bound changed: an edit inside one task, as typing does. */
const edited = (k: number, v: number) => text.replace(`def flow${k}(n: int, names: list[str]) -> dict:\n    """Task ${k}: a few calls, a loop, a map."""\n    total = 0`, `def flow${k}(n: int, names: list[str]) -> dict:\n    """Task ${k}: a few calls, a loop, a map."""\n    total = ${v}`);

async function measure(settings: Record<string, unknown>): Promise<{ open: number; edits: number[]; count: number; stats: { open: number; after: number; heapAfter: number } }> {
  const client = await LspClient.start(dir, settings);
  const started = await client.connection.sendRequest<{ rss: number }>('flyteSandbox/stats');
  try {
    let t0 = performance.now();
    const first = await client.open(file);
    const open = performance.now() - t0;
    const statsOpen = await client.connection.sendRequest<{ rss: number }>('flyteSandbox/stats');
    if (idle === undefined) idle = started.rss;
    const edits: number[] = [];
    let count = first.length;
    for (let i = 0; i < EDITS; i++) {
      t0 = performance.now();
      const ds = await client.change(file, edited(i % TASKS, i + 1));
      edits.push(performance.now() - t0);
      count = ds.length;
    }
    // memory after 200 edits in all
    for (let i = EDITS; i < 200; i++) await client.change(file, edited(i % TASKS, i + 1));
    const after = await client.connection.sendRequest<{ rss: number; heapUsed: number }>('flyteSandbox/stats');
    return { open, edits, count, stats: { open: statsOpen.rss, after: after.rss, heapAfter: after.heapUsed } };
  } finally {
    await client.stop();
  }
}

let idle: number | undefined;
const mb = (b: number) => `${(b / 1024 / 1024).toFixed(0)} MB`;
const withDelay = await measure({});
const noDelay = await measure({ diagnosticsDelay: 0 });
console.log(`language server, ${lineCount}-line file, ${TASKS} sandboxed tasks (${withDelay.count} diagnostics):`);
console.log(`  first diagnostics after opening:  ${withDelay.open.toFixed(0)} ms (cold: parser, Monty and its type checker start)`);
console.log(`  diagnostics after an edit:        ${median(withDelay.edits).toFixed(0)} ms median, ${Math.min(...withDelay.edits).toFixed(0)}-${Math.max(...withDelay.edits).toFixed(0)} ms (${EDITS} edits, 75 ms debounce included; goal <= 200 ms)`);
console.log(`  the same without the debounce:    ${median(noDelay.edits).toFixed(0)} ms median, ${Math.min(...noDelay.edits).toFixed(0)}-${Math.max(...noDelay.edits).toFixed(0)} ms`);
console.log(`  server memory (RSS):              ${mb(idle!)} started, ${mb(withDelay.stats.open)} after opening, ${mb(withDelay.stats.after)} after 200 edits (JS heap ${mb(withDelay.stats.heapAfter)})`);
