/**
 * The extension's tests, run inside a real VS Code (code-server here, or
 * @vscode/test-electron where VS Code can be downloaded): the module exports
 * `run()`, the contract both runners use. Written without mocha: each check
 * prints a line and `run()` rejects if any failed.
 */
import assert from 'node:assert/strict';
import { chmodSync, copyFileSync, cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as vscode from 'vscode';
import type { SessionModel } from '../../extension/sessionModel.ts';

const EXTENSION_ID = 'flyte-sandbox-debugger.flyte-sandbox-debugger';
const checks: [string, () => Promise<void>][] = [];
const check = (name: string, fn: () => Promise<void>) => checks.push([name, fn]);

function workspace(): string {
  const folder = vscode.workspace.workspaceFolders?.[0];
  assert.ok(folder, 'the tests open the examples folder as the workspace');
  return folder.uri.fsPath;
}

async function model(): Promise<SessionModel> {
  const ext = vscode.extensions.getExtension<{ model: SessionModel }>(EXTENSION_ID);
  assert.ok(ext, `extension ${EXTENSION_ID} is installed`);
  return (ext.isActive ? ext.exports : await ext.activate()).model;
}

async function until<T>(what: string, probe: () => T | undefined | false, timeoutMs = 20_000): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const v = probe();
    if (v) return v;
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise(r => setTimeout(r, 50));
  }
}

async function open(relative: string): Promise<vscode.TextEditor> {
  const doc = await vscode.workspace.openTextDocument(join(workspace(), relative));
  return vscode.window.showTextDocument(doc);
}

async function endSessions(): Promise<void> {
  while (vscode.debug.activeDebugSession) {
    // a session already on its way out answers "Canceled"
    await vscode.debug.stopDebugging().then(undefined, () => undefined);
    await new Promise(r => setTimeout(r, 200));
  }
}

check('activates and contributes the flyte-sandbox debugger and its commands', async () => {
  await model();
  const commands = await vscode.commands.getCommands(true);
  for (const c of ['flyteSandbox.debugTask', 'flyteSandbox.runWithStubs', 'flyteSandbox.returnValue', 'flyteSandbox.raiseException', 'flyteSandbox.forwardCall', 'flyteSandbox.alwaysStub', 'flyteSandbox.editStubs', 'flyteSandbox.showPanel', 'flyteSandbox.debugProductionRun']) {
    assert.ok(commands.includes(c), `command ${c}`);
  }
});

