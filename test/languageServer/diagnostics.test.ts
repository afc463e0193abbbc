/**
 * The language server's diagnostics and quick fixes, over LSP against the
 * built server, on fixture files: each diagnostic's range, severity, code
 * and message; each fix applied to the text and the file checked again.
 */
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { TextDocument } from 'vscode-languageserver-textdocument';
import type { CodeAction, Diagnostic, TextEdit } from 'vscode-languageserver-protocol';
import { LspClient, show } from './lspClient.ts';

let dir: string;
let client: LspClient;

before(async () => {
  dir = join(mkdtempSync(join(tmpdir(), 'flyte-lsp-')), 'ws');
  cpSync(join(import.meta.dirname, '..', 'fixtures', 'lsp'), dir, { recursive: true });
  client = await LspClient.start(dir);
});
after(() => client.stop());

const shown = (ds: Diagnostic[]) => ds.map(d => show(d).replaceAll(dir, '<dir>'));

const REFUSED = (n: string) => `RuntimeError: Sandboxed task called unknown external function: ${n}`;

test('decorated tasks: every diagnostic Flyte, Monty and the type checker have, at its exact range', async () => {
  const ds = await client.open(join(dir, 'flow.py'));
  assert.deepEqual(shown(ds), [
    // calls(): ty on the argument; an unknown name; a helper and a constant that are not sent to the sandbox
    '29:13-29:16 warning invalid-argument-type: Argument to function `add` is incorrect: Expected `int`, found `Literal["x"]`',
    `30:9-30:11 error unknown-external: not a registered external function: the sandbox will refuse this call (${REFUSED('ad')}). Registered: add. Did you mean 'add'?`,
    `31:9-31:15 warning module-helper: helper is not sent to the sandbox, so production refuses this call (${REFUSED('helper')}): helper is a plain function (<dir>/flow.py:23). Flyte registers only tasks, remote task handles and @syncify/durable wrappers, and Monty receives only the task's own source, so other module-level code is not available in the sandbox.`,
    "32:16-32:21 warning module-value: LIMIT is a value (integer) of the module (line 5), and Monty receives only the task's own code: this read fails at run time (NameError: name 'LIMIT' is not defined).",
    // maps(): Flyte's own flyte_map messages, a dropped keyword, a task passed instead of its name, a task named only as a string
    "38:20-38:27 error flyte-map-unregistered: RuntimeError: flyte_map: task 'doble' not found in registered tasks. Available: double",
    "39:38-39:51 warning flyte-map-dropped-keyword: Flyte's flyte_map silently drops the keyword argument 'batch_size': only group_name, concurrency, return_exceptions reach the map.",
    "40:20-40:26 warning task-read: double is read, not called: only calls cross the sandbox boundary, so this read fails at run time (NameError: name 'double' is not defined). flyte_map takes the task's name as a string: flyte_map(\"double\", ...).",
    "41:20-41:28 warning flyte-map-unreferenced: RuntimeError: flyte_map: task 'square' not found in registered tasks. Available: double. Production fails this way: square is a Flyte task (@env.task) (<dir>/flow.py:19), but Flyte does not register it for this sandboxed task: it is never referenced by name in the task body (a string in flyte_map(\"square\", ...) is not a reference), and Flyte scans only the task's own code object (co_names). Production fails the same way. Reference square directly in the task body to register it.",
    // traps(): a keyword-only parameter the trailing call defeats (its default applies: flyte.run fills it in),
    // the type boundary (an import-time error: no task of the file runs), a task used only in a lambda
    // (nothing registered: the fast path, where the call is Monty's NameError)
    "46:35-46:36 warning keyword-only-parameter: Keyword-only parameter 'label': Flyte's code ends with the call traps(n, scale, label), passing every input by position, so the task fails before its first line (TypeError: traps() takes 2 positional arguments but 3 were given).",
    "46:53-46:63 error definition-error: TypeError: Sandboxed task output 'o0' has unsupported type int | None. Supported types: primitives (int, float, str, bool, bytes, None), collections (list, dict, tuple, set), and flyte.io types (File, Dir, DataFrame). (Flyte raises this when the module is imported: no task of this file runs)",
    "47:19-47:25 warning not-discovered: Flyte will not register square for this task, so production refuses this call (NameError: name 'square' is not defined): square is a Flyte task (@env.task) (<dir>/flow.py:19), but Flyte does not register it for this sandboxed task: it is used only inside a lambda (line 47), and Flyte scans only the task's own code object (co_names). Production fails the same way. Reference square directly in the task body to register it.",
    // unsupported(): what Monty's compiler refuses
    '53:5-54:13 error monty-compile: NotImplementedError: The monty syntax parser does not yet support class definitions (Monty cannot run this code: the task fails before its first line)',
  ]);
  assert.deepEqual(ds.map(d => d.source), ['monty typeCheck', ...Array(10).fill('flyte-sandbox'), 'monty']);
  assert.deepEqual(ds.find(d => d.code === 'invalid-argument-type')?.codeDescription, { href: 'https://ty.dev/rules#invalid-argument-type' });
  assert.deepEqual(ds.find(d => d.code === 'flyte-map-dropped-keyword')?.tags, [1], 'a dropped keyword is marked unnecessary');
  const outside = ds.filter(d => d.range.start.line < 27);
  assert.deepEqual(outside, [], 'code outside sandboxed tasks is left alone');
});

