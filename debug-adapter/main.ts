/**
 * `node dist/debugAdapter.js` speaks DAP over stdin/stdout;
 * `node dist/debugAdapter.js --server=PORT` serves it on 127.0.0.1:PORT, one
 * session per connection; `--in-process` keeps the sandbox in this process.
 */
import { createServer } from 'node:net';
import { DebugRuntime } from '../engine/debug/runtime.ts';
import { RemoteRuntime } from '../engine/host/remoteRuntime.ts';
import { FlyteSandboxSession } from './session.ts';

// The sandbox runs in a child process so this adapter always answers (and can kill it);
// --in-process runs it here instead (measurements, or a client that wants one process).
const inProcess = process.argv.includes('--in-process');

function newSession(): FlyteSandboxSession {
  return new FlyteSandboxSession(inProcess ? new DebugRuntime() : new RemoteRuntime());
}

const serverArg = process.argv.slice(2).find(a => a.startsWith('--server='));
if (serverArg) {
  const port = Number(serverArg.slice('--server='.length));
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    process.stderr.write(`flyte-sandbox debug adapter: --server needs a port number, got '${serverArg}'\n`);
    process.exit(2);
  }
  const server = createServer(socket => {
    const session = newSession();
    session.setRunAsServer(true);
    session.start(socket, socket);
  });
  server.listen(port, '127.0.0.1', () => {
    const address = server.address();
    process.stderr.write(`flyte-sandbox debug adapter listening on 127.0.0.1:${typeof address === 'object' && address ? address.port : port}\n`);
  });
} else {
  const session = newSession();
  session.start(process.stdin, process.stdout);
}