check('CodeLens above each sandboxed task: "Debug sandboxed task" and "Run with stubs"', async () => {
  const editor = await open('pipeline/pipeline.py');
  let lenses: vscode.CodeLens[] = [];
  for (let i = 0; i < 40 && !lenses.length; i++) {
    lenses = (await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', editor.document.uri, 10)) ?? [];
    if (!lenses.length) await new Promise(r => setTimeout(r, 250));
  }
  const titles = lenses.map(l => l.command?.title);
  assert.deepEqual(titles.filter(t => t?.includes('sandboxed') || t?.includes('stubs')), ['$(debug-alt) Debug sandboxed task', '$(run) Run with stubs']);
  assert.equal(lenses[0]!.range.start.line, 27, 'on the line of def score_pipeline');
});

check('F5 on a Python file with no launch.json: a session starts, stops at the first external call, and takes an answer', async () => {
  const m = await model();
  await open('pipeline/pipeline.py');
  await vscode.commands.executeCommand('workbench.action.debug.start');
  const run = await until('a flyte-sandbox session', () => m.current() && !m.current()!.ended && m.current());
  const stop = await until('a stop', () => [...run.stops.values()][0]);
  assert.equal(stop.description, "fetch_rows('s3://demo-bucket/rows.csv', 5)");
  assert.equal(run.launched?.task, 'score_pipeline');
  const session = run.session;
  await session.customRequest('flyteSandbox/resolveCall', { threadId: stop.threadId, action: 'return', expression: '[7, 8]' });
  const next = await until('the next stop', () => [...run.stops.values()].find(s => s.description !== stop.description));
  assert.equal(next.description, 'score(7, 0.5)');
  await session.customRequest('flyteSandbox/resolveCall', { threadId: next.threadId, action: 'return', value: 1, remember: true });
  // stopOnExternalCall "all" pauses at score(8, 0.5) too; continuing lets the remembered stub answer it
  const eighth = await until('score(8, 0.5)', () => [...run.stops.values()].find(s => s.description === 'score(8, 0.5)'));
  await session.customRequest('continue', { threadId: eighth.threadId });
  const summarize = await until('summarize', () => [...run.stops.values()].find(s => s.description.startsWith('summarize')));
  assert.equal(summarize.description, 'summarize([1, 1])', 'the remembered stub answered score(8, 0.5)');
  const { stubs } = await session.customRequest('flyteSandbox/stubs') as { stubs: { name: string; text: string }[] };
  assert.deepEqual(stubs.map(s => `${s.name}=${s.text}`), ['score=1']);
  const editing = vscode.commands.executeCommand('flyteSandbox.editStubs');
  await handOverToUiChecks('edit stubs');
  await editing;
  const edited = await session.customRequest('flyteSandbox/stubs') as { stubs: { name: string; kind: string; text: string }[] };
  assert.deepEqual(edited.stubs.map(s => `${s.name}=${s.kind}:${s.text}`), ['score=python:args[0] * 2'], 'the stub edited through the quick pick and input box');
  await session.customRequest('flyteSandbox/resolveCall', { threadId: summarize.threadId, action: 'return', expression: '{"count": len(args[0])}' });
  await until('the result', () => run.result);
  assert.deepEqual([run.result?.status, run.result?.output], ['ok', "{'count': 2}"]);
  assert.ok(run.calls.size >= 4, 'the model followed every call');
  await endSessions();
});

check('F5 on a file with several sandboxed tasks asks which one, then debugs the one picked', async () => {
  const m = await model();
  const dir = join(workspace(), 'several');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'inputs.json'), '{"n": 3}');
  writeFileSync(join(dir, 'several.py'), [
    'import flyte', '', 'env = flyte.TaskEnvironment(name="several")', '', '',
    '@env.task', 'def grow(n: int) -> int:', '    return n + 1', '', '',
    '@env.sandbox.orchestrator', 'def first(n: int) -> int:', '    return grow(n)', '', '',
    '@env.sandbox.orchestrator', 'def second(n: int) -> int:', '    return grow(n * 10)', '',
  ].join('\n'));
  await open('several/several.py');
  const starting = vscode.commands.executeCommand('workbench.action.debug.start');
  await handOverToUiChecks('pick task');
  await starting;
  const run = await until('the picked task paused', () => (m.current()?.launched?.task === 'second' && m.current()?.stops.size ? m.current() : undefined));
  assert.equal([...run.stops.values()][0]!.description, 'grow(30)');
  await endSessions();
});

check('the IO marshaling panel opens with the session and the Sandbox Calls view is fed', async () => {
  const m = await model();
  await open('io/io_pipeline.py');
  await vscode.commands.executeCommand('flyteSandbox.runWithStubs', vscode.Uri.file(join(workspace(), 'io', 'io_pipeline.py')), 'regional_report');
  const run = await until('the io run', () => m.current()?.launched?.task === 'regional_report' && m.current());
  await until('the result', () => run.result);
  assert.equal(run.result?.status, 'ok');
  const withIo = [...run.calls.values()].find(c => c.function === 'load_frame');
  assert.ok(withIo?.io?.some(x => x.view.kind === 'Dir'), 'calls carry the typed view of their IO handles');
  await endSessions();
});

check('the inline adapter (flyteSandbox.adapter: inline) runs a session too', async () => {
  const m = await model();
  const config = vscode.workspace.getConfiguration('flyteSandbox');
  await config.update('adapter', 'inline', vscode.ConfigurationTarget.Workspace);
  try {
    await vscode.commands.executeCommand('flyteSandbox.runWithStubs', vscode.Uri.file(join(workspace(), 'fanout', 'fanout.py')), 'sum_of_squares');
    const run = await until('the fanout run', () => m.current()?.launched?.task === 'sum_of_squares' && m.current());
    await until('the result', () => run.result);
    assert.equal(run.result?.status, 'ok');
    assert.ok([...run.calls.values()].some(c => c.mapParent !== undefined), 'flyte_map items reached the model');
  } finally {
    await config.update('adapter', undefined, vscode.ConfigurationTarget.Workspace);
    await endSessions();
  }
});

