/**
 * A code-string task whose code is imported from another workspace file:
 * its diagnostics land in that file, and follow it when it changes on disk.
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

const REFUSED = 'RuntimeError: Sandboxed task called unknown external function: totl';

test('the task is in main.py, its code in snippets.py: the diagnostic is on the code, in snippets.py', async () => {
  assert.deepEqual((await client.open(join(dir, 'main.py'))).map(show), []);
  const snippets = await client.publishedFor(join(dir, 'snippets.py'), ds => ds.length > 0);
  assert.deepEqual(snippets.map(show), [`5:5-5:9 error unknown-external: not a registered external function: the sandbox will refuse this call (${REFUSED}). Registered: add, total. Did you mean 'total'?`]);
});

test('snippets.py changes on disk: main.py\'s task follows it', async () => {
  const path = join(dir, 'snippets.py');
  writeFileSync(path, readFileSync(path, 'utf8').replace('b = totl(a)', 'b = total(a)'));
  await client.connection.sendNotification('workspace/didChangeWatchedFiles', { changes: [{ uri: client.uri(path), type: 2 }] });
  assert.deepEqual(await client.publishedFor(path, ds => ds.length === 0), []);
});
