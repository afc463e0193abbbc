/**
 * From the user's settings (record, replay, recordMode, replayMismatch,
 * redact) to what a run needs: a resolver that replays, a recorder, or both.
 *
 * recordMode (as VCR, Polly.js and nock users know them):
 *   once          replay the cassette if it exists, else record it
 *   new_episodes  replay what matches (in any order), record everything to the same file
 *   none          replay only
 *   all           always record (overwrite)
 * Without recordMode: `replay` alone is `none`, `record` alone is `all`, both
 * replay one file and record to the other.
 */
import { existsSync } from 'node:fs';
import { UsageError } from '../errors.ts';
import type { SandboxTask } from '../extract/tasks.ts';
import { codeHash, readCassette } from './format.ts';
import type { SignatureLookup } from './matcher.ts';
import { parseRedactPath } from './redact.ts';
import { CassetteRecorder } from './recorder.ts';
import { CassetteResolver, type ReplayMismatch } from '../resolvers/cassette.ts';

export type RecordMode = 'once' | 'new_episodes' | 'none' | 'all';
export const RECORD_MODES: RecordMode[] = ['once', 'new_episodes', 'none', 'all'];

export interface CassetteOptions {
  record?: string;
  replay?: string;
  recordMode?: RecordMode;
  replayMismatch?: ReplayMismatch;
  redact?: string[];
}

export interface CassetteSetup {
  resolver?: CassetteResolver;
  recorder?: CassetteRecorder;
}

export function checkCassetteOptions(o: CassetteOptions, attribute: (name: string) => string = n => n): void {
  if (o.recordMode !== undefined && !RECORD_MODES.includes(o.recordMode)) throw new UsageError(`expected one of ${RECORD_MODES.join(', ')}, got ${JSON.stringify(o.recordMode)}`, attribute('recordMode'));
  if (o.recordMode !== undefined && !o.record && !o.replay) throw new UsageError('needs a cassette path in record or replay', attribute('recordMode'));
  if (o.replayMismatch !== undefined && o.replayMismatch !== 'stop' && o.replayMismatch !== 'fallthrough') throw new UsageError(`expected "stop" or "fallthrough", got ${JSON.stringify(o.replayMismatch)}`, attribute('replayMismatch'));
  for (const p of o.redact ?? []) parseRedactPath(p);
}

export function setUpCassette(o: CassetteOptions, task: SandboxTask, inputs: Record<string, unknown>, notice: (text: string) => void, signatures?: SignatureLookup): CassetteSetup {
  const mismatch = o.replayMismatch ?? 'stop';
  const replayFrom = (path: string, ordered: boolean, fallthrough: boolean): CassetteResolver => {
    const cassette = readCassette(path);
    if (cassette.task !== task.name) notice(`cassette ${path} was recorded for task ${cassette.task}, not ${task.name}`);
    if (cassette.production) notice(`cassette ${path}: production run ${cassette.production.run} (${cassette.production.phase}, ${cassette.production.startedAt ?? 'start unknown'}): each call is answered with what production returned`);
    else if (cassette.codeHash !== codeHash(task.code)) notice(`cassette ${path}: the task's code changed since it was recorded (${cassette.recordedAt}); calls are still matched one by one`);
    return new CassetteResolver(cassette, { mismatch: fallthrough ? 'fallthrough' : mismatch, ordered, notice, ...(signatures ? { signatures } : {}) });
  };
  const recorder = (path: string) => new CassetteRecorder(path, task, inputs, o.redact ?? []);
  const path = o.replay ?? o.record;
  switch (o.recordMode) {
    case 'once':
      return existsSync(path!) ? { resolver: replayFrom(path!, true, false) } : { recorder: recorder(path!) };
    case 'new_episodes':
      return existsSync(path!) ? { resolver: replayFrom(path!, false, true), recorder: recorder(path!) } : { recorder: recorder(path!) };
    case 'none':
      return { resolver: replayFrom(path!, true, false) };
    case 'all':
      return { recorder: recorder(path!) };
    default:
      return {
        ...(o.replay ? { resolver: replayFrom(o.replay, true, false) } : {}),
        ...(o.record ? { recorder: recorder(o.record) } : {}),
      };
  }
}