check('a bad launch configuration is reported and nothing crashes', async () => {
  // VS Code shows the adapter's error (a test workbench refuses the dialog and rejects instead)
  const error = await vscode.debug.startDebugging(vscode.workspace.workspaceFolders![0], { type: 'flyte-sandbox', request: 'launch', name: 'bad', program: join(workspace(), 'pipeline', 'pipeline.py'), inputs: { source: 's', limit: 1, weight: 1 }, stubs: { fetch_rows: { valu: 1 } } }).then(() => '', (e: Error) => e.message);
  assert.match(error, /stubs: .*stub 'fetch_rows': unknown key 'valu'/);
  await endSessions();
  const m = await model();
  await vscode.commands.executeCommand('flyteSandbox.runWithStubs', vscode.Uri.file(join(workspace(), 'pipeline', 'pipeline.py')), 'score_pipeline');
  const run = await until('a good run after the bad one', () => m.current()?.result && m.current());
  assert.equal(run.result?.status, 'ok');
});

check('F5 asks for inputs with a skeleton of the signature; "Return a Value" takes a Python expression Monty checks first', async () => {
  const m = await model();
  // a copy of the pipeline with no inputs.json beside it
  const dir = join(workspace(), 'asks');
  mkdirSync(dir, { recursive: true });
  copyFileSync(join(workspace(), 'pipeline', 'pipeline.py'), join(dir, 'pipeline.py'));
  const uri = vscode.Uri.file(join(dir, 'pipeline.py'));
  const starting = vscode.commands.executeCommand('flyteSandbox.debugTask', uri, 'score_pipeline');
  await handOverToUiChecks('inputs');
  await starting;
  const run = await until('the run with typed inputs', () => (m.current()?.launched?.file === uri.fsPath && m.current()?.stops.size ? m.current() : undefined));
  assert.equal([...run.stops.values()][0]!.description, "fetch_rows('s3://typed', 2)");
  const answering = vscode.commands.executeCommand('flyteSandbox.returnValue');
  await handOverToUiChecks('return value');
  await answering;
  const next = await until('score(5, 1.5)', () => [...run.stops.values()].find(x => x.description === 'score(5, 1.5)'));
  assert.ok(next);
});

check('20,000 calls: the panel keeps up, and the run exports as a cassette that replays', async () => {
  const m = await model();
  await vscode.commands.executeCommand('flyteSandbox.showPanel');
  const file = join(workspace(), 'fanout', 'fanout.py');
  writeFileSync(join(workspace(), 'fanout', 'big.json'), '{"n": 10000}');
  const started = await vscode.debug.startDebugging(vscode.workspace.workspaceFolders![0], { type: 'flyte-sandbox', request: 'launch', name: 'big', program: file, inputs: join(workspace(), 'fanout', 'big.json'), stubs: join(workspace(), 'fanout', 'stubs.json'), stopOnExternalCall: 'none' });
  assert.ok(started);
  const run = await until('the big run', () => (m.current()?.launched?.task === 'sum_of_squares' && m.current()?.result ? m.current() : undefined), 60_000);
  assert.equal(run.result?.status, 'ok');
  assert.equal(run.calls.size, 20_004);
  await handOverToUiChecks('big run');
  const cassette = join(tmpdir(), `big-${Date.now()}.json`);
  const written = await vscode.commands.executeCommand<string>('flyteSandbox.exportCassette', cassette);
  assert.equal(written, cassette);
  const recorded = JSON.parse(readFileSync(cassette, 'utf8')) as { version: number; task: string; calls: unknown[]; status: string };
  assert.deepEqual([recorded.version, recorded.task, recorded.status, recorded.calls.length], [1, 'sum_of_squares', 'ok', 20_004]);
  const replay = await vscode.debug.startDebugging(vscode.workspace.workspaceFolders![0], { type: 'flyte-sandbox', request: 'launch', name: 'replay', program: file, inputs: join(workspace(), 'fanout', 'big.json'), replay: cassette, stopOnExternalCall: 'none' });
  assert.ok(replay);
  const again = await until('the replayed run', () => (m.current() !== run && m.current()?.result ? m.current() : undefined), 60_000);
  assert.equal(again.result?.output, run.result?.output, 'the exported cassette replays to the same result');
});

