/** "Flyte: 12 calls · paused at fib(3)" while a session runs. */
import * as vscode from 'vscode';
import type { SessionModel } from './sessionModel.ts';

export function statusBar(model: SessionModel): vscode.Disposable {
  const item = vscode.window.createStatusBarItem('flyteSandbox.status', vscode.StatusBarAlignment.Left, 10);
  item.name = 'Flyte Sandbox';
  item.command = 'flyteSandbox.showPanel';
  const update = () => {
    const run = model.current();
    if (!run || run.ended) {
      item.hide();
      return;
    }
    const stop = [...run.stops.values()].at(-1);
    item.text = `$(debug) Flyte: ${run.calls.size} call${run.calls.size === 1 ? '' : 's'}${stop ? ` · paused at ${stop.description.length > 40 ? stop.description.slice(0, 39) + '…' : stop.description}` : ''}`;
    item.tooltip = 'Flyte Sandbox: show the IO marshaling panel';
    item.show();
  };
  const subs = [model.onDidChange(update), vscode.debug.onDidChangeActiveDebugSession(update)];
  return { dispose: () => { for (const s of subs) s.dispose(); item.dispose(); } };
}
