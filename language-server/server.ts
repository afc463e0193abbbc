/**
 * The language server: LSP requests in, the engine's knowledge of sandboxed
 * tasks out. Open documents are analysed on their editor text (debounced),
 * and again when a workspace file they may import is saved; cassettes beside
 * a file and the client's last debug session feed the "last run" hints.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import {
  CodeActionKind, DiagnosticSeverity, DiagnosticTag, DidChangeConfigurationNotification, DidChangeWatchedFilesNotification,
  InlayHintRefreshRequest, TextDocuments, TextDocumentSyncKind,
  type CodeAction, type Connection, type Diagnostic, type InitializeResult, type InlayHint, type Location,
} from 'vscode-languageserver';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { codeHash } from '../engine/cassette/format.ts';
import { loadProgram } from '../engine/program.ts';
import { analyze, disposeAnalysis, mentionsSandbox, type FileAnalysis } from './analysis.ts';
import { complete } from './completion.ts';
import type { Finding, Fix } from './findings.ts';
import { hover } from './hover.ts';
import { LastRuns } from './lastRun.ts';
import { declaration, definition, targetAt, usesIn } from './navigation.ts';
import { fromPosition, toPosition, toRange } from './positions.ts';
import { LAST_RUN_NOTIFICATION, readSettings, STATS_REQUEST, type LastRunParams, type ServerStats, type Settings } from './protocol.ts';
import { callLine, hintLabel, runOrigin, taskRun } from './runHints.ts';
import { taskContexts } from './taskContext.ts';

const SEVERITY: Record<Finding['severity'], DiagnosticSeverity> = {
  error: DiagnosticSeverity.Error,
  warning: DiagnosticSeverity.Warning,
  information: DiagnosticSeverity.Information,
  hint: DiagnosticSeverity.Hint,
};

const SKIP_DIRS = new Set(['node_modules', '.git', '.venv', 'venv', '__pycache__', 'dist', 'build', '.cache', '.tox', '.mypy_cache']);
const MAX_SCANNED_FILES = 5000;

function pathOf(uri: string): string | undefined {
  return uri.startsWith('file:') ? fileURLToPath(uri) : undefined;
}

export function startServer(connection: Connection): void {
  const documents = new TextDocuments(TextDocument);
  const runs = new LastRuns();
  const timers = new Map<string, ReturnType<typeof setTimeout>>();
  let roots: string[] = [];
  let settings: Settings = readSettings(undefined);
  let canPullConfiguration = false;
  let canRefreshHints = false;

  /**
   * The analysis of a document version, shared by every request on that
   * version. A superseded analysis is freed once no request uses it any more
   * (its parse trees live in wasm memory that no garbage collector frees).
   */
  interface Held { version: number; analysis: Promise<FileAnalysis>; users: number; superseded: boolean }
  const analyses = new Map<string, Held>();
  const release = (h: Held) => {
    if (h.superseded && h.users === 0) void h.analysis.then(disposeAnalysis).catch(() => undefined);
  };
  const supersede = (uri: string) => {
    const h = analyses.get(uri);
    if (!h) return;
    analyses.delete(uri);
    h.superseded = true;
    release(h);
  };

  const hold = (doc: TextDocument): Held => {
    const hit = analyses.get(doc.uri);
    if (hit && hit.version === doc.version) {
      hit.users++;
      return hit;
    }
    supersede(doc.uri);
    const path = pathOf(doc.uri);
    const analysis = path
      ? analyze(path, doc.getText(), { roots, pythonVersion: settings.pythonVersion, typeCheck: settings.typeCheck, ...(settings.flyteProfile ? { flyteProfile: settings.flyteProfile } : {}) }).catch((e: Error) => {
        connection.console.error(`flyte-sandbox: cannot analyse ${path}: ${e.stack ?? e.message}`);
        return { path, text: doc.getText(), contexts: [], findings: [] } as FileAnalysis;
      })
      : Promise.resolve({ path: doc.uri, text: doc.getText(), contexts: [], findings: [] } as FileAnalysis);
    const held: Held = { version: doc.version, analysis, users: 1, superseded: false };
    analyses.set(doc.uri, held);
    return held;
  };

  /** Run `fn` on the document's current analysis, keeping it alive meanwhile. */
  const using = async <T>(doc: TextDocument, fn: (a: FileAnalysis) => Promise<T> | T): Promise<T> => {
    const h = hold(doc);
    try {
      return await fn(await h.analysis);
    } finally {
      h.users--;
      release(h);
    }
  };

  const toDiagnostic = (f: Finding): Diagnostic => ({
    range: toRange(f.start, f.end),
    severity: SEVERITY[f.severity],
    source: f.source,
    code: f.code,
    ...(f.url ? { codeDescription: { href: f.url } } : {}),
    message: f.message,
    ...(f.unnecessary ? { tags: [DiagnosticTag.Unnecessary] } : {}),
    ...(f.fixes?.length ? { data: { fixes: f.fixes } } : {}),
  });

  /** What each open document's analysis says about each file (a task's code can live in an imported file). */
  const contributions = new Map<string, Map<string, Diagnostic[]>>();

  /** Every file's diagnostics are the union of what the open documents' analyses say about it. */
  const sendUnion = async (uris: Iterable<string>) => {
    for (const uri of uris) {
      const diagnostics = [...contributions.values()].flatMap(c => c.get(uri) ?? []);
      const version = documents.get(uri)?.version;
      await connection.sendDiagnostics({ uri, ...(version !== undefined ? { version } : {}), diagnostics });
    }
  };

  const publish = (doc: TextDocument) => using(doc, async analysis => {
    const version = doc.version;
    if (documents.get(doc.uri)?.version !== version) return; // a newer edit will publish
    const byFile = new Map<string, Diagnostic[]>([[doc.uri, []]]);
    for (const f of analysis.findings) {
      const uri = pathToFileURL(f.start.file).href;
      (byFile.get(uri) ?? byFile.set(uri, []).get(uri)!).push(toDiagnostic(f));
    }
    const before = contributions.get(doc.uri);
    contributions.set(doc.uri, byFile);
    await sendUnion(new Set([...byFile.keys(), ...(before?.keys() ?? [])]));
  });

  const schedule = (doc: TextDocument, delay = settings.diagnosticsDelay) => {
    clearTimeout(timers.get(doc.uri));
    timers.set(doc.uri, setTimeout(() => {
      timers.delete(doc.uri);
      void publish(doc);
    }, delay));
  };

  /** Everything open is analysed again (an imported file or the settings changed). */
  const revalidateAll = () => {
    for (const uri of [...analyses.keys()]) supersede(uri);
    for (const doc of documents.all()) schedule(doc, 0);
    if (canRefreshHints) void connection.sendRequest(InlayHintRefreshRequest.type).catch(() => undefined);
  };

  const pullSettings = async () => {
    if (!canPullConfiguration) return;
    const [raw] = await connection.workspace.getConfiguration([{ section: 'flyteSandbox' }]) as unknown[];
    settings = readSettings(raw);
  };

  connection.onInitialize((params): InitializeResult => {
    roots = (params.workspaceFolders ?? []).map(f => pathOf(f.uri)).filter((p): p is string => !!p);
    if (!roots.length && params.rootUri) roots = [pathOf(params.rootUri)].filter((p): p is string => !!p);
    settings = readSettings(params.initializationOptions);
    canPullConfiguration = !!params.capabilities.workspace?.configuration;
    canRefreshHints = !!params.capabilities.workspace?.inlayHint?.refreshSupport;
    const watch = !!params.capabilities.workspace?.didChangeWatchedFiles?.dynamicRegistration;
    connection.onInitialized(async () => {
      if (canPullConfiguration) {
        void connection.client.register(DidChangeConfigurationNotification.type, { section: 'flyteSandbox' }).catch(() => undefined);
        await pullSettings().catch(() => undefined);
      }
      if (watch) void connection.client.register(DidChangeWatchedFilesNotification.type, { watchers: [{ globPattern: '**/*.py' }, { globPattern: '**/*.json' }] }).catch(() => undefined);
    });
    return {
      capabilities: {
        textDocumentSync: { openClose: true, change: TextDocumentSyncKind.Incremental, save: { includeText: false } },
        codeActionProvider: { codeActionKinds: [CodeActionKind.QuickFix] },
        completionProvider: { triggerCharacters: ['"', "'", '(', ','] },
        hoverProvider: true,
        definitionProvider: true,
        referencesProvider: true,
        inlayHintProvider: true,
      },
      serverInfo: { name: 'flyte-sandbox-language-server', version: '0.1.0' },
    };
  });

  connection.onDidChangeConfiguration(async change => {
    if (canPullConfiguration) await pullSettings().catch(() => undefined);
    else settings = readSettings((change.settings as { flyteSandbox?: unknown } | undefined)?.flyteSandbox ?? change.settings);
    revalidateAll();
  });

  documents.onDidOpen(e => schedule(e.document, 0));
  documents.onDidChangeContent(e => schedule(e.document));
  documents.onDidSave(() => revalidateAll());
  documents.onDidClose(e => {
    clearTimeout(timers.get(e.document.uri));
    supersede(e.document.uri);
    const before = contributions.get(e.document.uri);
    contributions.delete(e.document.uri);
    void sendUnion(new Set([e.document.uri, ...(before?.keys() ?? [])]));
  });
  connection.onDidChangeWatchedFiles(change => {
    if (change.changes.some(c => c.uri.endsWith('.py') && !documents.get(c.uri))) revalidateAll();
    else if (change.changes.some(c => c.uri.endsWith('.json')) && canRefreshHints) void connection.sendRequest(InlayHintRefreshRequest.type).catch(() => undefined);
  });

  connection.onNotification(LAST_RUN_NOTIFICATION, (params: LastRunParams) => {
    runs.fromSession(params);
    if (canRefreshHints) void connection.sendRequest(InlayHintRefreshRequest.type).catch(() => undefined);
  });

  connection.onRequest(STATS_REQUEST, (): ServerStats => {
    const m = process.memoryUsage();
    return { rss: m.rss, heapUsed: m.heapUsed, external: m.external, documents: documents.all().length };
  });

  connection.onCodeAction(params => {
    const actions: CodeAction[] = [];
    for (const d of params.context.diagnostics) {
      const fixes = (d.data as { fixes?: Fix[] } | undefined)?.fixes ?? [];
      for (const fix of fixes) {
        const changes: Record<string, { range: ReturnType<typeof toRange>; newText: string }[]> = {};
        for (const e of fix.edits) (changes[pathToFileURL(e.file).href] ??= []).push({ range: toRange(e.start, e.end), newText: e.newText });
        actions.push({ title: fix.title, kind: CodeActionKind.QuickFix, diagnostics: [d], ...(fix.preferred ? { isPreferred: true } : {}), edit: { changes } });
      }
    }
    return actions;
  });

  const withDoc = async <T>(uri: string, fn: (a: FileAnalysis, path: string, doc: TextDocument) => Promise<T> | T, none: T): Promise<T> => {
    const doc = documents.get(uri);
    const path = pathOf(uri);
    if (!doc || !path) return none;
    return using(doc, a => fn(a, path, doc));
  };

  connection.onCompletion(params => withDoc(params.textDocument.uri, (a, path, doc) => {
    const line = doc.getText({ start: { line: params.position.line, character: 0 }, end: { line: params.position.line + 1, character: 0 } });
    return complete(a, fromPosition(path, params.position), line.replace(/\r?\n$/, ''));
  }, []));

  connection.onHover(params => withDoc(params.textDocument.uri, (a, path) => hover(a, fromPosition(path, params.position), runs, { roots, lastRunHints: settings.lastRunHints }), null));

  connection.onDefinition(params => withDoc(params.textDocument.uri, (a, path) => definition(a, fromPosition(path, params.position)), null));

  connection.onReferences(params => withDoc(params.textDocument.uri, async (a, path) => {
    const target = await targetAt(a, fromPosition(path, params.position));
    if (!target) return [];
    const out: Location[] = params.context.includeDeclaration ? [declaration(target)] : [];
    for (const file of workspaceFiles()) {
      const uri = pathToFileURL(file).href;
      const open = documents.get(uri);
      if (open) {
        if (open.uri === params.textDocument.uri) out.push(...usesIn(a.contexts, target));
        else out.push(...(await using(open, other => usesIn(other.contexts, target))));
        continue;
      }
      let text: string;
      try {
        text = readFileSync(file, 'utf8');
      } catch {
        continue;
      }
      if (!mentionsSandbox(text)) continue;
      try {
        const program = await loadProgram(file, { text, roots, pythonVersion: settings.pythonVersion });
        const contexts = await taskContexts(program);
        out.push(...usesIn(contexts, target));
        await disposeAnalysis({ path: file, text, program, contexts, findings: [] });
      } catch {
        // a file the engine cannot read has no sandboxed tasks to search
      }
    }
    return out;
  }, [] as Location[]));

  connection.languages.inlayHint.on(params => withDoc(params.textDocument.uri, a => {
    if (!settings.lastRunHints) return [];
    const hints: InlayHint[] = [];
    for (const ctx of a.contexts) {
      const run = runs.forTask(ctx.task.module.path, ctx.task.name);
      if (!run) continue;
      const tr = taskRun(ctx, run);
      const origin = runOrigin(run, tr.stale, codeHash(ctx.task.code));
      for (const s of tr.sites) {
        if (s.end.line - 1 < params.range.start.line || s.end.line - 1 > params.range.end.line) continue;
        const calls = [...s.calls, ...s.items].sort((x, y) => x.seq - y.seq);
        hints.push({
          position: toPosition(s.end),
          label: hintLabel(s, tr.stale),
          paddingLeft: true,
          tooltip: { kind: 'markdown', value: `${origin}\n\n${calls.slice(0, 10).map(c => `- ${callLine(c)}`).join('\n')}${calls.length > 10 ? `\n- … and ${calls.length - 10} more` : ''}` },
        });
      }
    }
    return hints;
  }, [] as InlayHint[]));

  function workspaceFiles(): string[] {
    const out: string[] = [];
    const walk = (dir: string) => {
      if (out.length >= MAX_SCANNED_FILES) return;
      let entries;
      try {
        entries = readdirSync(dir, { withFileTypes: true });
      } catch {
        return;
      }
      for (const e of entries) {
        if (e.isDirectory()) {
          if (!SKIP_DIRS.has(e.name) && !e.name.startsWith('.')) walk(join(dir, e.name));
        } else if (e.name.endsWith('.py')) out.push(join(dir, e.name));
      }
    };
    for (const r of roots) walk(r);
    for (const doc of documents.all()) {
      const p = pathOf(doc.uri);
      if (p && !out.includes(p)) out.push(p);
    }
    return out;
  }

  documents.listen(connection);
  connection.listen();
}
