/**
 * Where the debug adapter runs: its own Node process by default, so a
 * native crash or a runaway sandbox can never take the extension host down;
 * or inline in the extension host (flyteSandbox.adapter: "inline"), where the
 * sandbox itself still runs in a watched child process.
 */
import { join } from 'node:path';
import * as vscode from 'vscode';
import { FlyteSandboxSession } from '../debug-adapter/session.ts';
import { RemoteRuntime } from '../engine/host/remoteRuntime.ts';

export class AdapterFactory implements vscode.DebugAdapterDescriptorFactory {
  constructor(private readonly extensionPath: string) {}

  createDebugAdapterDescriptor(): vscode.DebugAdapterDescriptor {
    const mode = vscode.workspace.getConfiguration('flyteSandbox').get<string>('adapter', 'process');
    if (mode === 'inline') return new vscode.DebugAdapterInlineImplementation(new FlyteSandboxSession(new RemoteRuntime()) as unknown as vscode.DebugAdapter);
    // The extension host's own executable runs Node scripts (Electron needs ELECTRON_RUN_AS_NODE).
    return new vscode.DebugAdapterExecutable(process.execPath, [join(this.extensionPath, 'dist', 'debugAdapter.js')], { env: { ELECTRON_RUN_AS_NODE: '1' } });
  }
}
