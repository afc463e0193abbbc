/**
 * Starts the Flyte Sandbox language server (dist/languageServer.js, its own
 * Node process) for Python files, and tells it about each debug session's
 * run when the run ends, so the editor shows what every call returned.
 */
import { join } from 'node:path';
import * as vscode from 'vscode';
import { LanguageClient, type LanguageClientOptions, type ServerOptions } from 'vscode-languageclient/node';
import { LAST_RUN_NOTIFICATION, readSettings, type LastRunParams, type RunCall } from '../language-server/protocol.ts';
import { DEBUG_TYPE, type RunModel, type SessionModel } from './sessionModel.ts';

function settings(): unknown {
  const c = vscode.workspace.getConfiguration('flyteSandbox');
  return readSettings({ typeCheck: c.get('typeCheck'), lastRunHints: c.get('lastRunHints'), pythonVersion: c.get('pythonVersion'), diagnosticsDelay: c.get('diagnosticsDelay'), flyteProfile: c.get('flyteProfile') });
}

/** A run's first calls are enough to show in the code; a 20,000-call run is not sent whole to the server. */
const MAX_CALLS = 5000;

/** What the extension knows of a run, as the server's `flyteSandbox/lastRun`. */
export function lastRunOf(run: RunModel): LastRunParams | undefined {
  const launched = run.launched;
  if (!launched) return undefined;
  const all = [...run.calls.values()].sort((a, b) => a.seq - b.seq);
  const calls: RunCall[] = all.slice(0, MAX_CALLS).map(c => ({
    seq: c.seq,
    function: c.function,
    status: c.status,
    args: c.args,
    ...(c.result !== undefined ? { result: c.result } : {}),
    ...(c.values?.result !== undefined ? { value: c.values.result } : {}),
    ...(c.error ? { error: { type: c.error.type, message: c.error.message } } : {}),
    ...(c.mapParent !== undefined ? { mapParent: c.mapParent, mapIndex: c.mapIndex! } : {}),
  }));
  return {
    file: launched.file,
    task: launched.task,
    codeHash: launched.codeHash,
    inputs: launched.inputs,
    status: run.result ? (run.result.status === 'ok' ? 'ok' : 'error') : 'incomplete',
    at: new Date().toISOString(),
    calls,
    ...(all.length > MAX_CALLS ? { omitted: all.length - MAX_CALLS } : {}),
  };
}

export function startLanguageClient(context: vscode.ExtensionContext, model: SessionModel): vscode.Disposable {
  if (!vscode.workspace.getConfiguration('flyteSandbox').get<boolean>('languageServer', true)) return { dispose() {} };
  const server = join(context.extensionPath, 'dist', 'languageServer.js');
  // The extension host's own executable runs Node scripts (Electron needs ELECTRON_RUN_AS_NODE).
  const run = { command: process.execPath, args: [server, '--stdio'], options: { env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' } } };
  const serverOptions: ServerOptions = { run, debug: run };
  const clientOptions: LanguageClientOptions = {
    documentSelector: [{ scheme: 'file', language: 'python' }],
    initializationOptions: settings(),
    outputChannelName: 'Flyte Sandbox Language Server',
  };
  const client = new LanguageClient('flyteSandbox', 'Flyte Sandbox Language Server', serverOptions, clientOptions);
  const sent = new WeakSet<RunModel>();
  const disposables: vscode.Disposable[] = [
    // Values let the server place each call exactly (it replays the run); the panel asks for them too.
    vscode.debug.onDidStartDebugSession(s => {
      if (s.type === DEBUG_TYPE && vscode.workspace.getConfiguration('flyteSandbox').get<boolean>('lastRunHints', true)) void Promise.resolve(s.customRequest('flyteSandbox/follow', { values: true })).catch(() => undefined);
    }),
    model.onDidChange(r => {
      if (sent.has(r) || !(r.result || r.ended)) return;
      const params = lastRunOf(r);
      if (!params || !client.isRunning()) return;
      sent.add(r);
      void client.sendNotification(LAST_RUN_NOTIFICATION, params);
    }),
  ];
  void client.start().catch((e: Error) => void vscode.window.showWarningMessage(`Flyte Sandbox: the language server did not start: ${e.message}`));
  return {
    dispose() {
      for (const d of disposables) d.dispose();
      void client.stop();
    },
  };
}