check('Locals of the stopped frame in the Variables view, inline values in the editor, F10 moves to the next line', async () => {
  const m = await model();
  const file = join(workspace(), 'pipeline', 'pipeline.py');
  const editor = await open('pipeline/pipeline.py');
  const printLine = editor.document.getText().split('\n').findIndex(l => l.includes('print(f"scored')) + 1;
  const bp = new vscode.SourceBreakpoint(new vscode.Location(editor.document.uri, new vscode.Position(printLine - 1, 0)));
  vscode.debug.addBreakpoints([bp]);
  try {
    const started = await vscode.debug.startDebugging(vscode.workspace.workspaceFolders![0], { type: 'flyte-sandbox', request: 'launch', name: 'locals', program: file, inputs: join(workspace(), 'pipeline', 'inputs.json'), stubs: join(workspace(), 'pipeline', 'stubs.json'), stopOnExternalCall: 'none' });
    assert.ok(started);
    const run = await until('the stop before the print line', () => (m.current()?.launched?.file === file && [...(m.current()?.stops.values() ?? [])].some(s => s.description.startsWith(`line ${printLine}:`)) ? m.current() : undefined));
    const session = run.session;
    const top = async () => ((await session.customRequest('stackTrace', { threadId: 1 })) as { stackFrames: { id: number; line: number; name: string }[] }).stackFrames[0]!;
    const frame = await top();
    assert.deepEqual([frame.name, frame.line], ['score_pipeline', printLine]);
    const { scopes } = await session.customRequest('scopes', { frameId: frame.id }) as { scopes: { name: string; variablesReference: number }[] };
    assert.equal(scopes[0]!.name, 'Locals');
    const { variables } = await session.customRequest('variables', { variablesReference: scopes[0]!.variablesReference }) as { variables: { name: string; value: string }[] };
    assert.deepEqual(variables.map(v => `${v.name}=${v.value}`), ["source='s3://demo-bucket/rows.csv'", 'limit=5', 'weight=0.5', 'rows=[0, 1, 2, 3, 4]', 'scores=[0, 0.5, 1, 1.5, 2]', 'row=4']);
    await handOverToUiChecks('locals');
    await vscode.commands.executeCommand('workbench.action.debug.stepOver');
    await until('F10 to the next line', () => [...run.stops.values()].some(s => s.description.startsWith(`line ${printLine + 1}:`)));
    assert.equal((await top()).line, printLine + 1);
  } finally {
    vscode.debug.removeBreakpoints([bp]);
    await endSessions();
  }
});

/**
 * A stand-in Flyte cluster in the workspace: the recorded backend and orders.py from the fixtures, a config
 * pointing at it, and an interpreter wrapper that puts the stand-in flyte package (built from flyte-sdk's
 * source; no real cluster) on its path. Workspace settings point the extension at both.
 */
async function standInCluster(): Promise<{ dir: string; restore: () => Promise<void> }> {
  const ext = vscode.extensions.getExtension(EXTENSION_ID)!;
  const fixtures = join(ext.extensionPath, 'test', 'fixtures');
  const dir = join(workspace(), 'production');
  mkdirSync(dir, { recursive: true });
  cpSync(join(fixtures, 'production', 'backend'), join(dir, 'backend'), { recursive: true });
  copyFileSync(join(fixtures, 'production', 'orders.py'), join(dir, 'orders.py'));
  writeFileSync(join(dir, 'config.yaml'), 'admin:\n  endpoint: dns:///flyte.example.com\ntask:\n  project: shop\n  domain: development\nstandin:\n  backend: ./backend\n');
  const python = join(dir, 'python-with-flyte');
  writeFileSync(python, `#!/bin/sh\nPYTHONPATH=${join(fixtures, 'flyte-standin')} exec python3 "$@"\n`);
  chmodSync(python, 0o755);
  const config = vscode.workspace.getConfiguration('flyteSandbox');
  await config.update('python', python, vscode.ConfigurationTarget.Workspace);
  await config.update('flyteConfig', join(dir, 'config.yaml'), vscode.ConfigurationTarget.Workspace);
  return {
    dir,
    restore: async () => {
      await config.update('python', undefined, vscode.ConfigurationTarget.Workspace);
      await config.update('flyteConfig', undefined, vscode.ConfigurationTarget.Workspace);
    },
  };
}

