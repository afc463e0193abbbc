/**
 * The language server: the built server spoken to over LSP, on
 * a 500-line file with 20 sandboxed tasks. Diagnostics after an edit, from
 * the didChange to the publish of that version (goal <= 200 ms, the
 * server's 75 ms debounce included; also without it), and the server's
 * memory after opening the file and after 200 edits.
 */
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LspClient, SERVER } from '../test/languageServer/lspClient.ts';
import { figure } from './table.ts';

export const title = 'language server over LSP';
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

let dir = '';
let file = '';
let text = '';
let idle: number | undefined;

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


export async function run(): Promise<void> {
  if (!existsSync(SERVER)) throw new Error('dist/languageServer.js is missing: npm run build');
  dir = mkdtempSync(join(tmpdir(), 'flyte-sandbox-lsp-bench-'));
  file = join(dir, 'flows.py');
  text = source();
  writeFileSync(file, text);
  const lineCount = text.split('\n').length;
  const withDelay = await measure({});
  const noDelay = await measure({ diagnosticsDelay: 0 });
  const mb = (b: number) => b / 1024 / 1024;
  figure(title, { name: 'first diagnostics after opening', unit: 'ms', samples: [withDelay.open], detail: `${lineCount}-line file, ${TASKS} sandboxed tasks, ${withDelay.count} diagnostics; cold: parser, Monty and its type checker start` });
  figure(title, { name: 'diagnostics after an edit', unit: 'ms', samples: withDelay.edits, goal: { max: 200 }, detail: `${EDITS} edits, the 75 ms debounce included` });
  figure(title, { name: 'the same without the debounce', unit: 'ms', samples: noDelay.edits });
  figure(title, { name: 'server memory (RSS) after 200 edits', unit: 'MB', samples: [mb(withDelay.stats.after)], detail: `${mb(idle!).toFixed(0)} MB started, ${mb(withDelay.stats.open).toFixed(0)} MB after opening; JS heap ${mb(withDelay.stats.heapAfter).toFixed(0)} MB` });
}
