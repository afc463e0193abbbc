/**
 * A file the debugger will write (a cassette), checked before the run
 * starts: a run that can only fail to be written at its end would lose what
 * it recorded.
 */
import { accessSync, constants, existsSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { UsageError } from './errors.ts';

export function checkWritableFile(path: string, where: string): void {
  if (existsSync(path)) {
    if (statSync(path).isDirectory()) throw new UsageError(`${path} is a folder; give the path of a file to write, e.g. ${path.replace(/\/+$/, '')}/cassette.json`, where);
    try {
      accessSync(path, constants.W_OK);
    } catch {
      throw new UsageError(`cannot write ${path} (permission denied)`, where);
    }
    return;
  }
  const dir = dirname(path);
  if (!existsSync(dir)) throw new UsageError(`no such folder: ${dir} (create it first)`, where);
  if (!statSync(dir).isDirectory()) throw new UsageError(`${dir} is not a folder`, where);
  try {
    accessSync(dir, constants.W_OK);
  } catch {
    throw new UsageError(`cannot create files in ${dir} (permission denied)`, where);
  }
}