async function lastImport(): Promise<{ progress: string[]; cassette?: string; error?: string } | undefined> {
  const ext = vscode.extensions.getExtension<{ lastImport: () => { progress: string[]; cassette?: string; error?: string } | undefined }>(EXTENSION_ID)!;
  return (ext.isActive ? ext.exports : await ext.activate()).lastImport();
}

check('"Debug a Production Run…": the run typed in, imported with progress, debugged on the replay paused at the call that failed; the panel shows each call\'s production action; the run is offered again', async () => {
  const m = await model();
  const { dir, restore } = await standInCluster();
  try {
    await open('production/orders.py');
    const starting = vscode.commands.executeCommand<boolean>('flyteSandbox.debugProductionRun');
    await handOverToUiChecks('production run');
    assert.equal(await starting, true, `the session started (${(await lastImport())?.error ?? ''})`);
    const imported = await lastImport();
    assert.deepEqual(imported?.progress.at(-1), 'reading calls: 4/4', 'progress was reported to the notification');
    assert.ok(imported?.cassette && existsSync(imported.cassette));
    const run = await until('the replay paused', () => (m.current()?.launched?.task === 'checkout' && m.current()?.stops.size ? m.current() : undefined), 60_000);
    const stop = [...run.stops.values()][0]!;
    assert.equal(stop.description, "discount(15.5, code='BAD')", 'stopped at the call that failed in production');
    const price = await until('the calls with their production actions', () => [...run.calls.values()].find(c => c.seq === 2 && c.ref));
    assert.deepEqual([price.source, price.ref?.kind, price.ref?.name, price.ref?.cacheHit], ['cassette', 'production', 'd2f4g6h8', true]);
    await vscode.commands.executeCommand('flyteSandbox.showPanel');
    await handOverToUiChecks('production panel');
    await run.session.customRequest('continue', { threadId: stop.threadId });
    const failure = await until('the failure production had, as an uncaught exception', () => [...run.stops.values()].find(s => s.reason === 'exception'));
    assert.equal(failure.description, 'RuntimeUserError: bad code');
    await endSessions();
    const again = vscode.commands.executeCommand<boolean>('flyteSandbox.debugProductionRun');
    await handOverToUiChecks('production recent');
    assert.equal(await again, true);
    const second = await until('the recent run debugged again', () => (m.current() !== run && m.current()?.stops.size ? m.current() : undefined), 60_000);
    assert.equal([...second.stops.values()][0]!.description, "discount(15.5, code='BAD')");
    assert.ok(existsSync(join(dir, 'backend', 'rpc.log')) && !readFileSync(join(dir, 'backend', 'rpc.log'), 'utf8').includes('CreateRun'), 'importing only read');
  } finally {
    await endSessions();
    await restore();
    // the checks after these expect the editor layout they had
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  }
});

