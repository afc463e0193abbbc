/**
 * `import-run`: read a production run with flyte (in the user's interpreter,
 * python/flyte_worker.py, through the forwarding worker's process
 * management) and write it as a cassette to replay locally. Read-only: no run
 * is created or changed. Nothing is written unless the whole import succeeds.
 */
import { dirname, resolve } from 'node:path';
import { writeCassette, type Cassette } from '../cassette/format.ts';
import { externalsOf } from '../cassette/signatures.ts';
import { UsageError } from '../errors.ts';
import type { SandboxTask } from '../extract/tasks.ts';
import { PythonWorker, WorkerError, type WorkerReply } from '../forward/pythonWorker.ts';
import { loadProgram } from '../program.ts';
import type { RunDump } from './dump.ts';
import { parseRunRef, type RunRef } from './runRef.ts';
import { productionCassette } from './toCassette.ts';

export interface ImportOptions {
  /** A run name, or the run's URL as the Flyte UI shows it. */
  run: string;
  /** The Python file with the sandboxed task the run ran. */
  program: string;
  task?: string;
  out: string;
  python?: string;
  /** How messages name where `python` is set ("--python"). */
  pythonSettingName?: string;
  project?: string;
  domain?: string;
  /** A Flyte config file; default: flyte's own lookup from `cwd`. */
  config?: string;
  cwd?: string;
  onProgress?: (p: ImportProgress) => void;
  signal?: AbortSignal;
}

export interface ImportProgress {
  stage: 'listing' | 'listed' | 'reading';
  done: number;
  total?: number;
}

export interface ImportResult {
  cassette: Cassette;
  path: string;
  ref: RunRef;
  task: SandboxTask;
  notes: string[];
}

/** The failure categories flyte_worker.py names, as the user reads them. */
function failureMessage(run: string, reply: Extract<WorkerReply, { ok: false }>, pythonSetting: string): string {
  switch (reply.type) {
    case 'NoFlyte':
      return `cannot import run ${run}: ${reply.message}: ${pythonSetting}`;
    case 'NoConfig':
    case 'NotFound':
    case 'PermissionDenied':
    case 'Unauthenticated':
    case 'Unavailable':
      return `cannot import run ${run}: ${reply.message}`;
    default:
      return `cannot import run ${run}: flyte raised ${reply.type}: ${reply.message}`;
  }
}

function pickTask(tasks: SandboxTask[], wanted: string | undefined, ran: string | null, file: string, find: (name?: string) => SandboxTask): SandboxTask {
  if (wanted !== undefined) return find(wanted);
  const byFlyteName = tasks.find(t => t.flyteName === ran);
  if (byFlyteName) return byFlyteName;
  if (tasks.length === 1) return tasks[0]!;
  throw new UsageError(`the run ran ${ran ?? 'an unknown task'}, and none of the sandboxed tasks here has that Flyte name (${tasks.map(t => `${t.name} (${t.flyteName})`).join(', ')}): say which with --task`, file);
}

export async function importProductionRun(o: ImportOptions): Promise<ImportResult> {
  const ref = parseRunRef(o.run);
  const program = await loadProgram(o.program);
  if (!program.tasks.length) program.findTask();
  const out = resolve(o.cwd ?? process.cwd(), o.out);
  const pythonSetting = `set ${o.pythonSettingName ?? 'the "python" setting'} to the interpreter where flyte is installed`;
  const worker = new PythonWorker({
    script: 'flyte_worker.py',
    ...(o.python ? { python: o.python } : {}),
    pythonSettingName: o.pythonSettingName ?? 'the "python" setting',
    ...(o.cwd ? { cwd: o.cwd } : {}),
    timeoutMs: 0,
  });
  let reply: WorkerReply;
  try {
    reply = await worker.request({
      op: 'import_run', label: `reading run ${ref.run}`, run: ref.run,
      project: o.project ?? ref.project, domain: o.domain ?? ref.domain, config: o.config, rootDir: dirname(program.file),
    }, {
      ...(o.signal ? { signal: o.signal } : {}),
      onEvent: e => {
        const p = e as { kind?: string; stage?: ImportProgress['stage']; done?: number; total?: number };
        if (p.kind === 'progress' && p.stage && typeof p.done === 'number') o.onProgress?.({ stage: p.stage, done: p.done, ...(typeof p.total === 'number' ? { total: p.total } : {}) });
      },
    });
  } catch (e) {
    if (e instanceof WorkerError) throw new UsageError(`cannot import run ${ref.run}: ${e.message}`);
    throw e;
  } finally {
    worker.dispose();
  }
  if (!reply.ok) throw new UsageError(failureMessage(ref.run, reply, pythonSetting));
  const dump = reply.value as unknown as RunDump;
  const task = pickTask(program.tasks, o.task, dump.run.taskName, o.program, name => program.findTask(name));
  const built = productionCassette(dump, task, await externalsOf(task), out);
  writeCassette(out, built.cassette);
  return { cassette: built.cassette, path: out, ref, task, notes: built.notes };
}
