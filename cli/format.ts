/** How the CLI shows a program, a run and a failure: readable text, or the `--json` document. */
import { relative } from 'node:path';
import type { CallRecord, Program, RunResult, SandboxFailure, SandboxTask } from '../engine/index.ts';
import { pyRepr, toJson } from '../engine/index.ts';
import { formatTraceback } from '../engine/run/traceback.ts';
import { engineMontyVersion, type ProfileChoice } from '../engine/index.ts';

const rel = (file: string) => relative(process.cwd(), file) || file;

export function describeProgram(program: Program): string {
  const lines: string[] = [rel(program.file)];
  if (program.syntaxWarning) lines.push(`  warning: Python cannot parse this file near line ${program.syntaxWarning.line}; Flyte would fail to import it`);
  if (!program.tasks.length) lines.push('  no sandboxed tasks');
  for (const t of program.tasks) lines.push('', ...describeTask(t));
  if (program.unreadable.length) {
    lines.push('', `  sandbox calls seen but not readable by the debugger (${program.unreadable.length}):`);
    for (const u of program.unreadable) lines.push(`    line ${u.at.line}: ${u.call}: ${u.reason}${u.assignedTo.length ? ` (gives ${u.assignedTo.join(', ')})` : ''}`);
  }
  return lines.join('\n');
}

const KIND_LABELS = { 'code-string': 'orchestrator_from_str', 'one-shot': 'orchestrate_local, one-shot' } as const;

function describeTask(t: SandboxTask): string[] {
  const lines = [`  ${t.name}  (line ${t.at.line}; Flyte name ${t.flyteName}; ${t.kind === 'decorated' ? `${t.isAsync ? 'async ' : ''}@sandbox.orchestrator` : KIND_LABELS[t.kind]})`];
  lines.push(`    inputs:  ${t.inputs.length ? t.inputs.map(i => `${i.annotation ? `${i.name}: ${i.annotation}` : i.name}${i.default ? ` = ${i.default.text}` : ''}`).join(', ') : '(none)'}`);
  if (t.outputs.length) lines.push(`    output:  ${t.outputs.join(', ')}`);
  const entries = [...t.registry.entries.values()];
  lines.push(`    externals it may call (${entries.length}):`);
  for (const e of entries) lines.push(`      ${e.name.padEnd(18)} ${e.what}${e.definedAt ? ` at ${rel(e.definedAt.file)}:${e.definedAt.line}` : ''}; ${e.reason}`);
  if (!entries.length) lines.push(t.profile.fastPath ? '      (none: Flyte runs it with Monty.run(), without its bridge: a call to any other function is a NameError, and nothing is marshaled)' : '      (none: every call to another function is refused)');
  if (t.registry.ignored.length) {
    lines.push('    seen in the body but not registered by Flyte:');
    for (const e of t.registry.ignored) lines.push(`      ${e.name.padEnd(18)} ${e.what}`);
  }
  for (const d of t.definitionErrors) {
    lines.push(d.raisedBy
      ? `    error: ${d.type}: ${d.message} (${rel(d.at.file)}:${d.at.line}, in ${d.raisedBy}); importing the file stops there, so Flyte cannot load this task either`
      : `    error: ${d.type}: ${d.message} (${rel(d.at.file)}:${d.at.line}); ${d.importTime ? 'Flyte fails to define this task' : 'production fails when the call runs'}`);
  }
  const declared = Object.entries(t.declared);
  if (declared.length) lines.push(`    declared (not enforced by Flyte): ${declared.map(([k, v]) => `${k}=${String(v)}`).join(', ')}`);
  return lines;
}

/** The Flyte profile a run reproduces, for --json. */
export function profileJson(choice: ProfileChoice): Map<string, unknown> {
  return new Map<string, unknown>([
    ['id', choice.profile.id],
    ['label', choice.profile.label],
    ['productionMonty', choice.profile.montyPin],
    ['engineMonty', engineMontyVersion()],
    ['reason', choice.reason],
    ['warning', choice.warning ?? null],
  ]);
}