check('"remote" in a launch configuration: the call runs on the (stand-in) cluster, its run on the trace and in the panel', async () => {
  const m = await model();
  const { dir, restore } = await standInCluster();
  try {
    const started = await vscode.debug.startDebugging(vscode.workspace.workspaceFolders![0], {
      type: 'flyte-sandbox', request: 'launch', name: 'remote', program: join(dir, 'orders.py'), inputs: { cart: { apple: 3, melon: 4 }, code: 'SAVE10' },
      remote: ['discount'], flyteConfig: join(dir, 'config.yaml'), stopOnExternalCall: 'none',
      stubs: { clock: { value: 5 }, price: { value: 1.5 }, tax: { value: [2.0, 12.0] }, charge: { value: 'r' } },
    });
    assert.ok(started);
    const run = await until('the remote run', () => (m.current()?.launched?.file === join(dir, 'orders.py') && m.current()?.result ? m.current() : undefined), 60_000);
    assert.equal(run.result?.status, 'ok', run.result?.error?.message);
    const discount = [...run.calls.values()].find(c => c.function === 'discount')!;
    assert.equal(discount.source, 'remote');
    assert.match(discount.ref?.name ?? '', /^r[0-9a-f]{9}$/);
    assert.equal(discount.ref?.url, `https://flyte.example.com/v2/domain/development/project/shop/runs/${discount.ref!.name}`);
    assert.equal(discount.result, '2.7', 'computed on the cluster: (1.5 + 1.5) * (1 - 0.1)');
    await handOverToUiChecks('remote panel');
  } finally {
    await endSessions();
    await restore();
    // the checks after these expect the editor layout they had
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  }
});

check('the language server: a sandboxed task\'s unknown call is a diagnostic in the Problems view, with a quick fix', async () => {
  const dir = join(workspace(), 'lsp');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'problems.py');
  writeFileSync(file, [
    'import flyte', '', 'env = flyte.TaskEnvironment(name="problems")', '', '',
    '@env.task', 'def add(x: int, y: int) -> int:', '    return x + y', '', '',
    '@env.sandbox.orchestrator', 'def broken(n: int) -> int:', '    return add(n, 1) + ad(n, 2)', '',
  ].join('\n'));
  const editor = await open('lsp/problems.py');
  const uri = editor.document.uri;
  const diagnostic = await until('the diagnostic from the language server', () => vscode.languages.getDiagnostics(uri).find(d => d.source === 'flyte-sandbox'), 60_000);
  assert.equal(diagnostic.severity, vscode.DiagnosticSeverity.Error);
  assert.deepEqual([diagnostic.range.start.line, diagnostic.range.start.character, diagnostic.range.end.line, diagnostic.range.end.character], [12, 23, 12, 25]);
  assert.equal(diagnostic.message, "not a registered external function: the sandbox will refuse this call (RuntimeError: Sandboxed task called unknown external function: ad). Registered: add. Did you mean 'add'?");
  const actions = await vscode.commands.executeCommand<vscode.CodeAction[]>('vscode.executeCodeActionProvider', uri, diagnostic.range);
  assert.ok(actions.some(a => a.title === "Change to 'add'"), actions.map(a => a.title).join(' | '));
  await roomForScreenshots();
  await vscode.commands.executeCommand('workbench.actions.view.problems');
  await handOverToUiChecks('problems');
});

check('the language server: after a run, inlay hints show what each external call returned', async () => {
  const m = await model();
  const file = join(workspace(), 'pipeline', 'pipeline.py');
  const editor = await open('pipeline/pipeline.py');
  await vscode.commands.executeCommand('flyteSandbox.runWithStubs', vscode.Uri.file(file), 'score_pipeline');
  const run = await until('the stubbed run', () => (m.current()?.launched?.task === 'score_pipeline' && m.current()?.result ? m.current() : undefined), 60_000);
  assert.equal(run.result?.status, 'ok');
  await vscode.window.showTextDocument(editor.document);
  const range = new vscode.Range(0, 0, editor.document.lineCount, 0);
  let hints: vscode.InlayHint[] = [];
  // The extension reports the run to the language server, which asks VS Code to refresh the hints.
  for (const t0 = Date.now(); hints.length < 3; await new Promise(r => setTimeout(r, 250))) {
    if (Date.now() - t0 > 60_000) throw new Error(`timed out waiting for the last-run inlay hints (have ${hints.length})`);
    hints = (await vscode.commands.executeCommand<vscode.InlayHint[]>('vscode.executeInlayHintProvider', editor.document.uri, range)) ?? [];
  }
  const label = (h: vscode.InlayHint) => (typeof h.label === 'string' ? h.label : h.label.map(p => p.value).join(''));
  assert.deepEqual(hints.map(h => `${h.position.line + 1}: ${label(h)}`), ['29: → [0, 1, 2, 3, 4]', '32: → 2 (last of 5)', '34: → {\'count\': 5, \'total\': 5}']);
  await roomForScreenshots();
  await vscode.commands.executeCommand('workbench.action.closePanel');
  await vscode.window.showTextDocument(editor.document, { selection: new vscode.Range(27, 0, 27, 0) });
  await handOverToUiChecks('inlay hints');
});

