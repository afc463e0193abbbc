/**
 * Hover on an external call (or a flyte_map task name): the target's
 * signature, where it is defined, why Flyte registers it, how the launch
 * configuration answers it; and on any line with recorded calls, what they
 * returned in the last run.
 */
import type { Hover } from 'vscode-languageserver';
import { pathToFileURL } from 'node:url';
import { codeHash } from '../engine/cassette/format.ts';
import { externalSignature } from '../engine/check/signatures.ts';
import type { FilePosition } from '../engine/python/module.ts';
import { moduleLoader, type FileAnalysis } from './analysis.ts';
import { launchAnswers } from './launchAnswers.ts';
import type { LastRuns } from './lastRun.ts';
import { externalAt, spotAt } from './locate.ts';
import { toRange } from './positions.ts';
import { callLine, runOrigin, taskRun } from './runHints.ts';

const MAX_CALLS = 20;

function link(p: FilePosition): string {
  return `[${p.file.split('/').at(-1)}:${p.line}](${pathToFileURL(p.file).href}#L${p.line})`;
}

export async function hover(analysis: FileAnalysis, at: FilePosition, runs: LastRuns, options: { roots: string[]; lastRunHints: boolean }): Promise<Hover | null> {
  const spot = spotAt(analysis, at);
  if (!spot || !analysis.program) return null;
  const { ctx } = spot;
  const parts: string[] = [];
  let range;
  const ext = externalAt(spot);
  const entry = ext && ctx.task.registry.get(ext.name);
  if (ext && entry) {
    const sig = await externalSignature(entry, moduleLoader(analysis.program));
    parts.push('```python\n' + (sig?.text ?? `${entry.name}(...)`) + '\n```');
    parts.push(`**${entry.name}**: ${entry.what}${entry.flyteName ? ` \`${entry.flyteName}\`` : ''}${entry.definedAt ? `, defined at ${link(entry.definedAt)}` : ''}.`);
    parts.push(`Registered for \`${ctx.task.name}\`: ${entry.reason}.${ext.viaMap ? ` flyte_map runs it ${entry.taskTemplate ? 'with flyte.map (concurrency=0 is unlimited, return_exceptions=True)' : 'as a plain callable (sequential unless concurrency > 0, return_exceptions=False)'}.` : ''}`);
    const answers = launchAnswers(ctx.task.module.path, ctx.task, options.roots);
    parts.push(`**How a run answers it** (${answers.origin}):\n${answers.describe(entry.name).map(l => `- ${l}`).join('\n')}`);
    range = ctx.span(ext.node);
  }
  const run = options.lastRunHints ? runs.forTask(ctx.task.module.path, ctx.task.name) : undefined;
  if (run) {
    const tr = taskRun(ctx, run);
    const onLine = tr.sites.filter(s => s.start.line <= at.line && s.end.line >= at.line);
    const calls = onLine.flatMap(s => [...s.calls, ...s.items]).sort((a, b) => a.seq - b.seq);
    if (calls.length) {
      const shown = calls.slice(0, MAX_CALLS).map(c => `- ${callLine(c).replace(/`/g, "'")}`);
      if (calls.length > MAX_CALLS) shown.push(`- … and ${calls.length - MAX_CALLS} more`);
      parts.push(`**${runOrigin(run, tr.stale, codeHash(ctx.task.code))}**\n\nCalls on this line:\n${shown.join('\n')}`);
    }
  }
  if (!parts.length) return null;
  return { contents: { kind: 'markdown', value: parts.join('\n\n') }, ...(range ? { range: toRange(range.start, range.end) } : {}) };
}
