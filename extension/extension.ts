/**
 * The VS Code layer: contributes the flyte-sandbox debugger (F5, CodeLens,
 * editor buttons), acts on paused calls, and shows the IO marshaling panel,
 * the Sandbox Calls view and a status bar item. The engine and the adapter
 * do the work; nothing here runs the sandbox.
 */
import * as vscode from 'vscode';
import { registerActions } from './actions.ts';
import { AdapterFactory } from './adapterFactory.ts';
import { CallsTree } from './callsTree.ts';
import { TaskCodeLens } from './codeLens.ts';
import { configurationFor, ConfigurationProvider, type Mode } from './configProvider.ts';
import { SandboxInlineValues } from './inlineValues.ts';
import { IoPanel } from './ioPanel.ts';
import { startLanguageClient } from './languageClient.ts';
import { registerProductionRun, type ImportTrace } from './productionRun.ts';
import { DEBUG_TYPE, SessionModel } from './sessionModel.ts';
import { statusBar } from './statusBar.ts';
import { tasksOf } from './tasks.ts';

export function activate(context: vscode.ExtensionContext): { model: SessionModel; lastImport: () => ImportTrace | undefined } {
  const model = new SessionModel();
  const production = registerProductionRun(context);
  const codeLens = new TaskCodeLens();

  const start = async (mode: Mode, uri?: vscode.Uri, task?: string) => {
    const document = uri ? await vscode.workspace.openTextDocument(uri) : vscode.window.activeTextEditor?.document;
    if (!document) {
      void vscode.window.showErrorMessage('Flyte Sandbox: open a Python file with a sandboxed task first.');
      return false;
    }
    const config = await configurationFor(document, mode, task);
    return config ? vscode.debug.startDebugging(vscode.workspace.getWorkspaceFolder(document.uri), config) : false;
  };

  const updateContext = () => {
    const run = model.current();
    void vscode.commands.executeCommand('setContext', 'flyteSandbox.pending', !!run && !run.ended && run.stops.size > 0);
    void vscode.commands.executeCommand('setContext', 'flyteSandbox.active', !!run && !run.ended);
    void vscode.commands.executeCommand('setContext', 'flyteSandbox.hasCalls', !!run && run.calls.size > 0);
  };
  const updateHasTasks = async (editor: vscode.TextEditor | undefined) => {
    const tasks = editor ? await tasksOf(editor.document) : [];
    void vscode.commands.executeCommand('setContext', 'flyteSandbox.hasTasks', tasks.length > 0);
  };

  context.subscriptions.push(
    model,
    production.disposable,
    vscode.debug.registerDebugConfigurationProvider(DEBUG_TYPE, new ConfigurationProvider()),
    vscode.debug.registerDebugConfigurationProvider(DEBUG_TYPE, new ConfigurationProvider(), vscode.DebugConfigurationProviderTriggerKind.Dynamic),
    vscode.debug.registerDebugAdapterDescriptorFactory(DEBUG_TYPE, new AdapterFactory(context.extensionPath)),
    vscode.languages.registerCodeLensProvider({ language: 'python', scheme: 'file' }, codeLens),
    vscode.languages.registerInlineValuesProvider({ language: 'python', scheme: 'file' }, new SandboxInlineValues()),
    vscode.workspace.onDidChangeConfiguration(e => e.affectsConfiguration('flyteSandbox.codeLens') && codeLens.refresh()),
    vscode.commands.registerCommand('flyteSandbox.debugTask', (uri?: vscode.Uri, task?: string) => start('debug', uri, task)),
    vscode.commands.registerCommand('flyteSandbox.runWithStubs', (uri?: vscode.Uri, task?: string) => start('stubs', uri, task)),
    vscode.commands.registerCommand('flyteSandbox.showPanel', () => IoPanel.show(context.extensionUri, model)),
    vscode.commands.registerCommand('flyteSandbox.exportCassette', (path?: string) => IoPanel.exportCassette(model, typeof path === 'string' ? path : undefined)),
    ...registerActions(model),
    vscode.window.registerTreeDataProvider('flyteSandbox.calls', new CallsTree(model)),
    statusBar(model),
    startLanguageClient(context, model),
    model.onDidChange(updateContext),
    vscode.debug.onDidChangeActiveDebugSession(updateContext),
    vscode.window.onDidChangeActiveTextEditor(e => void updateHasTasks(e)),
    vscode.workspace.onDidSaveTextDocument(() => void updateHasTasks(vscode.window.activeTextEditor)),
    vscode.debug.onDidStartDebugSession(s => {
      if (s.type === DEBUG_TYPE && vscode.workspace.getConfiguration('flyteSandbox').get<boolean>('openPanel', true)) IoPanel.show(context.extensionUri, model);
    }),
  );
  void updateHasTasks(vscode.window.activeTextEditor);
  return { model, lastImport: production.lastImport };
}

export function deactivate(): void {
  // Sessions end with the extension host; their child processes exit when their parent does.
}
