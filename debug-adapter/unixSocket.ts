/**
 * `--socket=PATH`: the adapter on a Unix domain socket that only its owner
 * can connect to (VS Code's `DebugAdapterNamedPipeServer`). A TCP port on
 * 127.0.0.1 is open to every local user, and a session can forward calls,
 * which runs the user's own Python; a socket file created with mode 0600
 * (the umask is set before bind, so there is no moment it is open to others)
 * is not.
 */
import { connect, type Server } from 'node:net';
import { existsSync, lstatSync, unlinkSync } from 'node:fs';
import { dirname } from 'node:path';

export class SocketPathError extends Error {}

/** Is something listening on the socket at `path`? */
function inUse(path: string): Promise<boolean> {
  return new Promise(resolve => {
    const probe = connect(path);
    probe.once('connect', () => {
      probe.destroy();
      resolve(true);
    });
    probe.once('error', () => resolve(false));
  });
}

export async function listenOnSocket(server: Server, path: string): Promise<void> {
  if (!existsSync(dirname(path))) throw new SocketPathError(`--socket: no such folder: ${dirname(path)}`);
  if (existsSync(path)) {
    if (!lstatSync(path).isSocket()) throw new SocketPathError(`--socket: ${path} exists and is not a socket; refusing to replace it`);
    if (await inUse(path)) throw new SocketPathError(`--socket: another process is already listening on ${path}`);
    unlinkSync(path); // left behind by an adapter that was killed
  }
  const previous = process.umask(0o177);
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(path, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } finally {
    process.umask(previous);
  }
  process.on('exit', () => {
    try {
      unlinkSync(path);
    } catch {
      // already gone
    }
  });
}
