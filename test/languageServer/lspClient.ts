/**
 * A real LSP client in the test process, talking to the built server
 * (`node dist/languageServer.js --stdio`) over its stdin/stdout. Waits are
 * for messages (a publish for a given document version), never for time.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  createProtocolConnection, StreamMessageReader, StreamMessageWriter,
  type CodeAction, type CompletionItem, type CompletionList, type Diagnostic, type Hover, type InlayHint, type Location, type ProtocolConnection, type PublishDiagnosticsParams, type Range,
} from 'vscode-languageserver-protocol/node';

export const SERVER = join(import.meta.dirname, '..', '..', 'dist', 'languageServer.js');

export class LspClient {
  private readonly child: ChildProcess;
  readonly connection: ProtocolConnection;
  private readonly published = new Map<string, PublishDiagnosticsParams>();
  private readonly waiters: (() => void)[] = [];
  private readonly versions = new Map<string, number>();
  readonly stderr: string[] = [];
  refreshes = 0;

  private constructor() {
    this.child = spawn(process.execPath, [SERVER, '--stdio'], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.child.stderr!.on('data', (d: Buffer) => this.stderr.push(d.toString()));
    this.connection = createProtocolConnection(new StreamMessageReader(this.child.stdout!), new StreamMessageWriter(this.child.stdin!));
    this.connection.onNotification('textDocument/publishDiagnostics', (p: PublishDiagnosticsParams) => {
      this.published.set(p.uri, p);
      for (const w of this.waiters.splice(0)) w();
    });
    this.connection.onRequest('workspace/inlayHint/refresh', () => {
      this.refreshes++;
      for (const w of this.waiters.splice(0)) w();
      return null;
    });
    this.connection.onNotification('window/logMessage', (p: { message: string }) => {
      this.stderr.push(p.message);
    });
    this.connection.listen();
  }

  /** Start the server with a workspace folder and settings given as initializationOptions. */
  static async start(root: string, settings: Record<string, unknown> = {}): Promise<LspClient> {
    const c = new LspClient();
    await c.connection.sendRequest('initialize', {
      processId: process.pid,
      rootUri: pathToFileURL(root).href,
      workspaceFolders: [{ uri: pathToFileURL(root).href, name: 'test' }],
      capabilities: { workspace: { inlayHint: { refreshSupport: true } }, textDocument: { publishDiagnostics: { versionSupport: true }, inlayHint: {} } },
      initializationOptions: settings,
    });
    await c.connection.sendNotification('initialized', {});
    return c;
  }

  uri(path: string): string {
    return pathToFileURL(path).href;
  }

  async open(path: string, text = readFileSync(path, 'utf8')): Promise<Diagnostic[]> {
    this.versions.set(path, 1);
    await this.connection.sendNotification('textDocument/didOpen', { textDocument: { uri: this.uri(path), languageId: 'python', version: 1, text } });
    return this.diagnostics(path, 1);
  }

  /** Replace the whole text (a new version), then wait for that version's diagnostics. */
  async change(path: string, text: string): Promise<Diagnostic[]> {
    const version = (this.versions.get(path) ?? 1) + 1;
    this.versions.set(path, version);
    await this.connection.sendNotification('textDocument/didChange', { textDocument: { uri: this.uri(path), version }, contentChanges: [{ text }] });
    return this.diagnostics(path, version);
  }

  /** An incremental edit (what editors send while typing). */
  async edit(path: string, range: Range, text: string): Promise<number> {
    const version = (this.versions.get(path) ?? 1) + 1;
    this.versions.set(path, version);
    await this.connection.sendNotification('textDocument/didChange', { textDocument: { uri: this.uri(path), version }, contentChanges: [{ range, text }] });
    return version;
  }

  /** The editor saved the document (its text is on disk). */
  async save(path: string): Promise<void> {
    await this.connection.sendNotification('textDocument/didSave', { textDocument: { uri: this.uri(path) } });
  }

  async close(path: string): Promise<void> {
    await this.connection.sendNotification('textDocument/didClose', { textDocument: { uri: this.uri(path) } });
  }

  /** The diagnostics published for this version of the document (waits for them). */
  async diagnostics(path: string, version: number, timeoutMs = 60_000): Promise<Diagnostic[]> {
    const uri = this.uri(path);
    const t0 = Date.now();
    for (;;) {
      const p = this.published.get(uri);
      if (p && (p.version ?? 0) >= version) return p.diagnostics;
      if (Date.now() - t0 > timeoutMs) throw new Error(`no diagnostics for ${path} v${version} (server stderr: ${this.stderr.join('')})`);
      await new Promise<void>(r => {
        this.waiters.push(r);
        setTimeout(r, 1000);
      });
    }
  }

  /** The next diagnostics published for a file that satisfy `wanted` (for files the client has not opened: no version). */
  async publishedFor(path: string, wanted: (ds: Diagnostic[]) => boolean, timeoutMs = 60_000): Promise<Diagnostic[]> {
    const uri = this.uri(path);
    const t0 = Date.now();
    for (;;) {
      const p = this.published.get(uri);
      if (p && wanted(p.diagnostics)) return p.diagnostics;
      if (Date.now() - t0 > timeoutMs) throw new Error(`no matching diagnostics for ${path}: last ${JSON.stringify(p?.diagnostics)}`);
      await new Promise<void>(r => {
        this.waiters.push(r);
        setTimeout(r, 1000);
      });
    }
  }

  /** Wait until the server asked the client to refresh inlay hints `count` times in all. */
  async refreshed(count: number): Promise<void> {
    while (this.refreshes < count) await new Promise<void>(r => this.waiters.push(r));
  }

  codeActions(path: string, diagnostic: Diagnostic): Promise<CodeAction[]> {
    return this.connection.sendRequest('textDocument/codeAction', { textDocument: { uri: this.uri(path) }, range: diagnostic.range, context: { diagnostics: [diagnostic] } });
  }

  async completion(path: string, line: number, character: number): Promise<CompletionItem[]> {
    const r = await this.connection.sendRequest<CompletionItem[] | CompletionList | null>('textDocument/completion', { textDocument: { uri: this.uri(path) }, position: { line, character } });
    return Array.isArray(r) ? r : r?.items ?? [];
  }

  hover(path: string, line: number, character: number): Promise<Hover | null> {
    return this.connection.sendRequest('textDocument/hover', { textDocument: { uri: this.uri(path) }, position: { line, character } });
  }

  definition(path: string, line: number, character: number): Promise<Location | null> {
    return this.connection.sendRequest('textDocument/definition', { textDocument: { uri: this.uri(path) }, position: { line, character } });
  }

  references(path: string, line: number, character: number, includeDeclaration = false): Promise<Location[]> {
    return this.connection.sendRequest('textDocument/references', { textDocument: { uri: this.uri(path) }, position: { line, character }, context: { includeDeclaration } });
  }

  inlayHints(path: string, lines = 1000): Promise<InlayHint[]> {
    return this.connection.sendRequest('textDocument/inlayHint', { textDocument: { uri: this.uri(path) }, range: { start: { line: 0, character: 0 }, end: { line: lines, character: 0 } } });
  }

  async stop(): Promise<void> {
    try {
      await this.connection.sendRequest('shutdown');
      await this.connection.sendNotification('exit');
    } catch {
      // already gone
    }
    await new Promise<void>(r => {
      if (this.child.exitCode !== null) return r();
      const kill = setTimeout(() => this.child.kill('SIGKILL'), 5000);
      this.child.once('exit', () => {
        clearTimeout(kill);
        r();
      });
    });
    this.connection.dispose();
  }
}

/** `line:col-line:col severity code: message` (1-based, as editors show), for exact assertions. */
export function show(d: Diagnostic): string {
  const sev = ['', 'error', 'warning', 'info', 'hint'][d.severity ?? 0];
  return `${d.range.start.line + 1}:${d.range.start.character + 1}-${d.range.end.line + 1}:${d.range.end.character + 1} ${sev} ${String(d.code)}: ${d.message}`;
}
