/** "Sandbox Calls" in the Run and Debug view: the call history, compactly, flyte_map items under their map. */
import * as vscode from 'vscode';
import type { CallSummary } from '../debug-adapter/callSummary.ts';
import type { SessionModel } from './sessionModel.ts';

type Node = CallSummary;

export class CallsTree implements vscode.TreeDataProvider<Node> {
  private readonly changed = new vscode.EventEmitter<Node | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private scheduled = false;

  constructor(private readonly model: SessionModel) {
    model.onDidChange(() => {
      // many calls arrive per second: refresh at most a few times a second
      if (this.scheduled) return;
      this.scheduled = true;
      setTimeout(() => {
        this.scheduled = false;
        this.changed.fire(undefined);
      }, 250);
    });
  }

  getChildren(parent?: Node): Node[] {
    const calls = [...(this.model.current()?.calls.values() ?? [])].sort((a, b) => a.seq - b.seq);
    return parent ? calls.filter(c => c.mapParent === parent.seq) : calls.filter(c => c.mapParent === undefined);
  }

  getTreeItem(c: Node): vscode.TreeItem {
    const isMap = c.function === 'flyte_map';
    const item = new vscode.TreeItem(`#${c.seq} ${c.function}(${[...c.args, ...Object.entries(c.kwargs ?? {}).map(([k, v]) => `${k}=${v}`)].join(', ')})`, isMap ? vscode.TreeItemCollapsibleState.Collapsed : vscode.TreeItemCollapsibleState.None);
    item.description = c.status === 'returned' ? `→ ${c.result ?? ''}` : c.status === 'raised' ? `raised ${c.error?.type}` : c.status;
    item.tooltip = new vscode.MarkdownString(`**#${c.seq} ${c.function}**\n\n${c.status === 'raised' ? `raised \`${c.error?.type}: ${c.error?.message}\`` : `→ \`${c.result ?? c.status}\``}\n\nsource: ${c.source ?? '-'} · ${c.durationMs?.toFixed(3) ?? '-'} ms`);
    item.iconPath = new vscode.ThemeIcon(c.status === 'raised' ? 'error' : c.status === 'pending' ? 'loading~spin' : isMap ? 'list-tree' : 'arrow-swap');
    item.contextValue = 'call';
    const file = this.model.current()?.launched?.file;
    if (file && c.line !== undefined) {
      const at = new vscode.Position(c.line - 1, Math.max(0, (c.column ?? 1) - 1));
      item.command = { command: 'vscode.open', title: 'Go to the call', arguments: [vscode.Uri.file(file), { selection: new vscode.Range(at, at) }] };
    }
    return item;
  }
}
