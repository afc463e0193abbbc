/**
 * The IO marshaling panel: a webview that follows the session live (every
 * boundary crossing, what Monty holds beside what Flyte sees, flyte_map
 * groups), keeps the last run after the session ends, and exports it as a
 * cassette. The page (media/ioPanel.js) renders; this side feeds it.
 */
import { writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';
import type { CallSummary } from '../debug-adapter/callSummary.ts';
import { cassetteOf } from './cassetteExport.ts';
import { DEBUG_TYPE, type RunModel, type SessionModel } from './sessionModel.ts';

export class IoPanel implements vscode.Disposable {
  private static current: IoPanel | undefined;
  private readonly disposables: vscode.Disposable[] = [];
  private sent = new Map<number, string>();
  private shownRun: RunModel | undefined;
  private timer: NodeJS.Timeout | undefined;

  static show(extensionUri: vscode.Uri, model: SessionModel): IoPanel {
    if (IoPanel.current) {
      IoPanel.current.panel.reveal(undefined, true);
      return IoPanel.current;
    }
    IoPanel.current = new IoPanel(extensionUri, model);
    return IoPanel.current;
  }

  private readonly panel: vscode.WebviewPanel;

  private constructor(private readonly extensionUri: vscode.Uri, private readonly model: SessionModel) {
    const media = vscode.Uri.joinPath(extensionUri, 'media');
    const dist = vscode.Uri.joinPath(extensionUri, 'dist');
    this.panel = vscode.window.createWebviewPanel('flyteSandbox.io', 'Flyte Sandbox: IO Marshaling', { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true }, { enableScripts: true, retainContextWhenHidden: true, localResourceRoots: [media, dist] });
    this.panel.iconPath = vscode.Uri.joinPath(media, 'panel-icon.svg');
    this.panel.webview.html = this.html();
    this.disposables.push(
      this.panel.onDidDispose(() => this.dispose()),
      this.panel.webview.onDidReceiveMessage(m => this.onMessage(m as { type: string; line?: number; seq?: number; url?: string })),
      model.onDidChange(() => this.schedule()),
      vscode.debug.onDidStartDebugSession(s => {
        if (s.type === DEBUG_TYPE) void this.follow(s);
      }),
    );
    const active = vscode.debug.activeDebugSession;
    if (active?.type === DEBUG_TYPE) void this.follow(active);
    this.schedule();
  }

  /** Ask the adapter for exact values with each call (to show and export them). */
  private async follow(session: vscode.DebugSession): Promise<void> {
    try {
      await session.customRequest('flyteSandbox/follow', { values: true });
    } catch {
      // the session may already be over
    }
  }

  private html(): string {
    const webview = this.panel.webview;
    const nonce = randomBytes(16).toString('base64');
    const uri = (...p: string[]) => webview.asWebviewUri(vscode.Uri.joinPath(this.extensionUri, ...p));
    return `<!DOCTYPE html>
<html lang="en"><head><meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src ${webview.cspSource}; font-src ${webview.cspSource}; img-src ${webview.cspSource}; script-src 'nonce-${nonce}';">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${uri('dist', 'codicons', 'codicon.css')}">
<link rel="stylesheet" href="${uri('media', 'ioPanel.css')}">
<title>IO Marshaling</title></head>
<body><div id="app"></div><script nonce="${nonce}" src="${uri('media', 'ioPanel.js')}"></script></body></html>`;
  }

  private schedule(): void {
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      this.push();
    }, 100);
  }

  /** Send what changed since the last message: a new run replaces the old one on the page. */
  private push(): void {
    const run = this.model.current();
    if (!run) return;
    if (run !== this.shownRun) {
      this.shownRun = run;
      this.sent = new Map();
      void this.panel.webview.postMessage({ type: 'reset' });
    }
    const changed: CallSummary[] = [];
    for (const c of run.calls.values()) {
      const key = `${c.status}|${c.result ?? ''}|${c.values ? 1 : 0}|${c.line ?? ''}|${c.ref?.name ?? ''}`;
      if (this.sent.get(c.seq) !== key) {
        this.sent.set(c.seq, key);
        changed.push(c);
      }
    }
    for (const seq of [...this.sent.keys()]) if (!run.calls.has(seq)) this.sent.delete(seq);
    void this.panel.webview.postMessage({
      type: 'update',
      run: { task: run.launched?.task, flyteName: run.launched?.flyteName, file: run.launched?.file, callSites: run.launched?.callSites ?? {}, ended: run.ended, result: run.result ?? null, stops: [...run.stops.values()], count: run.calls.size },
      calls: changed,
      known: [...run.calls.keys()],
    });
  }

  private async onMessage(m: { type: string; line?: number; seq?: number; action?: string; threadId?: number; url?: string }): Promise<void> {
    const run = this.model.current();
    switch (m.type) {
      case 'ready':
        this.sent = new Map();
        this.shownRun = undefined;
        this.push();
        return;
      case 'reveal': {
        if (!run?.launched || !m.line) return;
        const doc = await vscode.workspace.openTextDocument(run.launched.file);
        const pos = new vscode.Position(m.line - 1, 0);
        await vscode.window.showTextDocument(doc, { selection: new vscode.Range(pos, pos), viewColumn: vscode.ViewColumn.One });
        return;
      }
      case 'act':
        if (m.action && ['returnValue', 'raiseException', 'forwardCall', 'alwaysStub'].includes(m.action)) await vscode.commands.executeCommand(`flyteSandbox.${m.action}`, { threadId: m.threadId });
        return;
      case 'rewind':
        if (run && !run.ended && m.seq) await vscode.commands.executeCommand('flyteSandbox.rewindTo', { seq: m.seq });
        return;
      case 'export':
        await vscode.commands.executeCommand('flyteSandbox.exportCassette');
        return;
      case 'open':
        // Only links the adapter reported (a production run's or a cluster run's page).
        if (m.url && /^https?:\/\//.test(m.url) && [...(run?.calls.values() ?? [])].some(c => c.ref?.url === m.url)) await vscode.env.openExternal(vscode.Uri.parse(m.url));
        return;
    }
  }

  private disposed = false;

  /** Write the shown run as a cassette: to `path`, or where the user says. */
  static async exportCassette(model: SessionModel, path?: string): Promise<string | undefined> {
    const run = model.current();
    if (!run) {
      void vscode.window.showInformationMessage('Flyte Sandbox: no run to export yet.');
      return undefined;
    }
    const target = path ?? (await vscode.window.showSaveDialog({ title: 'Export the run as a cassette', filters: { Cassette: ['json'] }, ...(run.launched ? { defaultUri: vscode.Uri.file(run.launched.file.replace(/\.py$/, '.cassette.json')) } : {}) }))?.fsPath;
    if (!target) return undefined;
    try {
      const { text, missing } = cassetteOf(run, target);
      writeFileSync(target, text);
      void vscode.window.showInformationMessage(`Flyte Sandbox: cassette written to ${target}${missing ? ` (${missing} calls made before the panel opened have no exact values and were left out)` : ''}.`);
      return target;
    } catch (e) {
      void vscode.window.showErrorMessage(`Flyte Sandbox: cannot export: ${(e as Error).message}`);
      return undefined;
    }
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    IoPanel.current = undefined;
    if (this.timer) clearTimeout(this.timer);
    for (const d of this.disposables) d.dispose();
    this.panel.dispose();
  }
}
