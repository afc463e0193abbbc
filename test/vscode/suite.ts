/**
 * The extension's tests, run inside a real VS Code (code-server here, or
 * @vscode/test-electron where VS Code can be downloaded): the module exports
 * `run()`, the contract both runners use. Written without mocha: each check
 * prints a line and `run()` rejects if any failed.
 */
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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

// The deadline only decides how long a failing check takes to say so: a loaded CI machine can be
// slow, so it is generous, and no check passes or fails by how fast something happened.
async function until<T>(what: string, probe: () => T | undefined | false, timeoutMs = 120_000): Promise<T> {
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
    await vscode.debug.stopDebugging();
    await new Promise(r => setTimeout(r, 200));
  }
}

check('activates and contributes the flyte-sandbox debugger and its commands', async () => {
  await model();
  const commands = await vscode.commands.getCommands(true);
  for (const c of ['flyteSandbox.debugTask', 'flyteSandbox.runWithStubs', 'flyteSandbox.returnValue', 'flyteSandbox.raiseException', 'flyteSandbox.forwardCall', 'flyteSandbox.alwaysStub', 'flyteSandbox.editStubs', 'flyteSandbox.showPanel']) {
    assert.ok(commands.includes(c), `command ${c}`);
  }
});

check('CodeLens above each sandboxed task: "Debug sandboxed task" and "Run with stubs"', async () => {
  const editor = await open('pipeline/pipeline.py');
  let lenses: vscode.CodeLens[] = [];
  for (let i = 0; i < 480 && !lenses.length; i++) {
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
  const run = await until('the big run', () => (m.current()?.launched?.task === 'sum_of_squares' && m.current()?.result ? m.current() : undefined));
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
  const again = await until('the replayed run', () => (m.current() !== run && m.current()?.result ? m.current() : undefined));
  assert.equal(again.result?.output, run.result?.output, 'the exported cassette replays to the same result');
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
  for (const [name, fn] of checks) {
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
  console.log(`${checks.length - failed.length} passed, ${failed.length} failed`);
  if (failed.length) throw new Error(`${failed.length} check(s) failed: ${failed.join('; ')}`);
}
