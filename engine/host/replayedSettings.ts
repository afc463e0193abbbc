/**
 * What a client has configured on a runtime in a child process (its launch,
 * breakpoints of every kind, exception filters, stubs set while debugging,
 * whether it follows values), kept so that a fresh child can be set up the
 * same way: `RemoteRuntime` replaces a child held by a runaway sandbox with
 * one that replays the run to where it was (see `pause`).
 */
export type Send = (method: string, ...args: unknown[]) => Promise<unknown>;

export class ReplayedSettings {
  launch: Record<string, unknown> | undefined;
  configured = false;
  private functionBreakpoints: unknown[] | undefined;
  private readonly lineBreakpoints = new Map<string, unknown[]>();
  private exceptionFilters: unknown[] | undefined;
  private dataBreakpoints: unknown[] | undefined;
  private readonly stubs = new Map<string, string | undefined>();
  private following: boolean | undefined;

  /** Remember a request that configures the runtime (others are ignored). */
  note(method: string, args: unknown[]): void {
    switch (method) {
      case 'launch': this.launch = args[0] as Record<string, unknown>; break;
      case 'configurationDone': this.configured = true; break;
      case 'setFunctionBreakpoints': this.functionBreakpoints = args[0] as unknown[]; break;
      case 'setLineBreakpoints': this.lineBreakpoints.set(args[0] as string, args[1] as unknown[]); break;
      case 'setExceptionFilters': this.exceptionFilters = args[0] as unknown[]; break;
      case 'setDataBreakpoints': this.dataBreakpoints = args[0] as unknown[]; break;
      case 'setStub': this.stubs.set(args[0] as string, args[1] as string | undefined); break;
      case 'follow': this.following = args[0] as boolean; break;
      default: break;
    }
  }

  /** Set a fresh runtime up as this one was, up to (not including) configurationDone. */
  async apply(send: Send): Promise<void> {
    if (!this.launch) throw new Error('nothing was launched');
    await send('launch', this.launch);
    if (this.following !== undefined) await send('follow', this.following);
    for (const [name, expression] of this.stubs) await send('setStub', name, expression);
    if (this.functionBreakpoints) await send('setFunctionBreakpoints', this.functionBreakpoints);
    for (const [file, specs] of this.lineBreakpoints) await send('setLineBreakpoints', file, specs);
    if (this.exceptionFilters) await send('setExceptionFilters', this.exceptionFilters);
    // A data breakpoint names a local of a frame of the run; the replayed run has the same frames.
    if (this.dataBreakpoints) await send('setDataBreakpoints', this.dataBreakpoints).catch(() => undefined);
  }
}