export function programJson(program: Program, profile?: Map<string, unknown>): string {
  return toJson(new Map<string, unknown>([
    ['file', program.file],
    ...(profile ? [['profile', profile] as [string, unknown]] : []),
    ['tasks', program.tasks.map(t => new Map<string, unknown>([
      ['name', t.name],
      ['flyteName', t.flyteName],
      ['kind', t.kind],
      ['async', t.isAsync],
      ['line', t.at.line],
      ['inputs', t.inputs.map(i => new Map<string, unknown>([['name', i.name], ['annotation', i.annotation ?? null], ['default', i.default ? i.default.text : null]]))],
      ['outputs', t.outputs],
      ['externals', [...t.registry.entries.values()].map(e => new Map<string, unknown>([['name', e.name], ['category', e.category], ['what', e.what], ['reason', e.reason], ['flyteName', e.flyteName ?? null], ['line', e.definedAt?.line ?? null], ['file', e.definedAt?.file ?? null]]))],
      ['ignored', t.registry.ignored.map(e => new Map([['name', e.name], ['what', e.what]]))],
      ['definitionErrors', t.definitionErrors.map(d => new Map<string, unknown>([['type', d.type], ['message', d.message], ['line', d.at.line], ['raisedBy', d.raisedBy ?? null]]))],
      ['declared', new Map(Object.entries(t.declared))],
    ]))],
    ['unreadable', program.unreadable.map(u => new Map<string, unknown>([['line', u.at.line], ['call', u.call], ['reason', u.reason], ['assignedTo', u.assignedTo]]))],
  ]), 2);
}

export function callLine(c: CallRecord): string {
  const args = [...c.args.map(a => pyRepr(a)), ...Object.entries(c.kwargs).map(([k, v]) => `${k}=${pyRepr(v)}`)].join(', ');
  const indent = c.mapParent !== undefined ? `    [${c.mapIndex}] ` : '  ';
  const head = `${indent}#${c.seq} ${c.function}(${truncate(args, 120)})`;
  const tail = c.status === 'returned' ? `-> ${truncate(pyRepr(c.result), 120)}` : c.status === 'raised' ? `raised ${c.error!.type}: ${c.error!.message}` : c.status;
  const timing = c.durationMs !== undefined ? `${c.durationMs.toFixed(2)} ms` : '';
  const ref = c.ref ? ` ${c.ref.kind === 'production' ? 'production action' : 'run'} ${c.ref.name}` : '';
  return `${head} ${tail}  [${c.source ?? '-'}${ref}${timing ? ', ' + timing : ''}]`;
}

function truncate(s: string, n: number): string {
  return s.length > n ? s.slice(0, n - 1) + '…' : s;
}

export function formatFailure(f: SandboxFailure): string {
  return formatTraceback(f, rel);
}

export function runJson(result: RunResult, profile?: Map<string, unknown>): string {
  const frames = (f: SandboxFailure) => f.frames.map(fr => new Map<string, unknown>([['file', fr.file], ['line', fr.line], ['column', fr.column], ['function', fr.function]]));
  const doc = new Map<string, unknown>([
    ['status', result.status],
    ['output', result.status === 'ok' ? result.output ?? null : null],
    ['error', result.error ? new Map<string, unknown>([
      ['type', result.error.type],
      ['message', result.error.message],
      ['origin', result.error.origin],
      ['frames', frames(result.error)],
      ['hint', result.error.hint ?? null],
      ['traceback', result.error.traceback ?? null],
    ]) : null],
    ['calls', result.calls.map(c => new Map<string, unknown>([
      ['seq', c.seq],
      ['function', c.function],
      ['args', c.args],
      ['kwargs', c.kwargs],
      ['status', c.status],
      ['result', c.status === 'returned' ? c.result ?? null : null],
      ['error', c.error ? new Map([['type', c.error.type], ['message', c.error.message]]) : null],
      ['source', c.source ?? null],
      ['mapParent', c.mapParent ?? null],
      ['mapIndex', c.mapIndex ?? null],
      ['durationMs', c.durationMs !== undefined ? Math.round(c.durationMs * 1000) / 1000 : null],
      ['ref', c.ref ? new Map(Object.entries(c.ref)) : null],
    ]))],
    ['stdout', result.stdout],
    ...(profile ? [['profile', profile] as [string, unknown]] : []),
  ]);
  return toJson(doc, 2);
}
