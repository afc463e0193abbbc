/**
 * "Last run, in the code": inlay hints after each external call with what
 * it returned, from a cassette the real CLI recorded beside the file, from
 * a debug session the client reports, stale once the code changes, and off
 * with the setting. Over LSP against the built server.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { InlayHint, MarkupContent } from 'vscode-languageserver-protocol';
import type { LastRunParams } from '../../language-server/protocol.ts';
import { LspClient } from './lspClient.ts';

const root = join(import.meta.dirname, '..', '..');
let dir: string;
let file: string;
let text: string;
let client: LspClient;

before(async () => {
  dir = join(mkdtempSync(join(tmpdir(), 'flyte-lsp-run-')), 'ws');
  cpSync(join(root, 'test', 'fixtures', 'lsp', 'lastrun'), dir, { recursive: true });
  file = join(dir, 'pipeline.py');
  text = readFileSync(file, 'utf8');
  execFileSync(process.execPath, [join(root, 'dist', 'cli.js'), 'run', file, '--inputs', '{"n": 10}', '--stubs', join(dir, 'stubs.json'), '--record', join(dir, 'pipeline.cassette.json')], { stdio: 'pipe' });
  client = await LspClient.start(dir);
  await client.open(file);
});
after(() => client.stop());

const shown = (hints: InlayHint[]) => hints.map(h => `${h.position.line + 1}:${h.position.character + 1} ${String(h.label)}`);

test('a cassette recorded beside the file: each call site shows what it returned, after the call', async () => {
  assert.deepEqual(shown(await client.inlayHints(file)), [
    '31:18 → 11', // add(n, 1): add is called from two places, told apart by replaying the run
    '32:18 → 13',
    '35:27 → 4 (last of 3)', // in a loop
    '36:44 → [2, 4, 6] · 3 items', // a flyte_map and its items
    '37:23 → File(s3://…/report.csv)', // an IO handle, by its path
    '38:18 → 13',
  ]);
  const hint = (await client.inlayHints(file))[2]!;
  assert.equal(hint.paddingLeft, true);
  const tooltip = (hint.tooltip as MarkupContent).value;
  assert.match(tooltip, /^Last run: the cassette pipeline\.cassette\.json \(\d{4}-\d\d-\d\dT[\d:.]+Z\), ok\.\n\n- #3 double\(0\) → 0\n- #4 double\(1\) → 2\n- #5 double\(2\) → 4$/);
});

test('hover lists the recorded calls of the line', async () => {
  const h = (await client.hover(file, 35, 20))?.contents as MarkupContent;
  assert.match(h.value, /Calls on this line:\n- #6 flyte_map\('double', \[1, 2, 3\]\) → \[2, 4, 6\]\n- #7 double\(1\) → 2\n- #8 double\(2\) → 4\n- #9 double\(3\) → 6$/);
});

test('after an edit the hints are stale: marked, and placed by function name only where that is unambiguous', async () => {
  const edited = text.replace('    a = add(n, 1)\n', '    # a comment changes the code Monty runs\n    a = add(n, 1)\n');
  await client.change(file, edited);
  assert.deepEqual(shown(await client.inlayHints(file)), [
    '36:27 → 4 (last of 3) · stale',
    '37:44 → [2, 4, 6] · 3 items · stale',
    '38:23 → File(s3://…/report.csv) · stale',
    '39:18 → 13 · stale',
  ]);
  const tooltip = ((await client.inlayHints(file))[0]!.tooltip as MarkupContent).value;
  assert.match(tooltip, /Stale: the task's code changed since it was recorded \(code hash sha256:[0-9a-f]{16}, now sha256:[0-9a-f]{16}\)/);
  await client.change(file, text);
});

test('a debug session the client reports (flyteSandbox/lastRun) is newer than the cassette and wins', async () => {
  const cassette = JSON.parse(readFileSync(join(dir, 'pipeline.cassette.json'), 'utf8')) as { codeHash: string };
  const run: LastRunParams = {
    file, task: 'pipeline', codeHash: cassette.codeHash, inputs: { n: 1 }, status: 'error', at: new Date(Date.now() + 1000).toISOString(),
    calls: [
      { seq: 1, function: 'add', status: 'returned', args: ['1', '1'], result: '2', value: 2 },
      { seq: 2, function: 'add', status: 'returned', args: ['2', '2'], result: '4', value: 4 },
      { seq: 3, function: 'double', status: 'returned', args: ['0'], result: '0', value: 0 },
      { seq: 4, function: 'double', status: 'returned', args: ['1'], result: '2', value: 2 },
      { seq: 5, function: 'double', status: 'returned', args: ['2'], result: '4', value: 4 },
      { seq: 6, function: 'flyte_map', status: 'returned', args: ["'double'", '[1, 2, 3]'], result: '[2, 4, 6]', value: [2, 4, 6] },
      { seq: 7, function: 'double', status: 'returned', result: '2', value: 2, mapParent: 6, mapIndex: 0 },
      { seq: 8, function: 'double', status: 'returned', result: '4', value: 4, mapParent: 6, mapIndex: 1 },
      { seq: 9, function: 'double', status: 'raised', error: { type: 'ValueError', message: 'odd' }, mapParent: 6, mapIndex: 2 },
      { seq: 10, function: 'upload', status: 'returned', args: ['1'], result: "{'__flyte_io_type__': 'File', 'path': 's3://b/x.csv'}", value: { __flyte_io_type__: 'File', path: 's3://b/x.csv', name: 'x.csv', format: '', hash: null } },
      { seq: 11, function: 'check', status: 'raised', args: ['4'], error: { type: 'ValueError', message: 'too big' } },
    ],
  };
  const seen = client.refreshes;
  await client.connection.sendNotification('flyteSandbox/lastRun', run);
  await client.refreshed(seen + 1);
  assert.deepEqual(shown(await client.inlayHints(file)), [
    '31:18 → 2',
    '32:18 → 4',
    '35:27 → 4 (last of 3)',
    '36:44 → [2, 4, 6] · 3 items, 1 raised',
    '37:23 → File(s3://b/x.csv)',
    '38:18 raised ValueError',
  ]);
  const tooltip = ((await client.inlayHints(file))[5]!.tooltip as MarkupContent).value;
  assert.match(tooltip, /^Last run: the last debug session \(.*\), error\.\n\n- #11 check\(4\) raised ValueError: too big$/);
});

test('lastRunHints off: no hints', async () => {
  const other = await LspClient.start(dir, { lastRunHints: false });
  try {
    await other.open(file);
    assert.deepEqual(await other.inlayHints(file), []);
  } finally {
    await other.stop();
  }
});