check('leaves a paused session with the panel open, for the UI checks that follow', async () => {
  const m = await model();
  await open('pipeline/pipeline.py');
  await vscode.commands.executeCommand('flyteSandbox.debugTask', vscode.Uri.file(join(workspace(), 'pipeline', 'pipeline.py')), 'score_pipeline');
  const run = await until('a paused session', () => (m.current()?.stops.size ? m.current() : undefined));
  const stop = [...run.stops.values()][0]!;
  await run.session.customRequest('flyteSandbox/resolveCall', { threadId: stop.threadId, action: 'return', value: [0, 1, 2] });
  await until('the second stop', () => [...run.stops.values()].some(s => s.description.startsWith('score(0')));
  await vscode.commands.executeCommand('flyteSandbox.showPanel');
  await handOverToUiChecks('paused');
});

/** The editor alone on screen (no side bars, no IO panel beside it), so a screenshot shows whole lines. */
async function roomForScreenshots(): Promise<void> {
  await vscode.commands.executeCommand('workbench.action.closeAuxiliaryBar');
  await vscode.commands.executeCommand('workbench.action.closeSidebar');
  await vscode.commands.executeCommand('workbench.action.closeEditorsInOtherGroups');
}

/** With the code-server harness: let the browser-side checks (test/vscode/ui.mjs) look at this state, and wait for them. */
async function handOverToUiChecks(stage: string): Promise<void> {
  const dir = process.env.VSCODE_TEST_HANDSHAKE;
  if (!dir) return;
  const done = join(dir, 'done');
  rmSync(done, { force: true });
  writeFileSync(join(dir, 'ready'), stage);
  await until(`the UI checks "${stage}"`, () => existsSync(done), 120_000);
  assert.equal(readFileSync(done, 'utf8'), '0', `the UI checks "${stage}" passed (their output is above)`);
}

export async function run(): Promise<void> {
  // What the adapter printed, shown when a check fails.
  const transcript: string[] = [];
  vscode.debug.registerDebugAdapterTrackerFactory('flyte-sandbox', {
    createDebugAdapterTracker: () => ({
      onDidSendMessage: (m: { type: string; event?: string; body?: { output?: string } }) => {
        if (m.type === 'event' && m.event === 'output') transcript.push(m.body?.output ?? '');
      },
      onError: (e: Error) => transcript.push(`adapter error: ${e.message}\n`),
      onExit: (code: number | undefined, signal: string | undefined) => transcript.push(`adapter exited: ${code ?? signal}\n`),
    }),
  });
  const failed: string[] = [];
  // FLYTE_VSCODE_ONLY=<regex> runs only the matching checks (and the last, which the browser-side checks need)
  const only = process.env.FLYTE_VSCODE_ONLY ? new RegExp(process.env.FLYTE_VSCODE_ONLY) : undefined;
  for (const [name, fn] of checks) {
    if (only && !only.test(name) && name !== checks.at(-1)![0]) continue;
    transcript.length = 0;
    try {
      await fn();
      console.log(`✔ ${name}`);
      if (name !== checks.at(-1)![0]) await endSessions();
    } catch (e) {
      failed.push(name);
      console.log(`✖ ${name}\n  ${(e as Error).stack ?? String(e)}\n  adapter output:\n${transcript.join('').split('\n').slice(-15).map(l => `    ${l}`).join('\n')}`);
      await endSessions();
    }
  }
  const ran = only ? checks.filter(([n]) => only.test(n) || n === checks.at(-1)![0]).length : checks.length;
  console.log(`${ran - failed.length} passed, ${failed.length} failed`);
  if (failed.length) throw new Error(`${failed.length} check(s) failed: ${failed.join('; ')}`);
}
