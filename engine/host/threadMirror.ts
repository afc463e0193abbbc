/**
 * What the parent knows of the debug runtime's threads from the call records
 * the runtime child sends: when no flyte_map item is pending, the thread
 * list is the main thread alone, and `threads` is answered at once, even
 * while the child is busy for seconds (loading a 50 MB inputs file, Monty
 * converting it into the sandbox): the client asks it constantly. With items
 * pending, the child names them (it knows each map's size). Exact at every
 * stop (the child sends its records before a stop); while the run goes, at
 * most one batch behind, as any answer about a running sandbox is.
 */
import { MAIN_THREAD, type ThreadInfo } from '../debug/api.ts';
import type { CallRecord } from '../run/outcome.ts';

export class ThreadMirror {
  private task: string | undefined;
  /** seqs of flyte_map items not finished */
  private readonly items = new Set<number>();

  launched(task: string): void {
    this.task = task;
  }

  record(r: CallRecord): void {
    if (r.mapParent === undefined) return;
    if (r.status === 'pending') this.items.add(r.seq);
    else this.items.delete(r.seq);
  }

  /** The thread list when it is the main thread alone (as `DebugRuntime.threads()` names it), else undefined. */
  threads(): ThreadInfo[] | undefined {
    return this.items.size ? undefined : [{ id: MAIN_THREAD, name: `${this.task ?? 'sandbox'} (sandbox)` }];
  }
}
