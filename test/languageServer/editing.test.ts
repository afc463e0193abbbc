/**
 * Editing help over LSP against the built server: completion inside
 * sandboxed tasks, hover on external calls (with the launch configuration's
 * answer), go to definition from a flyte_map name, references across the
 * workspace's sandboxed tasks.
 */
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { MarkupContent } from 'vscode-languageserver-protocol';
import { LspClient } from './lspClient.ts';

let dir: string;
let file: string;
let client: LspClient;
let text: string;

before(async () => {
  dir = join(mkdtempSync(join(tmpdir(), 'flyte-lsp-edit-')), 'ws');
  cpSync(join(import.meta.dirname, '..', 'fixtures', 'lsp', 'editing'), dir, { recursive: true });
  file = join(dir, 'editing.py');
  text = readFileSync(file, 'utf8');
  client = await LspClient.start(dir);
  assert.deepEqual(await client.open(file), [], 'the fixture is clean');
});
after(() => client.stop());

/** The text with line `line` (1-based) replaced, and the position at the end of the new line. */
function withLine(line: number, content: string): { text: string; line: number; character: number } {
  const lines = text.split('\n');
  lines[line - 1] = content;
  return { text: lines.join('\n'), line: line - 1, character: content.length };
}

test('completion inside flyte_map(" offers the task\'s registered names, replacing what is typed', async () => {
  const at = withLine(22, '    scores = flyte_map("sc');
  await client.change(file, at.text);
  const items = await client.completion(file, at.line, at.character);
  assert.deepEqual(items.map(i => [i.label, i.detail]), [['fetch', 'Flyte task (@env.task)'], ['score', 'Flyte task (@env.task)']]);
  assert.deepEqual((items[1]!.textEdit as { range: unknown }).range, { start: { line: 21, character: 24 }, end: { line: 21, character: 26 } });
  assert.match(String(items[1]!.documentation), /^Registered: referenced in the task body \(co_names\)\. flyte_map runs it with flyte\.map\.$/);
});

test('completion of flyte_map\'s keywords inside its parentheses, and of the task\'s externals', async () => {
  const at = withLine(22, '    scores = flyte_map("score", rows, ');
  await client.change(file, at.text);
  const labels = (await client.completion(file, at.line, at.character)).map(i => i.label);
  assert.deepEqual(labels, ['group_name=', 'concurrency=', 'return_exceptions=', 'fetch', 'score', 'flyte_map']);
  const typed = withLine(23, '    return fe');
  await client.change(file, typed.text);
  const items = await client.completion(file, typed.line, typed.character);
  assert.deepEqual(items.map(i => i.label), ['fetch']);
  assert.equal(items[0]!.detail, 'Flyte task (@env.task)');
});

test('completion inside a code string uses that task\'s tasks=[...]', async () => {
  const at = withLine(34, '    flyte_map("');
  await client.change(file, at.text);
  const items = await client.completion(file, at.line, at.character);
  assert.deepEqual(items.map(i => i.label), ['fetch', 'score']);
});

test('no completion outside sandboxed tasks, nor in a string or comment of the task', async () => {
  await client.change(file, text);
  assert.deepEqual(await client.completion(file, 10, 4), [], 'inside a plain @env.task');
  const at = withLine(23, '    return sum(scores)  # fe');
  await client.change(file, at.text);
  assert.deepEqual(await client.completion(file, at.line, at.character), []);
});

test('hover on an external call: signature, where it is defined, why it is registered, what the launch configuration answers', async () => {
  await client.change(file, text);
  const h = await client.hover(file, 19, 12);
  assert.equal((h?.contents as MarkupContent).value, [
    '```python\ndef fetch(source: str, limit: int = 10) -> list[int]\n```',
    `**fetch**: Flyte task (@env.task) \`editing.fetch\`, defined at [editing.py:8](${client.uri(file)}#L8).`,
    'Registered for `pipeline`: referenced in the task body (co_names).',
    '**How a run answers it** (launch.json "Run pipeline"):\n- stub (the launch configuration): returns [1, 2, 3]',
  ].join('\n\n'));
  assert.deepEqual(h?.range, { start: { line: 19, character: 11 }, end: { line: 19, character: 16 } });
  const onMap = (await client.hover(file, 21, 26))?.contents as MarkupContent;
  assert.match(onMap.value, /^```python\ndef score\(row: int\) -> float\n```/);
  assert.match(onMap.value, /flyte_map runs it with flyte\.map \(concurrency=0 is unlimited, return_exceptions=True\)\./);
  assert.match(onMap.value, /\*\*How a run answers it\*\* \(launch\.json "Run pipeline"\):\n- forwarded to the real Python function$/);
  // the other task has no launch configuration: F5 and "Run with stubs" (no stubs.json here)
  const other = (await client.hover(file, 27, 13))?.contents as MarkupContent;
  assert.match(other.value, /\*\*How a run answers it\*\* \(no launch configuration for this file\):\n- F5 pauses at the call so you can answer it\n- "Run with stubs": no stubs\.json beside the file$/);
  assert.equal(await client.hover(file, 9, 8), null, 'nothing outside sandboxed tasks');
});

test('go to definition from a flyte_map("name") string and from a call', async () => {
  const fromMap = await client.definition(file, 21, 26);
  assert.deepEqual(fromMap, { uri: client.uri(file), range: { start: { line: 13, character: 4 }, end: { line: 13, character: 9 } } });
  const fromCodeString = await client.definition(file, 33, 17);
  assert.deepEqual(fromCodeString, fromMap);
  const fromCall = await client.definition(file, 19, 12);
  assert.deepEqual(fromCall?.range, { start: { line: 7, character: 4 }, end: { line: 7, character: 9 } });
});

test('references of a task across the sandboxed tasks of the workspace (calls and flyte_map names, other files too)', async () => {
  const refs = await client.references(file, 13, 5);
  const where = refs.map(r => `${r.uri.split('/').at(-1)}:${r.range.start.line + 1}:${r.range.start.character + 1}`);
  assert.deepEqual(where, ['editing.py:21:12', 'editing.py:22:25', 'editing.py:28:12', 'editing.py:34:16', 'more.py:10:12', 'more.py:10:23']);
  const withDeclaration = await client.references(file, 21, 26, true);
  assert.deepEqual(withDeclaration.length, 7);
  assert.deepEqual(withDeclaration[0]!.range.start, { line: 13, character: 4 });
});
