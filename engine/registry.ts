/**
 * The explicit set of external functions a sandboxed task may call: the set
 * Flyte's bridge builds (`{**task_refs, **trace_refs, **durable_refs}`), plus
 * any names the run configuration adds (labelled: production would refuse
 * them). A call to anything else ends the run the way Flyte ends it.
 */
import type { FilePosition } from './python/module.ts';

export type EntryCategory = 'task' | 'trace' | 'durable' | 'config';

export interface RegistryEntry {
  /** The key the sandbox calls it by. */
  name: string;
  category: EntryCategory;
  /** A Flyte TaskTemplate: `flyte_map` uses flyte.map semantics for it, plain-callable semantics otherwise. */
  taskTemplate: boolean;
  /** Python's type name of an object without `.aio` (a plain function: 'function'); what flyte.map fails on before 2.5.6. */
  noAio?: string;
  /** What the object is ("Flyte task (@env.task)"). */
  what: string;
  /** Why it is registered ("referenced in the task body", "in tasks=[...]"). */
  reason: string;
  flyteName?: string;
  definedAt?: FilePosition;
}

/** A name the registry will refuse, with what we know about why. */
export interface RefusalHint {
  name: string;
  hint: string;
}

export const UNKNOWN_EXTERNAL = 'Sandboxed task called unknown external function: ';

const BUCKET_ORDER: Record<EntryCategory, number> = { task: 0, trace: 1, durable: 2, config: 3 };

export class Registry {
  readonly entries: ReadonlyMap<string, RegistryEntry>;

  constructor(entries: RegistryEntry[], private readonly hints: ReadonlyMap<string, string> = new Map(), readonly ignored: readonly RegistryEntry[] = []) {
    // Flyte merges the buckets in order task, trace, durable: a later bucket wins a duplicate key.
    const sorted = [...entries].sort((a, b) => BUCKET_ORDER[a.category] - BUCKET_ORDER[b.category]);
    this.entries = new Map(sorted.map(e => [e.name, e]));
  }

  get(name: string): RegistryEntry | undefined {
    return this.entries.get(name);
  }

  names(): string[] {
    return [...this.entries.keys()].sort();
  }

  /** Flyte's own `available` list for flyte_map's "not found" message. */
  available(): string {
    return this.names().join(', ') || '(none)';
  }

  withExtra(names: readonly string[]): Registry {
    const extra = names.filter(n => !this.entries.has(n)).map((n): RegistryEntry => ({
      name: n,
      category: 'config',
      taskTemplate: true,
      what: 'name added by the run configuration',
      reason: 'listed in "externals" (production would refuse this call: Flyte did not discover it)',
    }));
    return new Registry([...this.entries.values(), ...extra], this.hints, this.ignored);
  }

  /** Registered names close to `name` (a likely typo). */
  suggestions(name: string): string[] {
    return this.names().filter(n => n !== name && editDistance(n, name) <= Math.max(1, Math.floor(name.length / 4)));
  }

  /** Why a call to `name` is refused, beyond Flyte's own message. */
  refusalHint(name: string): string | undefined {
    const known = this.hints.get(name);
    if (known) return known;
    const near = this.suggestions(name);
    const registered = this.names();
    return `'${name}' is not a registered external of this task.${near.length ? ` Did you mean ${near.map(n => `'${n}'`).join(' or ')}?` : ''} Registered: ${registered.length ? registered.join(', ') : '(none)'}.`;
  }
}

function editDistance(a: string, b: string): number {
  const dp = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = dp[0]!;
    dp[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = dp[j]!;
      dp[j] = Math.min(dp[j]! + 1, dp[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return dp[b.length]!;
}
