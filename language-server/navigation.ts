/**
 * Go to definition from an external call or a `flyte_map("name"` string to
 * the task, and find every use of a task across the sandboxed tasks of the
 * workspace (calls and flyte_map names whose registry entry is that task).
 */
import type { Location } from 'vscode-languageserver';
import { pathToFileURL } from 'node:url';
import { externalSignature } from '../engine/check/signatures.ts';
import type { FilePosition } from '../engine/python/module.ts';
import type { SyntaxNode } from '../engine/python/parser.ts';
import { moduleLoader, type FileAnalysis } from './analysis.ts';
import { externalAt, spotAt } from './locate.ts';
import { nodeSpan, offsetOf, toRange } from './positions.ts';
import type { TaskContext } from './taskContext.ts';

export interface Target {
  name: string;
  /** The definition: file and line of the `def` (or assignment). */
  file: string;
  line: number;
  /** The name to jump to. */
  start: FilePosition;
  end: FilePosition;
}

function location(start: FilePosition, end: FilePosition): Location {
  return { uri: pathToFileURL(start.file).href, range: toRange(start, end) };
}

/** What the position names: an external of a task, or a task's own definition in this file. */
export async function targetAt(analysis: FileAnalysis, at: FilePosition): Promise<Target | undefined> {
  const program = analysis.program;
  if (!program) return undefined;
  const spot = spotAt(analysis, at);
  if (spot) {
    const ext = externalAt(spot);
    if (!ext) return undefined;
    let entry = spot.ctx.task.registry.get(ext.name);
    let definedAt = entry?.definedAt;
    if (!definedAt) {
      const info = await spot.ctx.resolver.classify(spot.ctx.task.module, ext.name);
      definedAt = info?.definedAt;
      entry = undefined;
    }
    if (!definedAt) return undefined;
    const sig = entry ? await externalSignature(entry, moduleLoader(program)) : undefined;
    const start = sig?.at ?? definedAt;
    return { name: ext.name, file: definedAt.file, line: definedAt.line, start, end: { ...start, column: start.column + (sig ? sig.name.length : 1) } };
  }
  // On a definition in the file: the name of a `def` (any task, sandboxed or not).
  const module = program.module;
  const node: SyntaxNode | null = module.root.descendantForIndex(offsetOf(module, at));
  if (node?.type !== 'identifier' || node.parent?.type !== 'function_definition' || node.parent.childForFieldName('name')?.id !== node.id) return undefined;
  const def = node.parent;
  const { start, end } = nodeSpan(module, node);
  return { name: node.text, file: module.path, line: module.position(def.startIndex).line, start, end };
}

export async function definition(analysis: FileAnalysis, at: FilePosition): Promise<Location | null> {
  if (!spotAt(analysis, at)) return null;
  const t = await targetAt(analysis, at);
  return t ? location(t.start, t.end) : null;
}

/** Every call of the target, and every flyte_map naming it, in one file's sandboxed tasks. */
export function usesIn(contexts: TaskContext[], target: Target): Location[] {
  const out: Location[] = [];
  for (const ctx of contexts) {
    const byName = new Map<string, boolean>();
    const isTarget = (name: string) => {
      if (!byName.has(name)) {
        const e = ctx.task.registry.get(name);
        byName.set(name, !!e?.definedAt && e.definedAt.file === target.file && e.definedAt.line === target.line);
      }
      return byName.get(name)!;
    };
    for (const use of ctx.uses) {
      if (use.kind === 'call' && use.name !== 'flyte_map' && isTarget(use.name)) {
        const r = ctx.span(use.node);
        out.push(location(r.start, r.end));
      }
      if (use.kind === 'call' && use.name === 'flyte_map') {
        const first = use.node.parent?.childForFieldName('arguments')?.namedChildren[0];
        const content = first?.type === 'string' ? first.namedChildren.find(c => c?.type === 'string_content') : undefined;
        if (content && isTarget(content.text)) {
          const r = ctx.span(content);
          out.push(location(r.start, r.end));
        }
      }
    }
  }
  return out;
}

export function declaration(target: Target): Location {
  return location(target.start, target.end);
}
