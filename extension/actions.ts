/**
 * Acting on the pending call without typing console commands: return a
 * value (a Python expression Monty checks before resuming), raise, forward,
 * always stub, and edit or clear remembered stubs. All go through the
 * adapter's flyteSandbox/* requests.
 */
import * as vscode from 'vscode';
import { DEBUG_TYPE, type SessionModel, type Stop } from './sessionModel.ts';

interface PendingCall {
  seq: number;
  function: string;
  threadId: number;
  args: string[];
  suggestion: string | null;
}

function activeSession(): vscode.DebugSession | undefined {
  const s = vscode.debug.activeDebugSession;
  return s?.type === DEBUG_TYPE ? s : undefined;
}

/** The stopped thread meant: the one given (the panel's buttons), the focused one, else the latest stop. */
function targetThread(model: SessionModel, session: vscode.DebugSession, given?: number): Stop | undefined {
  const run = model.run(session);
  if (!run?.stops.size) return undefined;
  if (given !== undefined && run.stops.has(given)) return run.stops.get(given);
  const focused = (vscode.debug as unknown as { activeStackItem?: { session: vscode.DebugSession; threadId: number } }).activeStackItem;
  if (focused?.session.id === session.id && run.stops.has(focused.threadId)) return run.stops.get(focused.threadId);
  return [...run.stops.values()].at(-1);
}

async function pending(model: SessionModel, target?: { threadId?: number }): Promise<{ session: vscode.DebugSession; call: PendingCall } | undefined> {
  const session = activeSession();
  const stop = session && targetThread(model, session, target?.threadId);
  if (!session || !stop) {
    void vscode.window.showInformationMessage('Flyte Sandbox: no external call is waiting (the session is not paused at one).');
    return undefined;
  }
  const call = await session.customRequest('flyteSandbox/pendingCall', { threadId: stop.threadId }) as PendingCall | null;
  if (!call) {
    void vscode.window.showInformationMessage(`Flyte Sandbox: ${stop.description} is not a call that can be answered here.`);
    return undefined;
  }
  return { session, call };
}

/** Ask for a Python expression until Monty accepts it (the adapter evaluates before it resumes). */
async function askAndResolve(session: vscode.DebugSession, call: PendingCall, title: string, action: Record<string, unknown>, initial: string): Promise<void> {
  let value = initial;
  for (;;) {
    const text = await vscode.window.showInputBox({ title, prompt: `A Python expression; args, kwargs, inputs and history are bound. Pending: ${call.function}(${call.args.join(', ')})`, value, ignoreFocusOut: true });
    if (text === undefined) return;
    try {
      await session.customRequest('flyteSandbox/resolveCall', { threadId: call.threadId, ...action, expression: text });
      return;
    } catch (e) {
      value = text;
      void vscode.window.showErrorMessage(`Flyte Sandbox: ${(e as Error).message}`);
    }
  }
}

export function registerActions(model: SessionModel): vscode.Disposable[] {
  return [
    vscode.commands.registerCommand('flyteSandbox.returnValue', async (target?: { threadId?: number }) => {
      const p = await pending(model, target);
      if (p) await askAndResolve(p.session, p.call, `Return from ${p.call.function}() #${p.call.seq}`, { action: 'return' }, p.call.suggestion ?? '');
    }),
    vscode.commands.registerCommand('flyteSandbox.alwaysStub', async (target?: { threadId?: number }) => {
      const p = await pending(model, target);
      if (p) await askAndResolve(p.session, p.call, `Always return this from ${p.call.function}() (remembered stub)`, { action: 'return', remember: true }, p.call.suggestion ?? 'args[0]');
    }),
    vscode.commands.registerCommand('flyteSandbox.raiseException', async (target?: { threadId?: number }) => {
      const p = await pending(model, target);
      if (!p) return;
      const text = await vscode.window.showInputBox({ title: `Raise from ${p.call.function}() #${p.call.seq}`, prompt: 'An exception, e.g. ValueError("bad input") or ValueError: bad input. As in Flyte, the run then ends with it (unless the session has raiseInSandbox).', value: 'ValueError("")', ignoreFocusOut: true });
      if (text === undefined) return;
      const action = /^\s*[A-Za-z_][\w.]*\s*\(/.test(text) ? { action: 'raise', expression: text } : { action: 'raise', exception: text };
      try {
        await p.session.customRequest('flyteSandbox/resolveCall', { threadId: p.call.threadId, ...action });
      } catch (e) {
        void vscode.window.showErrorMessage(`Flyte Sandbox: ${(e as Error).message}`);
      }
    }),
    vscode.commands.registerCommand('flyteSandbox.forwardCall', async (target?: { threadId?: number }) => {
      const p = await pending(model, target);
      if (!p) return;
      try {
        await p.session.customRequest('flyteSandbox/resolveCall', { threadId: p.call.threadId, action: 'forward' });
      } catch (e) {
        void vscode.window.showErrorMessage(`Flyte Sandbox: ${(e as Error).message}`);
      }
    }),
    vscode.commands.registerCommand('flyteSandbox.editStubs', async () => {
      const session = activeSession();
      if (!session) return;
      const { stubs } = await session.customRequest('flyteSandbox/stubs') as { stubs: { name: string; kind: string; text: string }[] };
      if (!stubs.length) {
        void vscode.window.showInformationMessage('Flyte Sandbox: no stubs in this session.');
        return;
      }
      const pick = await vscode.window.showQuickPick(stubs.map(s => ({ label: s.name, description: `${s.kind}: ${s.text}`, stub: s })), { title: 'Stubs of this session', placeHolder: 'Pick a stub to edit or clear' });
      if (!pick) return;
      const text = await vscode.window.showInputBox({ title: `Stub for ${pick.stub.name}`, prompt: 'A Python expression over args and kwargs; empty to clear the stub', value: pick.stub.kind === 'python' ? pick.stub.text : pick.stub.kind === 'value' ? pick.stub.text : '' });
      if (text === undefined) return;
      try {
        await session.customRequest('flyteSandbox/setStub', { name: pick.stub.name, ...(text.trim() ? { expression: text } : {}) });
      } catch (e) {
        void vscode.window.showErrorMessage(`Flyte Sandbox: ${(e as Error).message}`);
      }
    }),
    vscode.commands.registerCommand('flyteSandbox.rewindTo', async (item?: { seq?: number }) => {
      const session = activeSession();
      const seq = item?.seq ?? Number(await vscode.window.showInputBox({ title: 'Rewind to call #', validateInput: v => (/^\d+$/.test(v) ? undefined : 'A call number') }));
      if (!session || !seq) return;
      try {
        await session.customRequest('flyteSandbox/rewindTo', { seq });
      } catch (e) {
        void vscode.window.showErrorMessage(`Flyte Sandbox: ${(e as Error).message}`);
      }
    }),
  ];
}
