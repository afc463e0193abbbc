/**
 * The resolver chain: every external call is offered to each resolver in
 * turn (interactive hook → stub → cassette → forward); the first that answers
 * wins. A resolver answers synchronously when it can: the loop stays free of
 * promise overhead for stubbed calls.
 */
import { isThenable, type CallOutcome, type ExternalCall, type ResultSource } from './outcome.ts';

export interface Resolver {
  readonly source: ResultSource;
  /** An outcome, or undefined to pass the call on to the next resolver. */
  resolve(call: ExternalCall): CallOutcome | undefined | PromiseLike<CallOutcome | undefined>;
}

export class ResolverChain {
  constructor(readonly resolvers: readonly Resolver[]) {}

  resolve(call: ExternalCall): CallOutcome | undefined | Promise<CallOutcome | undefined> {
    for (let i = 0; i < this.resolvers.length; i++) {
      const r = this.resolvers[i]!.resolve(call);
      if (isThenable(r)) return this.continueAsync(r, call, i + 1);
      if (r) return r;
    }
    return undefined;
  }

  private async continueAsync(first: PromiseLike<CallOutcome | undefined>, call: ExternalCall, next: number): Promise<CallOutcome | undefined> {
    const r = await first;
    if (r) return r;
    for (let i = next; i < this.resolvers.length; i++) {
      const o = await this.resolvers[i]!.resolve(call);
      if (o) return o;
    }
    return undefined;
  }
}
