/** "Debug sandboxed task" and "Run with stubs" above every sandboxed task. */
import * as vscode from 'vscode';
import { tasksOf } from './tasks.ts';

export class TaskCodeLens implements vscode.CodeLensProvider {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeCodeLenses = this.changed.event;

  refresh(): void {
    this.changed.fire();
  }

  async provideCodeLenses(document: vscode.TextDocument): Promise<vscode.CodeLens[]> {
    if (!vscode.workspace.getConfiguration('flyteSandbox').get<boolean>('codeLens', true)) return [];
    const tasks = await tasksOf(document);
    return tasks.flatMap(t => {
      const range = new vscode.Range(t.at.line - 1, 0, t.at.line - 1, 0);
      return [
        new vscode.CodeLens(range, { title: '$(debug-alt) Debug sandboxed task', command: 'flyteSandbox.debugTask', arguments: [document.uri, t.name], tooltip: `Debug ${t.flyteName} on the Monty interpreter, pausing at every external call` }),
        new vscode.CodeLens(range, { title: '$(run) Run with stubs', command: 'flyteSandbox.runWithStubs', arguments: [document.uri, t.name], tooltip: 'Run with a stubs file next to the program, stopping only at breakpoints' }),
      ];
    });
  }
}
