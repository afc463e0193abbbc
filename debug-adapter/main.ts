/**
 * `node dist/debugAdapter.js` speaks DAP over stdin/stdout;
 * `--server=PORT` serves it on 127.0.0.1:PORT and `--socket=PATH` on a Unix
 * domain socket only its owner can connect to, one session per connection;
 * `--in-process` keeps the sandbox in this process.
 *
 * A session's failure ends at most that session; whenever a connection ends
 * its child processes end with it; a signal ends the adapter and every child.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { DebugRuntime } from '../engine/debug/runtime.ts';
import { exitOnSignals, killAllChildren } from '../engine/host/lifetime.ts';
import { RemoteRuntime } from '../engine/host/remoteRuntime.ts';
import { Connection, currentConnection } from './connection.ts';
import { listenOnSocket, SocketPathError } from './unixSocket.ts';

// The sandbox runs in a child process so this adapter always answers (and can kill it);
// --in-process runs it here instead (measurements, or a client that wants one process).
const inProcess = process.argv.includes('--in-process');
const makeRuntime = () => (inProcess ? new DebugRuntime() : new RemoteRuntime());

function say(text: string): void {
  process.stderr.write(`flyte-sandbox debug adapter: ${text}\n`);
}

function usage(text: string): never {
  say(text);
  process.exit(2);
}

// Nothing a client sends may end the adapter: an error no handler caught ends only the
// connection it is traced to (or, if it cannot be traced, is reported and survived).
function uncaught(e: unknown): void {
  const connection = currentConnection();
  if (connection) connection.fail(e);
  else say(`internal error: ${e instanceof Error ? e.message : String(e)} (please report it)${e instanceof Error && process.env.FLYTE_SANDBOX_DEBUG ? `\n${e.stack}` : ''}`);
}
process.on('uncaughtException', uncaught);
process.on('unhandledRejection', uncaught);
exitOnSignals();

function serve(server: Server, describe: string): void {
  let next = 1;
  server.on('connection', (socket: Socket) => {
    const name = `connection ${next++}`;
    socket.on('error', () => undefined);
    new Connection(name, makeRuntime, socket, socket);
  });
  server.on('error', (e: Error) => usage(`cannot serve on ${describe}: ${e.message}`));
}

const args = process.argv.slice(2);
const serverArg = args.find(a => a.startsWith('--server'));
const socketArg = args.find(a => a.startsWith('--socket'));
if (serverArg && socketArg) usage('use either --server=PORT or --socket=PATH, not both');
if (serverArg) {
  const value = serverArg.slice('--server='.length);
  const port = Number(value);
  if (!serverArg.startsWith('--server=') || !/^\d+$/.test(value) || port > 65535) usage(`--server needs a port number, e.g. --server=4711 (0 picks a free one), got '${serverArg}'`);
  const server = createServer();
  serve(server, `127.0.0.1:${port}`);
  server.listen(port, '127.0.0.1', () => {
    const address = server.address();
    say(`listening on 127.0.0.1:${typeof address === 'object' && address ? address.port : port} (any local user can connect: prefer --socket=PATH)`);
  });
} else if (socketArg) {
  const path = socketArg.slice('--socket='.length);
  if (!socketArg.startsWith('--socket=') || !path) usage(`--socket needs a path, e.g. --socket=/tmp/flyte-sandbox.sock, got '${socketArg}'`);
  const server = createServer();
  serve(server, path);
  listenOnSocket(server, path).then(() => say(`listening on ${path} (owner only)`), (e: unknown) => usage(e instanceof SocketPathError ? e.message : `cannot serve on ${path}: ${(e as Error).message}`));
} else {
  new Connection('stdio', makeRuntime, process.stdin, process.stdout, () => {
    killAllChildren();
    process.exit(0);
  });
}
