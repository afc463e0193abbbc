/**
 * A code-string task whose code is imported from another workspace file.
 * The engine reads the constant where it is defined, so the task's positions
 * are that file's: the server publishes the task's diagnostics there (a union
 * over the open documents), and again when that file changes.
 */
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { LspClient, show } from './lspClient.ts';

let dir: string;
let client: LspClient;

before(async () => {
  dir = join(mkdtempSync(join(tmpdir(), 'flyte-lsp-cross-')), 'ws');
  cpSync(join(import.meta.dirname, '..', 'fixtures', 'lsp', 'crossfile'), dir, { recursive: true });
  client = await LspClient.start(dir);
});
after(() => client.stop());


test('a code string imported from another file: its diagnostics are published in that file, at the code\'s positions', async () => {
  const ds = await client.open(join(dir, 'main.py'));
  assert.deepEqual(ds.map(show), [], 'nothing is wrong where the task is declared');
  const inSnippets = await client.publishedFor(join(dir, 'snippets.py'), d => d.length > 0);
  assert.deepEqual(inSnippets.map(show), ["5:5-5:9 error unknown-external: not a registered external function: the sandbox will refuse this call (RuntimeError: Sandboxed task called unknown external function: totl). Registered: add, total. Did you mean 'total'?"]);
  // fixed and saved in snippets.py: the task in main.py is checked again, and the diagnostic goes
  const snippets = join(dir, 'snippets.py');
  const fixed = readFileSync(snippets, 'utf8').replace('totl(a)', 'total(a)');
  await client.open(snippets);
  await client.change(snippets, fixed);
  writeFileSync(snippets, fixed);
  await client.save(snippets);
  assert.deepEqual((await client.publishedFor(snippets, d => !d.some(x => /totl/.test(String(x.message))))).map(show), []);
});
