/** `flyte-sandbox import-run RUN|URL --program FILE.py --out CASSETTE.json`: a production run as a cassette. */
import { relative } from 'node:path';
import { importProductionRun, UsageError, type ImportProgress } from '../engine/index.ts';
import { parseOptions } from './args.ts';

function progressLine(p: ImportProgress): string {
  if (p.stage === 'listing') return `listing actions: ${p.done}`;
  if (p.stage === 'listed') return `${p.done} calls to read`;
  return `reading calls: ${p.done}/${p.total ?? '?'}`;
}

export async function importRun(argv: string[], out: (s: string) => void): Promise<number> {
  const parsed = parseOptions(argv, {
    program: { type: 'string' }, task: { type: 'string' }, python: { type: 'string' }, project: { type: 'string' },
    domain: { type: 'string' }, config: { type: 'string' }, out: { type: 'string' }, json: { type: 'boolean', default: false },
  });
  const [run, ...rest] = parsed.positionals;
  const v = parsed.values;
  if (!run) throw new UsageError('import-run needs a run name or the run\'s URL');
  if (rest.length) throw new UsageError(`unexpected argument '${rest[0]}'`);
  if (!v.program) throw new UsageError('import-run needs --program FILE.py, the file with the sandboxed task the run ran');
  if (!v.out) throw new UsageError('import-run needs --out CASSETTE.json, where to write the cassette');
  // A counter on a terminal; whole lines elsewhere (a log, CI).
  const tty = process.stderr.isTTY === true;
  let last = '';
  const result = await importProductionRun({
    run, program: v.program, out: v.out, cwd: process.cwd(), pythonSettingName: '--python',
    ...(v.task ? { task: v.task } : {}), ...(v.python ? { python: v.python } : {}), ...(v.project ? { project: v.project } : {}),
    ...(v.domain ? { domain: v.domain } : {}), ...(v.config ? { config: v.config } : {}),
    onProgress: p => {
      last = progressLine(p);
      process.stderr.write(tty ? `\r${last}\x1b[K` : `${last}\n`);
    },
  });
  if (tty && last) process.stderr.write('\n');
  const c = result.cassette;
  const p = c.production!;
  for (const n of result.notes) process.stderr.write(`note: ${n}\n`);
  if (v.json) {
    out(JSON.stringify({ cassette: result.path, run: p.run, url: p.url, phase: p.phase, status: c.status, calls: c.calls.length, task: c.task, notes: result.notes }, null, 2));
  } else {
    out(`imported run ${p.run} (${p.phase}, ${p.project}/${p.domain}) of ${p.task ?? '?'}: ${c.calls.length} calls to ${relative(process.cwd(), result.path) || result.path}`);
    out(`  ${p.url}`);
    out(`replay it: flyte-sandbox run ${relative(process.cwd(), result.task.module.path)} --task ${c.task} --replay ${relative(process.cwd(), result.path)}`);
  }
  return 0;
}
