/**
 * The interpreter for forwarding: the flyteSandbox.python setting, else the
 * Python extension's selected interpreter when that extension happens to be
 * installed (it is never required), else python3.
 */
import * as vscode from 'vscode';

interface PythonApi {
  environments?: { getActiveEnvironmentPath(resource?: vscode.Uri): { path: string } };
  settings?: { getExecutionDetails(resource?: vscode.Uri): { execCommand?: string[] } };
}

export async function pythonFor(resource: vscode.Uri | undefined): Promise<string> {
  const configured = vscode.workspace.getConfiguration('flyteSandbox', resource).get<string>('python');
  if (configured) return configured;
  const ext = vscode.extensions.getExtension<PythonApi>('ms-python.python');
  if (ext) {
    try {
      const api = ext.isActive ? ext.exports : await ext.activate();
      const fromEnv = api.environments?.getActiveEnvironmentPath(resource)?.path;
      if (fromEnv) return fromEnv;
      const exec = api.settings?.getExecutionDetails(resource)?.execCommand?.[0];
      if (exec) return exec;
    } catch {
      // the Python extension is optional: fall back to python3
    }
  }
  return 'python3';
}
