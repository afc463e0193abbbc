/**
 * What the extension knows of each Flyte Sandbox debug session, learned from
 * the adapter's messages (a DebugAdapterTracker sees them all): the calls,
 * the calls waiting for the user, the result. The panel, the calls tree and
 * the status bar all read this one model.
 */
import * as vscode from 'vscode';
import type { CallSummary } from '../debug-adapter/callSummary.ts';
import type { LaunchInfo } from '../engine/debug/api.ts';
import type { Wire } from '../engine/values/wire.ts';

export const DEBUG_TYPE = 'flyte-sandbox';

export interface Stop {
  threadId: number;
  reason: string;
  description: string;
}

export interface RunModel {
  session: vscode.DebugSession;
  /** `inputs` is null when they were too large to come over DAP (`inputsOmitted` says why). */
  launched?: LaunchInfo & { inputs: Wire | null; inputsOmitted?: string };
  calls: Map<number, CallSummary>;
  stops: Map<number, Stop>;
  result?: { status: string; output?: string; error?: { type: string; message: string } };
  ended: boolean;
}

export class SessionModel implements vscode.Disposable {
  private readonly runs = new Map<string, RunModel>();
  /** The most recent run, kept after its session ends (the panel shows the last run). */
  last: RunModel | undefined;
  private readonly changed = new vscode.EventEmitter<RunModel>();
  readonly onDidChange = this.changed.event;
  private readonly disposables: vscode.Disposable[] = [];

  constructor() {
    this.disposables.push(
      // The tracker exists before the session's first message (onDidStartDebugSession may come later).
      vscode.debug.registerDebugAdapterTrackerFactory(DEBUG_TYPE, {
        createDebugAdapterTracker: session => {
          const run: RunModel = { session, calls: new Map(), stops: new Map(), ended: false };
          this.runs.set(session.id, run);
          this.last = run;
          this.changed.fire(run);
          return {
            onDidSendMessage: (m: { type: string; event?: string; body?: Record<string, unknown> }) => {
              if (m.type === 'event' && m.event) this.onEvent(session, m.event, m.body ?? {});
            },
          };
        },
      }),
      vscode.debug.onDidTerminateDebugSession(s => {
        const run = this.runs.get(s.id);
        if (!run) return;
        run.ended = true;
        run.stops.clear();
        this.runs.delete(s.id);
        this.changed.fire(run);
      }),
      this.changed,
    );
  }

  run(session: vscode.DebugSession | undefined): RunModel | undefined {
    return session ? this.runs.get(session.id) : undefined;
  }

  /** The active Flyte Sandbox session's run, else the last one. */
  current(): RunModel | undefined {
    return this.run(vscode.debug.activeDebugSession) ?? this.last;
  }

  private onEvent(session: vscode.DebugSession, event: string, body: Record<string, unknown>): void {
    const run = this.runs.get(session.id);
    if (!run) return;
    switch (event) {
      case 'flyteSandbox/launched':
        run.launched = body as unknown as RunModel['launched'];
        break;
      case 'flyteSandbox/calls':
        for (const c of body.calls as CallSummary[]) run.calls.set(c.seq, c);
        break;
      case 'flyteSandbox/callSites':
        for (const [seq, line, column] of body.sites as [number, number, number][]) {
          const c = run.calls.get(seq);
          if (c) Object.assign(c, { line, column });
        }
        break;
      case 'flyteSandbox/rewound':
        for (const seq of [...run.calls.keys()]) if (seq >= (body.seq as number)) run.calls.delete(seq);
        break;
      case 'flyteSandbox/result':
        run.result = body as RunModel['result'];
        break;
      case 'stopped':
        run.stops.set(body.threadId as number, { threadId: body.threadId as number, reason: body.reason as string, description: (body.description as string) ?? '' });
        break;
      case 'continued':
        if (body.allThreadsContinued) run.stops.clear();
        else run.stops.delete(body.threadId as number);
        break;
      case 'thread':
        if (body.reason === 'exited') run.stops.delete(body.threadId as number);
        break;
      case 'terminated':
        run.stops.clear();
        break;
      default:
        return;
    }
    this.changed.fire(run);
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
  }
}
