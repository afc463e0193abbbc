/**
 * "Flyte Sandbox: Debug a Production Run…": ask for a run (name or URL, the
 * runs imported last are offered again), import it with flyte in the user's
 * interpreter under a progress notification, and start a debug session on
 * the replay, paused at the call that failed in production (or on entry for
 * a run that succeeded).
 */
import { existsSync, mkdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import * as vscode from 'vscode';
import type { Cassette } from '../engine/cassette/format.ts';
import { importProductionRun, type ImportProgress } from '../engine/production/importer.ts';
import { parseRunRef } from '../engine/production/runRef.ts';
import { pythonFor } from './python.ts';
import { DEBUG_TYPE } from './sessionModel.ts';
import { tasksOf } from './tasks.ts';

const RECENT_KEY = 'flyteSandbox.recentRuns';
const RECENT_MAX = 8;

export interface RecentRun {
  run: string;
  url?: string;
  program: string;
  task: string;
  phase: string;
  importedAt: string;
}

/** What the last import showed, for tests: the progress messages and where the cassette went. */
export interface ImportTrace {
  progress: string[];
  cassette?: string;
  error?: string;
}

export interface ProductionRunArgs {
  run?: string;
  program?: string;
  task?: string;
}

function progressText(p: ImportProgress): string {
  if (p.stage === 'listing') return `listing actions: ${p.done}`;
  if (p.stage === 'listed') return `${p.done} calls to read`;
  return `reading calls: ${p.done}/${p.total ?? '?'}`;
}

/** The call a replay should pause at: the first call that failed in production, outside a flyte_map (whose items may return their exceptions). */
export function failingCall(c: Cassette): number | undefined {
  if (c.status !== 'error') return undefined;
  return c.calls.find(x => x.error && x.mapParent === undefined && x.function !== 'flyte_map')?.seq;
}

/** The file to replay on: given, the one a recent import used, the active (or a visible) editor with a sandboxed task, else asked. */
async function pickProgram(given: string | undefined, recent: RecentRun | undefined): Promise<vscode.Uri | undefined> {
  if (given) return vscode.Uri.file(given);
  if (recent && existsSync(recent.program)) return vscode.Uri.file(recent.program);
  const editors = [vscode.window.activeTextEditor, ...vscode.window.visibleTextEditors].filter((e): e is vscode.TextEditor => !!e);
  for (const e of editors) if ((await tasksOf(e.document)).length) return e.document.uri;
  const picked = await vscode.window.showOpenDialog({ title: 'The Python file with the sandboxed task the run ran', filters: { Python: ['py'] }, canSelectMany: false });
  return picked?.[0];
}

async function pickRun(recent: RecentRun[]): Promise<string | undefined> {
  const qp = vscode.window.createQuickPick<vscode.QuickPickItem & { run?: string }>();
  qp.title = 'Debug a Production Run';
  qp.placeholder = 'A run name, or the run\'s URL from the Flyte UI';
  qp.ignoreFocusOut = true;
  const recentItems = recent.map(r => ({ label: r.run, description: `${r.task} · ${r.phase}`, detail: `imported ${r.importedAt.slice(0, 16).replace('T', ' ')} · ${basename(r.program)}${r.url ? ` · ${r.url}` : ''}`, run: r.run }));
  qp.items = recentItems;
  qp.onDidChangeValue(v => {
    const typed = v.trim();
    qp.items = typed && !recent.some(r => r.run === typed) ? [{ label: typed, description: 'import this run', run: typed, alwaysShow: true }, ...recentItems] : recentItems;
  });
  return new Promise(resolve => {
    qp.onDidAccept(() => {
      const item = qp.selectedItems[0];
      resolve(item?.run ?? (qp.value.trim() || undefined));
      qp.hide();
    });
    qp.onDidHide(() => {
      resolve(undefined);
      qp.dispose();
    });
    qp.show();
  });
}

export function registerProductionRun(context: vscode.ExtensionContext): { disposable: vscode.Disposable; lastImport: () => ImportTrace | undefined } {
  let last: ImportTrace | undefined;
  const command = async (args: ProductionRunArgs = {}): Promise<boolean> => {
    const recent = context.globalState.get<RecentRun[]>(RECENT_KEY, []);
    const run = args.run ?? (await pickRun(recent));
    if (!run) return false;
    let runName: string;
    try {
      runName = parseRunRef(run).run;
    } catch (e) {
      void vscode.window.showErrorMessage(`Flyte Sandbox: ${(e as Error).message}`);
      return false;
    }
    const programUri = await pickProgram(args.program, recent.find(r => r.run === runName));
    if (!programUri) return false;
    const folder = vscode.workspace.getWorkspaceFolder(programUri);
    const settings = vscode.workspace.getConfiguration('flyteSandbox', programUri);
    const storage = context.storageUri ?? context.globalStorageUri;
    const dir = join(storage.fsPath, 'production');
    mkdirSync(dir, { recursive: true });
    const trace: ImportTrace = { progress: [] };
    last = trace;
    const python = await pythonFor(programUri);
    const flyteConfig = settings.get<string>('flyteConfig');
    let imported;
    try {
      imported = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `Flyte Sandbox: importing production run ${run}`, cancellable: true }, async (progress, token) => {
        const abort = new AbortController();
        token.onCancellationRequested(() => abort.abort());
        let reported = 0;
        return importProductionRun({
          run,
          program: programUri.fsPath,
          ...(args.task ? { task: args.task } : {}),
          out: join(dir, `${runName}.cassette.json`),
          python,
          pythonSettingName: 'the flyteSandbox.python setting',
          ...(settings.get<string>('project') ? { project: settings.get<string>('project')! } : {}),
          ...(settings.get<string>('domain') ? { domain: settings.get<string>('domain')! } : {}),
          ...(flyteConfig ? { config: flyteConfig } : {}),
          cwd: folder?.uri.fsPath ?? join(programUri.fsPath, '..'),
          signal: abort.signal,
          onProgress: p => {
            const message = progressText(p);
            trace.progress.push(message);
            const pct = p.total ? Math.round((p.done / p.total) * 100) : undefined;
            const increment = pct !== undefined && p.stage === 'reading' ? pct - reported : undefined;
            if (increment !== undefined) reported = pct!;
            progress.report({ message, ...(increment !== undefined ? { increment } : {}) });
          },
        });
      });
    } catch (e) {
      trace.error = (e as Error).message;
      void vscode.window.showErrorMessage(`Flyte Sandbox: ${trace.error}`);
      return false;
    }
    trace.cassette = imported.path;
    const c = imported.cassette;
    const p = c.production!;
    const entry: RecentRun = { run: p.run, url: p.url, program: programUri.fsPath, task: c.task, phase: p.phase, importedAt: p.importedAt };
    await context.globalState.update(RECENT_KEY, [entry, ...recent.filter(r => r.run !== p.run)].slice(0, RECENT_MAX));
    for (const n of imported.notes) void vscode.window.showInformationMessage(`Flyte Sandbox: ${n}`);
    const failing = failingCall(c);
    const config: vscode.DebugConfiguration = {
      type: DEBUG_TYPE,
      request: 'launch',
      name: `Production run ${p.run}`,
      program: programUri.fsPath,
      task: c.task,
      replay: imported.path,
      stopOnExternalCall: 'none',
      ...(failing !== undefined ? { stopAtCall: failing } : { stopOnEntry: c.status !== 'error' }),
    };
    return vscode.debug.startDebugging(folder, config);
  };
  return {
    disposable: vscode.commands.registerCommand('flyteSandbox.debugProductionRun', (args?: ProductionRunArgs) => command(args && typeof args === 'object' && !(args instanceof vscode.Uri) ? args : {})),
    lastImport: () => last,
  };
}
