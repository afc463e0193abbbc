/**
 * `node dist/languageServer.js --stdio`: the Flyte Sandbox language server,
 * for VS Code (started by the extension) or any LSP client (Neovim, Helix).
 * Also `--node-ipc` and `--socket=PORT`, as vscode-languageserver offers.
 */
import { createConnection, ProposedFeatures } from 'vscode-languageserver/node';
import { startServer } from './server.ts';

const args = process.argv.slice(2);
if (args.includes('--help') || args.includes('-h')) {
  process.stdout.write('usage: node dist/languageServer.js --stdio | --node-ipc | --socket=PORT\n\nThe Flyte Sandbox language server: diagnostics, fixes, completion, hover and last-run hints for sandboxed tasks.\n');
  process.exit(0);
}
if (!args.some(a => /^--(stdio|node-ipc|socket|pipe)/.test(a))) {
  process.stderr.write('flyte-sandbox language server: no transport given, using --stdio\n');
  process.argv.push('--stdio');
}
startServer(createConnection(ProposedFeatures.all));
