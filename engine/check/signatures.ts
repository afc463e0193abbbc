/**
 * The Python signatures of a task's registered externals, as written where
 * they are defined, and the type-check prefix built from them: what the code
 * inside the sandbox sees when it calls them. Inside the sandbox an external
 * returns its result (the bridge awaits coroutines), File/Dir/DataFrame are
 * tagged dicts, and an input is a value of its declared type.
 */
import type { SandboxTask } from '../extract/tasks.ts';
import { MAP_KWARGS } from '../run/flyteMap.ts';
import type { FilePosition, PythonModule } from '../python/module.ts';
import { field, namedChildren, type SyntaxNode } from '../python/parser.ts';
import type { RegistryEntry } from '../registry.ts';

export interface Signature {
  name: string;
  /** `def add(x: int, y: int) -> int` (with `async` when the definition has it). */
  text: string;
  /** `(x: int, y: int)` */
  parameters: string;
  returns?: string;
  isAsync: boolean;
  at: FilePosition;
}

export type ModuleLoader = (path: string) => Promise<PythonModule | undefined>;

/** The `def` that starts at (or is decorated at) a file position. */
export function definitionAt(module: PythonModule, at: FilePosition): SyntaxNode | undefined {
  const offset = module.lineStart(at.line) + at.column - 1;
  let node: SyntaxNode | null = module.root.descendantForIndex(offset);
  while (node && node.type !== 'function_definition') {
    if (node.type === 'decorated_definition') return field(node, 'definition') ?? undefined;
    node = node.parent;
  }
  return node ?? undefined;
}

export function signatureOf(module: PythonModule, def: SyntaxNode): Signature {
  const name = field(def, 'name')?.text ?? '?';
  const parameters = field(def, 'parameters')?.text ?? '()';
  const returns = field(def, 'return_type')?.text;
  const isAsync = def.text.startsWith('async');
  return {
    name,
    text: `${isAsync ? 'async ' : ''}def ${name}${parameters}${returns ? ` -> ${returns}` : ''}`,
    parameters,
    ...(returns ? { returns } : {}),
    isAsync,
    at: module.nodePosition(field(def, 'name') ?? def),
  };
}

/** The signature of a registered external, when it is a function defined in the workspace. */
export async function externalSignature(entry: RegistryEntry, load: ModuleLoader): Promise<Signature | undefined> {
  if (!entry.definedAt) return undefined;
  const module = await load(entry.definedAt.file);
  const def = module && definitionAt(module, entry.definedAt);
  if (!module || !def) return undefined;
  const sig = signatureOf(module, def);
  return sig.name === entry.name ? sig : { ...sig, name: entry.name, text: sig.text.replace(/def \w+/, `def ${entry.name}`) };
}

const HEADER = [
  'from typing import Any, TypeAlias',
  // Inside the sandbox an IO handle is the tagged dict _to_monty made of it.
  'File: TypeAlias = dict[str, Any]',
  'Dir: TypeAlias = dict[str, Any]',
  'DataFrame: TypeAlias = dict[str, Any]',
  'def __flyte_input() -> Any: ...',
  `def flyte_map(task_name: str, *iterables: Any, ${MAP_KWARGS.map(k => `${k}: Any = ...`).join(', ')}, **dropped: Any) -> list[Any]: ...`,
];

/** Type-check stubs for a task: its externals as plain functions returning their declared result, its inputs as declared. */
export async function typeCheckPrefix(task: SandboxTask, load: ModuleLoader): Promise<string> {
  const lines = [...HEADER];
  for (const entry of task.registry.entries.values()) {
    if (entry.name === 'flyte_map' || !/^[A-Za-z_]\w*$/.test(entry.name)) continue;
    const sig = await externalSignature(entry, load);
    if (sig) {
      // Parameters keep their own line breaks (and comments): inside parentheses Python does not mind.
      lines.push(`def ${entry.name}${sig.parameters} -> ${sig.returns ?? 'Any'}: ...`);
    } else {
      lines.push(`def ${entry.name}(*args: Any, **kwargs: Any) -> Any: ...`);
    }
  }
  for (const input of task.inputs) lines.push(`${input.name}: ${input.annotation || 'Any'} = __flyte_input()`);
  return lines.join('\n') + '\n';
}

/** The names a parameter list declares, for completion and hover. */
export function parameterNames(def: SyntaxNode): string[] {
  const params = field(def, 'parameters');
  return (params ? namedChildren(params) : []).map(p => (p.type === 'identifier' ? p.text : (field(p, 'name') ?? namedChildren(p).find(c => c.type === 'identifier'))?.text ?? '')).filter(Boolean);
}
