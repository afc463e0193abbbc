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

/** A JSON scalar as `toJson` writes it, or undefined for anything nested. */
function scalar(v: unknown): string | undefined {
  if (v === null || v === undefined) return 'null';
  switch (typeof v) {
    case 'number': return Number.isFinite(v) ? String(v) : undefined;
    case 'string': return JSON.stringify(v);
    case 'boolean': return v ? 'true' : 'false';
    case 'bigint': return v.toString();
    default: return undefined;
  }
}

/** `toJson(v, 2, level)`, with the common cases (scalars, an empty dict, a list of scalars) written directly. */
function valueJson(v: unknown, level: number): string {
  const s = scalar(v);
  if (s !== undefined) return s;
  if (Array.isArray(v) && v.length && v.length < 64) {
    const pad = ' '.repeat(2 * (level + 1));
    let out = '[\n';
    for (let i = 0; i < v.length; i++) {
      const x = scalar(v[i]);
      if (x === undefined) return toJson(v, 2, level);
      out += (i ? ',\n' : '') + pad + x;
    }
    return `${out}\n${' '.repeat(2 * level)}]`;
  }
  if (v instanceof Map ? v.size === 0 : typeof v === 'object' && v !== null && Object.getPrototypeOf(v) === Object.prototype && !hasKeys(v)) return '{}';
  return toJson(v, 2, level);
}

function hasKeys(o: object): boolean {
  for (const _ in o) return true;
  return false;
}

/** One call of the `--json` document's "calls" list. */
export function callJson(c: CallRecord): string {
  const error = c.error ? `{\n        "type": ${JSON.stringify(c.error.type)},\n        "message": ${JSON.stringify(c.error.message)}\n      }` : 'null';
  const ms = c.durationMs !== undefined ? String(Math.round(c.durationMs * 1000) / 1000) : 'null';
  return `    {
      "seq": ${c.seq},
      "function": ${JSON.stringify(c.function)},
      "args": ${c.args.length ? valueJson(c.args, 3) : '[]'},
      "kwargs": ${valueJson(c.kwargs, 3)},
      "status": "${c.status}",
      "result": ${c.status === 'returned' ? valueJson(c.result ?? null, 3) : 'null'},
      "error": ${error},
      "source": ${c.source ? `"${c.source}"` : 'null'},
      "mapParent": ${c.mapParent ?? 'null'},
      "mapIndex": ${c.mapIndex ?? 'null'},
      "durationMs": ${ms},
      "ref": ${c.ref ? toJson(new Map(Object.entries(c.ref)), 2, 3) : 'null'}
    }`;
}

/** The `--json` document up to its "calls" list. */
export function runJsonHead(result: RunResult): string {
  const e = result.error;
  const error = e ? toJson(new Map<string, unknown>([
    ['type', e.type],
    ['message', e.message],
    ['origin', e.origin],
    ['frames', e.frames.map(fr => new Map<string, unknown>([['file', fr.file], ['line', fr.line], ['column', fr.column], ['function', fr.function]]))],
    ['hint', e.hint ?? null],
    ['traceback', e.traceback ?? null],
  ]), 2, 1) : 'null';
  return `{\n  "status": ${JSON.stringify(result.status)},\n  "output": ${toJson(result.status === 'ok' ? result.output ?? null : null, 2, 1)},\n  "error": ${error},\n  "calls": `;
}

/** The `--json` document after its "calls" list (with the Flyte profile the run reproduced, when given). */
export function runJsonTail(result: RunResult, profile?: Map<string, unknown>): string {
  return `,\n  "stdout": ${JSON.stringify(result.stdout)}${profile ? `,\n  "profile": ${toJson(profile, 2, 1)}` : ''}\n}`;
}

/**
 * The `--json` document of a run (status, output, error, calls, stdout),
 * handed to `write` a call at a time (see cli/runDocument.ts for a run's
 * document built as it goes).
 */
export function writeRunJson(result: RunResult, write: (piece: string) => void, profile?: Map<string, unknown>): void {
  write(runJsonHead(result));
  const calls = result.calls;
  if (!calls.length) write('[]');
  else {
    write('[\n');
    for (let i = 0; i < calls.length; i++) write((i ? ',\n' : '') + callJson(calls[i]!));
    write('\n  ]');
  }
  write(runJsonTail(result, profile));
}

/** The whole `--json` document as one string (for short runs and tests). */
export function runJson(result: RunResult, profile?: Map<string, unknown>): string {
  const parts: string[] = [];
  writeRunJson(result, s => parts.push(s), profile);
  return parts.join('');
}