test('a code-string task: positions inside the string, and the registry is its tasks=[...]', async () => {
  const ds = await client.open(join(dir, 'codestring.py'));
  assert.deepEqual(shown(ds), [
    `20:9-20:14 error unknown-external: not a registered external function: the sandbox will refuse this call (${REFUSED('total')}). Registered: add. total is a Flyte task (@env.task) (line 13): only what tasks=[...] lists is registered.`,
  ]);
});

test('the default profile (flyte-sdk 2.6): await on an external call fails; with nothing registered, the fast path\'s NameError', async () => {
  const path = join(dir, 'await.py');
  const ds = await client.open(path);
  assert.deepEqual(shown(ds), [
    "13:12-13:26 warning await-external: In flyte-sdk 2.6.x the bridge resumes Monty with the plain result of fetch(), not an awaitable, so this await fails at run time (TypeError: '<type of the result>' object can't be awaited). Inside a sandboxed task, calls to other tasks are synchronous: drop the await.",
    "18:12-18:23 error unknown-external: not a registered external function: the sandbox will refuse this call (NameError: name 'helper_task' is not defined). Registered: (none). With nothing registered Flyte runs this task with Monty.run(), without its bridge, so the call is a NameError inside the sandbox.",
  ]);
  const actions = await client.codeActions(path, ds[0]!);
  assert.deepEqual(actions.map(a => a.title), ['Drop the await (calls to other tasks are synchronous in the sandbox)']);
  const fixed = apply(readFileSync(path, 'utf8'), actions[0]!, client.uri(path));
  assert.match(fixed, /\n {4}return fetch\(n\)\n/);
  assert.deepEqual(shown(await client.change(path, fixed)).map(s => s.split(' ')[2]), ['unknown-external:']);
});

test('the pooled profile (a bridge that awaits external calls): the await is fine', async () => {
  const other = await LspClient.start(dir, { flyteProfile: 'pooled' });
  try {
    const ds = await other.open(join(dir, 'await.py'));
    assert.ok(!ds.some(d => d.code === 'await-external'), shown(ds).join('\n'));
  } finally {
    await other.stop();
  }
});

test('a syntax error elsewhere in the file: the task that parses is still checked', async () => {
  const ds = await client.open(join(dir, 'partial.py'));
  assert.deepEqual(shown(ds), [`17:23-17:27 error unknown-external: not a registered external function: the sandbox will refuse this call (${REFUSED('fetc')}). Registered: fetch. Did you mean 'fetch'?`]);
});

test('a syntax error inside a task is Monty\'s, at the place the parser finds it; the names of that task are not judged', async () => {
  const path = join(dir, 'codestring.py');
  const text = readFileSync(path, 'utf8').replace('b = total([a, 2])', 'b = total([a, 2)');
  const ds = await client.change(path, text);
  assert.deepEqual(shown(ds), ['20:20-20:21 error monty-compile: SyntaxError: Expected `]`, found `)` (Monty cannot run this code: the task fails before its first line)']);
  await client.change(path, readFileSync(path, 'utf8'));
});

test('typeCheck off: only what Flyte and Monty\'s compiler say', async () => {
  const other = await LspClient.start(dir, { typeCheck: false });
  try {
    const ds = await other.open(join(dir, 'flow.py'));
    assert.ok(!ds.some(d => d.source === 'monty typeCheck'));
    assert.equal(ds.length, 11);
  } finally {
    await other.stop();
  }
});

function apply(text: string, action: CodeAction, uri: string): string {
  const edits: TextEdit[] = action.edit?.changes?.[uri] ?? [];
  return TextDocument.applyEdits(TextDocument.create(uri, 'python', 1, text), edits);
}

/** The codes of the diagnostics, sorted: what a fix may change. */
const codes = (ds: Diagnostic[]) => ds.map(d => String(d.code)).sort();

function without(list: string[], one: string): string[] {
  const i = list.indexOf(one);
  return [...list.slice(0, i), ...list.slice(i + 1)];
}

async function fix(file: string, code: string, title: RegExp): Promise<{ before: Diagnostic[]; after: Diagnostic[]; text: string }> {
  const path = join(dir, file);
  const original = readFileSync(path, 'utf8');
  const before = await client.change(path, original);
  const d = before.find(x => x.code === code);
  assert.ok(d, `a ${code} diagnostic in ${file}`);
  const actions = await client.codeActions(path, d);
  const action = actions.find(a => title.test(a.title));
  assert.ok(action, `a fix matching ${title}: ${actions.map(a => a.title).join(' | ')}`);
  const text = apply(original, action, client.uri(path));
  const after = await client.change(path, text);
  await client.change(path, original);
  return { before, after, text };
}

