/**
 * A code-string task whose code is imported from another workspace file.
 * The server publishes a task's diagnostics in the file its code is in (a
 * union over the open documents), but the engine's extraction reads only
 * code strings defined in the task's own file: such a task is reported as
 * unreadable.
 */
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync } from 'node:fs';
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


test('a code string imported from another file: the engine cannot read it yet, and the server says so where the task is', async () => {
  const ds = await client.open(join(dir, 'main.py'));
  assert.deepEqual(ds.map(show), ["19:10-19:78 info unreadable-task: The debugger cannot read this sandboxed task, so it is not checked: its code is `SUMMED`, which is not a string constant."]);
});