test('fix: add the name to tasks=[...] of a code-string task; the file is then clean', async () => {
  const r = await fix('codestring.py', 'unknown-external', /^Add 'total' to tasks=\[\.\.\.\]$/);
  assert.match(r.text, /tasks=\[add, total\],/);
  assert.deepEqual(shown(r.after), []);
});

test('fix: register a task used only in a lambda; Flyte\'s discovery then sees it', async () => {
  const r = await fix('flow.py', 'not-discovered', /^Register 'square' with Flyte/);
  assert.match(r.text, /def traps\(.*\n {4}if False: {2}# lets Flyte's discovery see square \(it scans the names the task's own code uses\)\n {8}square\(\)\n {4}f = lambda v: square\(v\)/);
  assert.deepEqual(codes(r.after), without(codes(r.before), 'not-discovered'), 'the fix adds no diagnostic of its own');
});

test('fix: a flyte_map task named only as a string gets registered', async () => {
  const r = await fix('flow.py', 'flyte-map-unreferenced', /^Register 'square'/);
  assert.ok(!r.after.some(d => d.code === 'flyte-map-unreferenced'), shown(r.after).join('\n'));
});

test('fix: pass a task\'s name to flyte_map; with no direct reference left, Flyte no longer registers it', async () => {
  const r = await fix('flow.py', 'task-read', /^Pass the task's name: flyte_map\("double", \.\.\.\)$/);
  assert.match(r.text, /ws = flyte_map\("double", \[n\]\)/);
  assert.ok(!r.after.some(d => d.code === 'task-read'));
  // the read was the only reference by name: now nothing is registered, and Flyte runs maps() without its bridge, where flyte_map does not exist
  assert.deepEqual(r.after.filter(d => d.code === 'flyte-map-fast-path').map(d => d.range.start.line + 1), [38, 39, 40, 41]);
  assert.match(String(r.after.find(d => d.code === 'flyte-map-fast-path')!.message), /^NameError: name 'flyte_map' is not defined: flyte_map exists only in Flyte's bridge/);
});

test('fix: the typo in an external call and in a flyte_map name', async () => {
  const a = await fix('flow.py', 'unknown-external', /^Change to 'add'$/);
  assert.match(a.text, /b = add\(n, 1\)/);
  assert.deepEqual(codes(a.after), without(codes(a.before), 'unknown-external'));
  const b = await fix('flow.py', 'flyte-map-unregistered', /^Change to "double"$/);
  assert.match(b.text, /ys = flyte_map\("double", \[1, 2\]\)/);
  assert.ok(!b.after.some(d => d.code === 'flyte-map-unregistered'));
});

test('fix: drop the keyword Flyte drops; copy a helper and a constant into the task', async () => {
  const a = await fix('flow.py', 'flyte-map-dropped-keyword', /^Remove 'batch_size='/);
  assert.match(a.text, /zs = flyte_map\("double", \[1, 2\]\)\n/);
  const b = await fix('flow.py', 'module-helper', /^Copy the function 'helper' into the task/);
  assert.match(b.text, /def calls\(n: int\) -> int:\n {4}def helper\(v: int\) -> int:\n {8}return v \+ 1\n {4}a = add/);
  assert.deepEqual(codes(b.after), without(codes(b.before), 'module-helper'));
  const c = await fix('flow.py', 'module-value', /^Copy 'LIMIT' into the task/);
  assert.match(c.text, /def calls\(n: int\) -> int:\n {4}LIMIT = 10\n {4}a = add/);
  assert.deepEqual(codes(c.after), without(codes(c.before), 'module-value'));
});

test('fix: keyword-only parameters and X | None in the signature', async () => {
  const b = await fix('flow.py', 'keyword-only-parameter', /^Make every parameter positional \(remove "\*,"; parameters without a default move first\)$/);
  assert.match(b.text, /def traps\(n: int, label: str, scale: int = 2\)/);
  assert.deepEqual(codes(b.after), without(codes(b.before), 'keyword-only-parameter'));
  const c = await fix('flow.py', 'definition-error', /^Write it as Optional\[int\]/);
  assert.match(c.text, /^from typing import Optional\nimport flyte\n/);
  assert.match(c.text, /-> Optional\[int\]:/);
  assert.deepEqual(codes(c.after), without(codes(c.before), 'definition-error'), 'Flyte\'s type boundary accepts Optional[int]');
});

test('diagnostics follow the editor\'s text, edit by edit', async () => {
  const path = join(dir, 'partial.py');
  const version = await client.edit(path, { start: { line: 16, character: 22 }, end: { line: 16, character: 26 } }, 'fetch');
  const ds = await client.diagnostics(path, version);
  assert.deepEqual(shown(ds), []);
});
